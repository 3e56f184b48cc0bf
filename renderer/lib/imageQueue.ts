/**
 * Thumbnail loading for the virtual grid, kept off the frames that scroll it.
 *
 * A Chromium trace of the 50,000-image scroll (bench/ui.ts) showed that the frames over 50 ms
 * were not script or layout: the frame was waiting for thumbnail decodes (WebP, on the raster
 * workers), because every cell that changed started its load at once and the tiles showing
 * those images could not be drawn before their images were decoded. So:
 *
 * - a cell shows its placeholder until its image is decoded: `img.decode()` first, then the
 *   `ready` class makes it visible, so drawing a frame never waits for a decode;
 * - at most `concurrency` images load and decode at a time, the cells nearest the top of the
 *   viewport (`focus`) first; a cell that changes or scrolls away before its turn is dropped
 *   and its image never fetched. The grid lowers it while the user scrolls (decodes compete
 *   with the frames for the CPU) and raises it when the scroll stops (nothing to keep smooth,
 *   and the screen fills sooner);
 * - `hold(true)` (a scroll jump, until the scroll settles) starts nothing: the images of rows
 *   the user only flies past are not worth a fetch and a decode each.
 *
 * Use as a Svelte action on a persistent <img>: `<img use:queue.load={{ src, index }} />` with
 * `src: null` for a cell without an image, and hide `img:not(.ready)`.
 */
export interface QueuedImage {
  /** null: show the placeholder. */
  src: string | null;
  /** Position in the grid, for priority (see `focus`). */
  index: number;
}

/** The part of an <img> the queue uses (structural: this module also type-checks without the DOM lib). */
export interface ThumbImage {
  src: string;
  classList: { add(token: string): void; remove(token: string): void };
  removeAttribute(name: string): void;
  decode?(): Promise<void>;
}

interface Job {
  img: ThumbImage;
  src: string;
  index: number;
}

/** The class that makes a decoded image visible. */
export const READY = 'ready';

const raf = (globalThis as { requestAnimationFrame?: (cb: () => void) => unknown }).requestAnimationFrame;
const frame: (cb: () => void) => unknown = typeof raf === 'function' ? (cb) => raf(cb) : (cb) => setTimeout(cb, 16);

export class ImageQueue {
  private waiting = new Set<Job>();
  private active = new Set<Job>();
  private held = false;
  private scheduled = false;
  /** The first visible index: loads start there and go down, then the rows above it. */
  focus = 0;

  constructor(private concurrency = 4) {}

  /** How many images may load and decode at once from now on. */
  setConcurrency(n: number): void {
    const more = n > this.concurrency;
    this.concurrency = Math.max(1, n);
    if (more) this.schedule();
  }

  /** Images waiting for their turn. */
  get pending(): number {
    return this.waiting.size;
  }

  /** Images being fetched or decoded. */
  get loading(): number {
    return this.active.size;
  }

  get isHeld(): boolean {
    return this.held;
  }

  hold(on: boolean): void {
    if (this.held === on) return;
    this.held = on;
    if (!on) this.schedule();
  }

  /** Svelte action. */
  load = (img: ThumbImage, params: QueuedImage): { update(p: QueuedImage): void; destroy(): void } => {
    let want: string | null = null;
    let job: Job | null = null;
    const drop = () => {
      if (!job) return;
      this.waiting.delete(job);
      if (this.active.delete(job)) this.schedule();
      job = null;
    };
    const set = (p: QueuedImage) => {
      if (job) job.index = p.index;
      if (p.src === want) return;
      drop();
      want = p.src;
      // Cleared at once, not when the next image arrives: a recycled cell must not show the
      // image of the item it showed before.
      img.classList.remove(READY);
      img.removeAttribute('src');
      if (want === null) return;
      job = { img, src: want, index: p.index };
      this.waiting.add(job);
      this.schedule();
    };
    set(params);
    return { update: set, destroy: drop };
  };

  private schedule(): void {
    if (this.scheduled || this.held) return;
    this.scheduled = true;
    frame(() => this.drain());
  }

  private rank(index: number): number {
    return index >= this.focus ? index - this.focus : 1e9 + (this.focus - index);
  }

  private drain(): void {
    this.scheduled = false;
    if (this.held) return;
    const free = this.concurrency - this.active.size;
    if (free <= 0 || this.waiting.size === 0) return;
    const next = [...this.waiting].sort((a, b) => this.rank(a.index) - this.rank(b.index)).slice(0, free);
    for (const job of next) this.start(job);
  }

  private start(job: Job): void {
    this.waiting.delete(job);
    this.active.add(job);
    const finish = (ok: boolean) => {
      // Not active any more: the cell moved on to another image (whose job this is not).
      if (!this.active.delete(job)) return;
      // A thumbnail that fails (missing file) keeps the placeholder rather than alt text.
      if (ok) job.img.classList.add(READY);
      this.schedule();
    };
    job.img.src = job.src;
    if (typeof job.img.decode === 'function') {
      job.img.decode().then(
        () => finish(true),
        () => finish(false),
      );
    } else {
      // No decode() (jsdom): nothing to keep off the frame.
      finish(true);
    }
  }
}
