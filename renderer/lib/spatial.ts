/**
 * Hit-testing for the map: a uniform grid over the points' bounding box (about 8 points a cell),
 * so hover, box and lasso selection at 100,000 points touch only nearby cells.
 */
export interface Bounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

export function boundsOf(xy: ArrayLike<number>): Bounds {
  let minX = Infinity,
    minY = Infinity,
    maxX = -Infinity,
    maxY = -Infinity;
  for (let i = 0; i + 1 < xy.length; i += 2) {
    const x = xy[i]!,
      y = xy[i + 1]!;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  if (!Number.isFinite(minX)) return { minX: 0, minY: 0, maxX: 1, maxY: 1 };
  if (maxX === minX) maxX = minX + 1;
  if (maxY === minY) maxY = minY + 1;
  return { minX, minY, maxX, maxY };
}

/**
 * The bounds of the points between the `q` and 1 - `q` quantiles of each axis (the whole
 * bounds below 50 points): what a fitted view shows without letting outliers shrink the rest.
 */
export function robustBounds(xy: ArrayLike<number>, q = 0.01): Bounds {
  const n = xy.length >> 1;
  if (n < 50) return boundsOf(xy);
  const xs = Float64Array.from({ length: n }, (_, i) => xy[2 * i]!).sort();
  const ys = Float64Array.from({ length: n }, (_, i) => xy[2 * i + 1]!).sort();
  const lo = Math.floor(q * n);
  const hi = n - 1 - lo;
  return boundsOf([xs[lo]!, ys[lo]!, xs[hi]!, ys[hi]!]);
}

export class SpatialGrid {
  readonly bounds: Bounds;
  readonly cols: number;
  readonly rows: number;
  private readonly cellW: number;
  private readonly cellH: number;
  /** CSR layout: point indices sorted by cell, cellStart[c]..cellStart[c+1]. */
  private readonly cellStart: Uint32Array;
  private readonly order: Uint32Array;

  constructor(
    readonly xy: Float32Array,
    perCell = 8,
  ) {
    const n = xy.length >> 1;
    this.bounds = boundsOf(xy);
    const b = this.bounds;
    const side = Math.max(1, Math.ceil(Math.sqrt(n / perCell)));
    this.cols = side;
    this.rows = side;
    this.cellW = (b.maxX - b.minX) / side;
    this.cellH = (b.maxY - b.minY) / side;
    const counts = new Uint32Array(side * side + 1);
    const cellOf = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const c = this.cellIndex(xy[2 * i]!, xy[2 * i + 1]!);
      cellOf[i] = c;
      counts[c + 1]!++;
    }
    for (let c = 1; c < counts.length; c++) counts[c]! += counts[c - 1]!;
    this.cellStart = counts;
    const fill = counts.slice(0, side * side);
    this.order = new Uint32Array(n);
    for (let i = 0; i < n; i++) this.order[fill[cellOf[i]!]!++] = i;
  }

  get size(): number {
    return this.xy.length >> 1;
  }

  private col(x: number): number {
    return Math.max(0, Math.min(this.cols - 1, Math.floor((x - this.bounds.minX) / this.cellW)));
  }
  private row(y: number): number {
    return Math.max(0, Math.min(this.rows - 1, Math.floor((y - this.bounds.minY) / this.cellH)));
  }
  private cellIndex(x: number, y: number): number {
    return this.row(y) * this.cols + this.col(x);
  }

  private *inCells(c0: number, c1: number, r0: number, r1: number): Generator<number> {
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        const cell = r * this.cols + c;
        for (let k = this.cellStart[cell]!; k < this.cellStart[cell + 1]!; k++) yield this.order[k]!;
      }
    }
  }

  /** Index of the nearest point within `radius` (data units) of (x, y), or -1. */
  nearest(x: number, y: number, radius: number): number {
    const c0 = this.col(x - radius),
      c1 = this.col(x + radius),
      r0 = this.row(y - radius),
      r1 = this.row(y + radius);
    let best = -1;
    let bestD = radius * radius;
    for (const i of this.inCells(c0, c1, r0, r1)) {
      const dx = this.xy[2 * i]! - x,
        dy = this.xy[2 * i + 1]! - y;
      const d = dx * dx + dy * dy;
      if (d <= bestD) {
        bestD = d;
        best = i;
      }
    }
    return best;
  }

  /** Point indices inside the axis-aligned box (any corner order). */
  inRect(x0: number, y0: number, x1: number, y1: number): number[] {
    const minX = Math.min(x0, x1),
      maxX = Math.max(x0, x1),
      minY = Math.min(y0, y1),
      maxY = Math.max(y0, y1);
    const out: number[] = [];
    for (const i of this.inCells(this.col(minX), this.col(maxX), this.row(minY), this.row(maxY))) {
      const x = this.xy[2 * i]!,
        y = this.xy[2 * i + 1]!;
      if (x >= minX && x <= maxX && y >= minY && y <= maxY) out.push(i);
    }
    return out;
  }

  /** Point indices inside a polygon ([x0,y0,x1,y1,...], closed implicitly). */
  inPolygon(poly: number[]): number[] {
    if (poly.length < 6) return [];
    let minX = Infinity,
      minY = Infinity,
      maxX = -Infinity,
      maxY = -Infinity;
    for (let k = 0; k < poly.length; k += 2) {
      minX = Math.min(minX, poly[k]!);
      maxX = Math.max(maxX, poly[k]!);
      minY = Math.min(minY, poly[k + 1]!);
      maxY = Math.max(maxY, poly[k + 1]!);
    }
    return this.inRect(minX, minY, maxX, maxY).filter((i) => pointInPolygon(this.xy[2 * i]!, this.xy[2 * i + 1]!, poly));
  }
}

