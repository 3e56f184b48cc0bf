/**
 * Selection over an ordered list of `count` items addressed by index (the grid's sort order).
 * Pure state machine: the grid feeds it clicks and key moves and reads back `focus`/`has()`.
 * Indices, not ids, so ranges and "select all" work before every page of ids is loaded.
 */
export interface ClickModifiers {
  shift?: boolean;
  toggle?: boolean; // Ctrl on Linux/Windows, Cmd on macOS
}

export class Selection {
  private selected = new Set<number>();
  /** Where a Shift range starts. */
  anchor: number | null = null;
  /** The keyboard cursor. */
  focus: number | null = null;
  private version = 0;

  constructor(public count = 0) {}

  /** Bumped on every change; lets reactive wrappers notice. */
  get rev(): number {
    return this.version;
  }

  get size(): number {
    return this.selected.size;
  }

  has(index: number): boolean {
    return this.selected.has(index);
  }

  /** Selected indices in ascending order. */
  indices(): number[] {
    return [...this.selected].sort((a, b) => a - b);
  }

  setCount(count: number): void {
    this.count = count;
    for (const i of this.selected) if (i >= count) this.selected.delete(i);
    if (this.focus !== null && this.focus >= count) this.focus = count > 0 ? count - 1 : null;
    if (this.anchor !== null && this.anchor >= count) this.anchor = this.focus;
    this.version++;
  }

  clear(): void {
    this.selected.clear();
    this.anchor = this.focus;
    this.version++;
  }

  selectAll(): void {
    this.selected = new Set(Array.from({ length: this.count }, (_, i) => i));
    this.version++;
  }

  /** Mouse click (or Enter-less keyboard "select this") on `index`. */
  click(index: number, mods: ClickModifiers = {}): void {
    if (index < 0 || index >= this.count) return;
    if (mods.shift && this.anchor !== null) {
      const keep = mods.toggle ? new Set(this.selected) : new Set<number>();
      const [a, b] = this.anchor <= index ? [this.anchor, index] : [index, this.anchor];
      for (let i = a; i <= b; i++) keep.add(i);
      this.selected = keep;
      this.focus = index;
    } else if (mods.toggle) {
      if (this.selected.has(index)) this.selected.delete(index);
      else this.selected.add(index);
      this.anchor = index;
      this.focus = index;
    } else {
      this.selected = new Set([index]);
      this.anchor = index;
      this.focus = index;
    }
    this.version++;
  }

  /**
   * Move the cursor by `delta` (±1 for left/right, ±columns for up/down). With `extend`
   * (Shift-arrows) the selection becomes the range anchor..focus; without, it follows the cursor.
   */
  move(delta: number, extend = false): void {
    if (this.count === 0) return;
    const to = this.focus === null ? (delta > 0 ? 0 : this.count - 1) : Math.max(0, Math.min(this.count - 1, this.focus + delta));
    if (extend) {
      if (this.anchor === null) this.anchor = this.focus ?? to;
      const [a, b] = this.anchor <= to ? [this.anchor, to] : [to, this.anchor];
      this.selected = new Set();
      for (let i = a; i <= b; i++) this.selected.add(i);
      this.focus = to;
    } else {
      this.selected = new Set([to]);
      this.anchor = to;
      this.focus = to;
    }
    this.version++;
  }

  /** After items at `removed` indices vanish from the list: clear and keep the cursor near. */
  afterRemoval(newCount: number): void {
    const focus = this.focus;
    this.selected.clear();
    this.count = newCount;
    this.focus = focus === null || newCount === 0 ? null : Math.min(focus, newCount - 1);
    this.anchor = this.focus;
    this.version++;
  }
}

/** The same semantics over image ids (the map, the review screen): an unordered id set. */
export class IdSelection {
  ids = new Set<number>();
  set(ids: Iterable<number>, mode: 'replace' | 'add' | 'toggle' = 'replace'): void {
    if (mode === 'replace') this.ids = new Set(ids);
    else if (mode === 'add') for (const id of ids) this.ids.add(id);
    else
      for (const id of ids) {
        if (this.ids.has(id)) this.ids.delete(id);
        else this.ids.add(id);
      }
  }
  clear(): void {
    this.ids.clear();
  }
  get size(): number {
    return this.ids.size;
  }
}
