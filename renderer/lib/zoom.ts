/**
 * The image viewer's zoom (components/ZoomImage.svelte): which scale an image opens at, and
 * zooming about a point. A photo is never enlarged past its own pixels (1:1) unless the user
 * zooms: a 640 px photo in a 1,000 px pane shows at 640 px, sharp, not smoothed up to a blur.
 * Icons and thumbnails under TINY_BELOW px (a 28 x 28 dataset image) would be specks at 1:1:
 * they open at the largest whole multiple that fits, drawn with crisp square pixels.
 */
export const TINY_BELOW = 128;
export const MIN_SCALE = 0.02;
export const MAX_SCALE = 32;

/** The scale at which the whole image fits the pane (0 while a size is unknown). */
export function fitScaleOf(w: number, h: number, paneW: number, paneH: number): number {
  if (!(w > 0 && h > 0 && paneW > 0 && paneH > 0)) return 0;
  return Math.min(paneW / w, paneH / h);
}

/** The scale an image opens at ("Fit"): fitted when larger than the pane, else 1:1 (tiny ones: a whole multiple). */
export function openingScale(w: number, h: number, paneW: number, paneH: number): number {
  const fit = fitScaleOf(w, h, paneW, paneH);
  if (fit === 0) return 1;
  if (fit <= 1) return fit;
  return Math.max(w, h) < TINY_BELOW ? Math.max(1, Math.floor(fit)) : 1;
}

export interface View {
  scale: number;
  /** The image centre's offset from the pane centre, in screen px. */
  x: number;
  y: number;
}

/** Zooms by `factor` about the pane point (`px`, `py`) (relative to the pane's centre): that point of the image stays put. */
export function zoomAbout(v: View, factor: number, px: number, py: number): View {
  const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, v.scale * factor));
  const k = scale / v.scale;
  return { scale, x: px - (px - v.x) * k, y: py - (py - v.y) * k };
}

/** Keeps some of the image in view: its centre no further out than half its size plus the pane's half. */
export function clampPan(v: View, w: number, h: number, paneW: number, paneH: number): View {
  const mx = Math.max(0, (w * v.scale - paneW) / 2);
  const my = Math.max(0, (h * v.scale - paneH) / 2);
  return { ...v, x: Math.max(-mx, Math.min(mx, v.x)), y: Math.max(-my, Math.min(my, v.y)) };
}
