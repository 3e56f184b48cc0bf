/**
 * The Image and Review screens (components/ZoomImage.svelte) enlarge an image when it is tiny or
 * zoomed into: a 46 x 50 icon opens about 11 times over in a 520 px pane. Smoothed
 * (the browser's default) that is a blur that hides the very pixels being judged; from
 * PIXELATED_FROM screen pixels per image pixel on, the preview is drawn with crisp square pixels
 * instead (image-rendering: pixelated), as image viewers do when zoomed in. Below it, smoothing
 * looks better than uneven blocks.
 */
export const PIXELATED_FROM = 3;

/**
 * Screen (device) pixels per image pixel when an image of natural size `w` x `h` is fitted
 * into a `boxW` x `boxH` CSS px box at `dpr` device pixels per CSS px; 0 when a size is unknown.
 */
export function fitScale(w: number, h: number, boxW: number, boxH: number, dpr = 1): number {
  if (!(w > 0 && h > 0 && boxW > 0 && boxH > 0)) return 0;
  return Math.min(boxW / w, boxH / h) * dpr;
}

/** Whether that image is enlarged enough to be drawn pixelated. */
export function crispPixels(w: number, h: number, boxW: number, boxH: number, dpr = 1): boolean {
  return fitScale(w, h, boxW, boxH, dpr) >= PIXELATED_FROM;
}