/** Even-odd rule. */
export function pointInPolygon(x: number, y: number, poly: number[]): boolean {
  let inside = false;
  const n = poly.length >> 1;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = poly[2 * i]!,
      yi = poly[2 * i + 1]!,
      xj = poly[2 * j]!,
      yj = poly[2 * j + 1]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * Camera: data -> screen is `screen = (data - center) * scale + viewport/2` (y flipped so up is up).
 */
export interface Camera {
  cx: number;
  cy: number;
  /** Pixels per data unit. */
  scale: number;
}

export function fitCamera(b: Bounds, width: number, height: number, margin = 24): Camera {
  const w = Math.max(1, width - 2 * margin),
    h = Math.max(1, height - 2 * margin);
  return { cx: (b.minX + b.maxX) / 2, cy: (b.minY + b.maxY) / 2, scale: Math.min(w / (b.maxX - b.minX), h / (b.maxY - b.minY)) };
}

export function toScreen(cam: Camera, width: number, height: number, x: number, y: number): [number, number] {
  return [(x - cam.cx) * cam.scale + width / 2, height / 2 - (y - cam.cy) * cam.scale];
}

export function toData(cam: Camera, width: number, height: number, sx: number, sy: number): [number, number] {
  return [(sx - width / 2) / cam.scale + cam.cx, (height / 2 - sy) / cam.scale + cam.cy];
}

/** Zoom by `factor` keeping the data point under (sx, sy) fixed on screen. */
export function zoomAt(cam: Camera, width: number, height: number, sx: number, sy: number, factor: number): Camera {
  const [dx, dy] = toData(cam, width, height, sx, sy);
  const scale = Math.max(1e-6, Math.min(1e9, cam.scale * factor));
  return { scale, cx: dx - (sx - width / 2) / scale, cy: dy - (height / 2 - sy) / scale };
}

export function pan(cam: Camera, dxPx: number, dyPx: number): Camera {
  return { ...cam, cx: cam.cx - dxPx / cam.scale, cy: cam.cy + dyPx / cam.scale };
}

/**
 * The points to draw as pictures rather than dots: every point when there are at most `limit`,
 * otherwise those within `marginPx` of the view once zooming has left at most `limit` there
 * (null: too many in view to tell apart; dots).
 */
export function pointsForThumbnails(
  grid: SpatialGrid,
  cam: Camera,
  width: number,
  height: number,
  limit: number,
  marginPx: number,
): number[] | null {
  const n = grid.xy.length / 2;
  if (n <= limit) return Array.from({ length: n }, (_, i) => i);
  const [ax, ay] = toData(cam, width, height, -marginPx, -marginPx);
  const [bx, by] = toData(cam, width, height, width + marginPx, height + marginPx);
  const inView = grid.inRect(ax, ay, bx, by);
  return inView.length <= limit ? inView : null;
}

/**
 * The first colour slots (the store hands out the lowest free slot first), one palette per
 * scheme: twelve distinct hues, each at least 3:1 against the map's background (WCAG's minimum
 * for graphics), each pair at least 20 apart in CIELAB (ΔE76) and 25 from the Unsorted grey.
 * test/renderer/lib.test.ts checks those numbers. Golden-angle hues stood three near-identical
 * greens side by side, worse in dark mode.
 */
export const PALETTE_LIGHT = [
  '#1f6fbf',
  '#c45a00',
  '#2a7f2a',
  '#7b3fb5',
  '#c62b2b',
  '#00807a',
  '#b0308f',
  '#8a5a2b',
  '#6b7a00',
  '#34449e',
  '#c2185b',
  '#0b7fa6',
] as const;
export const PALETTE_DARK = [
  '#6ea8ff',
  '#ffa24c',
  '#6fd36f',
  '#c39bff',
  '#ff7a7a',
  '#4fd1c5',
  '#f07ad8',
  '#d9b07a',
  '#e6d85a',
  '#a3e635',
  '#ff5c8a',
  '#b0c4de',
] as const;
/** Unsorted's grey, per scheme. */
export const UNSORTED_LIGHT = '#9ea3ab';
export const UNSORTED_DARK = '#73787f';

const rgbOf = (hex: string): [number, number, number] =>
  [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255) as [number, number, number];

/**
 * The colour of a group's colour slot (GroupSummary.color), grey for Unsorted (null): the
 * palette's, then golden-angle hues beyond it.
 */
export function groupColor(slot: number | null, dark = false): [number, number, number] {
  if (slot === null) return rgbOf(dark ? UNSORTED_DARK : UNSORTED_LIGHT);
  const palette = dark ? PALETTE_DARK : PALETTE_LIGHT;
  if (slot >= 0 && slot < palette.length) return rgbOf(palette[slot]!);
  const hue = (slot * 137.508) % 360;
  const s = 0.62,
    l = dark ? 0.62 : 0.5;
  return hslToRgb(hue / 360, s, l);
}

export function cssColor(slot: number | null, dark = false): string {
  const [r, g, b] = groupColor(slot, dark);
  return `rgb(${Math.round(r * 255)} ${Math.round(g * 255)} ${Math.round(b * 255)})`;
}

function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s;
  const p = 2 * l - q;
  const f = (t: number): number => {
    if (t < 0) t += 1;
    if (t > 1) t -= 1;
    if (t < 1 / 6) return p + (q - p) * 6 * t;
    if (t < 1 / 2) return q;
    if (t < 2 / 3) return p + (q - p) * (2 / 3 - t) * 6;
    return p;
  };
  return [f(h + 1 / 3), f(h), f(h - 1 / 3)];
}
