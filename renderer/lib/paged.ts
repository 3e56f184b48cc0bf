/**
 * A lazily paged list: the grid asks for [start, end) and pages of `pageSize` load on demand,
 * each at most once at a time. `get(i)` is synchronous (undefined while loading).
 */

/** Page numbers (of size `pageSize`) that cover [start, end). */
export function pagesFor(start: number, end: number, pageSize: number): number[] {
  if (end <= start) return [];
  const first = Math.floor(start / pageSize);
  const last = Math.floor((end - 1) / pageSize);
  const out: number[] = [];
  for (let p = first; p <= last; p++) out.push(p);
  return out;
}

export interface Page<T> {
  items: T[];
  total: number;
}

export class PagedList<T> {
  private pages = new Map<number, T[]>();
  private inflight = new Map<number, Promise<void>>();
  total: number | null = null;
  private generation = 0;

  constructor(
    private readonly fetchPage: (offset: number, limit: number) => Promise<Page<T>>,
    readonly pageSize = 500,
    private readonly onChange: () => void = () => {},
  ) {}

  get(index: number): T | undefined {
    return this.pages.get(Math.floor(index / this.pageSize))?.[index % this.pageSize];
  }

  loadedPages(): number {
    return this.pages.size;
  }

  /** Drops everything (after an edit); the next ensure() refetches. */
  reset(): void {
    this.pages.clear();
    this.inflight.clear();
    this.generation++;
  }

  async ensure(start: number, end: number): Promise<void> {
    const hi = this.total === null ? end : Math.min(end, this.total);
    const wanted = pagesFor(Math.max(0, start), Math.max(hi, start + (this.total === null ? 1 : 0)), this.pageSize);
    await Promise.all(wanted.map((p) => this.load(p)));
  }

  private load(page: number): Promise<void> {
    if (this.pages.has(page)) return Promise.resolve();
    const existing = this.inflight.get(page);
    if (existing) return existing;
    const gen = this.generation;
    const promise = this.fetchPage(page * this.pageSize, this.pageSize)
      .then((res) => {
        if (gen !== this.generation) return;
        this.total = res.total;
        this.pages.set(page, res.items);
        this.onChange();
      })
      .finally(() => {
        if (this.inflight.get(page) === promise) this.inflight.delete(page);
      });
    this.inflight.set(page, promise);
    return promise;
  }

  /** Items at the given indices, loading any missing pages first. */
  async resolve(indices: number[]): Promise<T[]> {
    const pages = [...new Set(indices.map((i) => Math.floor(i / this.pageSize)))];
    // A reset() while we wait (an edit changed the data) discards the pages being fetched:
    // fetch again from the new generation rather than answering with nothing.
    for (let attempt = 0; attempt < 5; attempt++) {
      const gen = this.generation;
      await Promise.all(pages.map((p) => this.load(p)));
      if (gen === this.generation && pages.every((p) => this.pages.has(p))) break;
    }
    const out: T[] = [];
    for (const i of indices) {
      const item = this.get(i);
      if (item !== undefined) out.push(item);
    }
    return out;
  }
}
