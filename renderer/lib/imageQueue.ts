/**
 * Spreads thumbnail loads over animation frames. A virtual grid that jumps (scrollbar drag,
 * End key) needs a whole screen of new thumbnails at once; starting all of them in one frame
 * means ~100 requests and WebP decodes competing with that frame (and the core serving them)
 * for the CPU, i.e. a long frame. The queue starts at most `perFrame` loads per frame, the
 * cells nearest the top of the viewport first, and forgets cells that scrolled away before
 * their turn (their images are never fetched).
 *
 * Use as a Svelte action: `<img use:queue.load={{ src, index }} />` (no src attribute: hide
 * `img:not([src])` so the alt text does not flash).
 */
export interface QueuedImage {
  src: string;
  /** Position in the grid, for priority (see `focus`). */
  index: number;
}

interface Pending {
  img: HTMLImageElement;
  src: string;
  index: number;
}

const frame: (cb: () => void) => unknown =
  typeof globalThis.requestAnimationFrame === 'function' ? (cb) => globalThis.requestAnimationFrame(cb) : (cb) => setTimeout(cb, 16);

export class ImageQueue {
  private pending = new Set<Pending>();
  private scheduled = false;
  /** The first visible index: loads start there and go down, then the rows above it. */
  focus = 0;

  constructor(readonly perFrame = 12) {}

  get size(): number {
    return this.pending.size;
  }

  /** Svelte action. */
  load = (img: HTMLImageElement, params: QueuedImage): { update(p: QueuedImage): void; destroy(): void } => {
    let entry: Pending | null = null;
    const set = (p: QueuedImage) => {
      if (entry) this.pending.delete(entry);
      entry = { img, src: p.src, index: p.index };
      this.pending.add(entry);
      this.schedule();
    };
    set(params);
    return {
      update: (p) => {
        if (p.src !== img.getAttribute('src')) set(p);
      },
      destroy: () => {
        if (entry) this.pending.delete(entry);
        entry = null;
      },
    };
  };

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    frame(() => this.drain());
  }

  private rank(index: number): number {
    return index >= this.focus ? index - this.focus : 1e9 + (this.focus - index);
  }

  private drain(): void {
    this.scheduled = false;
    let batch = [...this.pending];
    if (batch.length > this.perFrame) batch = batch.sort((a, b) => this.rank(a.index) - this.rank(b.index)).slice(0, this.perFrame);
    for (const p of batch) {
      this.pending.delete(p);
      p.img.src = p.src;
    }
    if (this.pending.size) this.schedule();
  }
}
