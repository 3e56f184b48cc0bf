/**
 * The Image and Review screens show an image as large as its pane allows (object-fit: contain),
 * so a small one is enlarged: a 46 x 50 icon fills a 520 px pane about 11 times over. Smoothed
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

/** The natural size of the image whose load event this is, tagged with the id it shows. */
export function naturalSize(id: number, e: { currentTarget: unknown }): { id: number; w: number; h: number } {
  // Structural (no DOM types), so this module also compiles and tests under Node.
  const img = e.currentTarget as { naturalWidth: number; naturalHeight: number };
  return { id, w: img.naturalWidth, h: img.naturalHeight };
}

/** Whether that image is enlarged enough to be drawn pixelated. */
export function crispPixels(w: number, h: number, boxW: number, boxH: number, dpr = 1): boolean {
  return fitScale(w, h, boxW, boxH, dpr) >= PIXELATED_FROM;
}
