/**
 * Fixed-cell grid virtualizer: which rows of a `count`-item grid intersect the viewport, plus
 * `overscan` rows each side. Pure math, so the Group screen renders O(visible) cells at 50k items.
 */
export interface GridInput {
  count: number;
  /** Inner width available for cells. */
  width: number;
  /** Target cell edge (the thumbnail), px. */
  cell: number;
  gap: number;
  scrollTop: number;
  viewportHeight: number;
  overscan?: number;
}

export interface GridLayout {
  columns: number;
  rows: number;
  /** Cell edge after stretching to fill the width. */
  cellSize: number;
  /** cellSize + gap. */
  rowHeight: number;
  totalHeight: number;
  startRow: number;
  /** Exclusive. */
  endRow: number;
  startIndex: number;
  /** Exclusive. */
  endIndex: number;
  /** translateY of the first rendered row. */
  offsetY: number;
}

export function layoutGrid(input: GridInput): GridLayout {
  const { count, gap } = input;
  const width = Math.max(0, input.width);
  const overscan = input.overscan ?? 3;
  const columns = Math.max(1, Math.floor((width + gap) / (input.cell + gap)));
  const cellSize = columns > 0 && width > 0 ? Math.max(1, (width - gap * (columns - 1)) / columns) : input.cell;
  const rowHeight = cellSize + gap;
  const rows = Math.ceil(count / columns);
  const totalHeight = rows > 0 ? rows * rowHeight - gap : 0;
  const scrollTop = Math.max(0, input.scrollTop);
  const firstVisible = Math.floor(scrollTop / rowHeight);
  const lastVisible = Math.ceil((scrollTop + Math.max(0, input.viewportHeight)) / rowHeight);
  const startRow = Math.max(0, Math.min(rows, firstVisible - overscan));
  const endRow = Math.max(startRow, Math.min(rows, lastVisible + overscan));
  return {
    columns,
    rows,
    cellSize,
    rowHeight,
    totalHeight,
    startRow,
    endRow,
    startIndex: Math.min(count, startRow * columns),
    endIndex: Math.min(count, endRow * columns),
    offsetY: startRow * rowHeight,
  };
}

/** The scrollTop that brings `index` fully into view (or the current one if it already is). */
export function scrollToReveal(layout: Pick<GridLayout, 'columns' | 'rowHeight' | 'cellSize'>, index: number, scrollTop: number, viewportHeight: number): number {
  const row = Math.floor(index / layout.columns);
  const top = row * layout.rowHeight;
  const bottom = top + layout.cellSize;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + viewportHeight) return Math.max(0, bottom - viewportHeight);
  return scrollTop;
}

/** Page numbers (of size `pageSize`) that cover [start, end). */
export function pagesFor(start: number, end: number, pageSize: number): number[] {
  if (end <= start) return [];
  const first = Math.floor(start / pageSize);
  const last = Math.floor((end - 1) / pageSize);
  const out: number[] = [];
  for (let p = first; p <= last; p++) out.push(p);
  return out;
}
