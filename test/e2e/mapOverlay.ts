/** What the map screen draws on its 2-D overlay canvas (thumbnails, hover ring, selection path). */
import type { Page } from 'playwright-core';

/**
 * CSS pixels of the overlay canvas with something opaque on them. The dots are on the WebGL
 * canvas below, so a map of dots only reads 0. Run as a page script: the root tsconfig has no
 * DOM types.
 */
export async function overlayOpaquePixels(page: Page): Promise<number> {
  return (await page.evaluate(`(() => {
    const c = document.querySelector('canvas.overlay');
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let opaque = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 200) opaque++;
    return opaque / window.devicePixelRatio ** 2;
  })()`)) as number;
}
