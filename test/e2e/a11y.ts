/**
 * Accessibility checks run in Chromium pages: axe-core, whether every control can be reached
 * (scrolled to) by the user, and whether keyboard focus shows. Page scripts are strings: the
 * root tsconfig has no DOM types.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import sharp from 'sharp';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Puts axe-core in the page. The app's Content-Security-Policy (script-src 'self') blocks a
 * <script> tag carrying it (page.addScriptTag), so the source is evaluated through the DevTools
 * protocol instead (page.evaluate: Runtime.evaluate), which the page's CSP does not govern: the
 * page runs as shipped, nothing bypasses its policy. axe needs no eval of its own.
 */
export async function injectAxe(page: Page): Promise<void> {
  if (await page.evaluate('typeof window.axe === "object"')) return;
  await page.evaluate(`(() => { ${AXE_SOURCE}\n })(); typeof window.axe`);
}

export interface AxeProblem {
  id: string;
  impact: string;
  help: string;
  nodes: string[];
}

/**
 * The serious and critical axe violations on the page (or under `selector`): WCAG 2.x A/AA and
 * best practices, plus label-content-name-mismatch (experimental, so off by default).
 */
export async function axeProblems(page: Page, selector = 'body'): Promise<AxeProblem[]> {
  await injectAxe(page);
  // Colours are read as drawn: a dialog fading in is lower in contrast than it will be.
  await page.evaluate(
    `Promise.all(document.getAnimations().filter((a) => a.effect?.getComputedTiming().iterations !== Infinity).map((a) => a.finished.catch(() => null)))`,
  );
  const options = { rules: { 'label-content-name-mismatch': { enabled: true } }, resultTypes: ['violations'] };
  return (await page.evaluate(`axe.run(document.querySelector(${JSON.stringify(selector)}), ${JSON.stringify(options)}).then((r) => r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ' | ' + (n.failureSummary || '').replace(/\\s+/g, ' ')) })))`)) as AxeProblem[];
}

/**
 * Controls the user cannot bring into view: a button, link, field or focusable element shown
 * on the page but cut off by an ancestor that clips (overflow other than visible) and does not
 * scroll that way, or by the window when the page itself does not scroll. Inside a scroller
 * that does scroll the control counts as reachable, and the scroller's own box is checked on
 * up the tree in its place. Then, scrolled into view, any that something else covers (what a
 * click at its centre would hit instead). Each is described as "tag.class: text (why)". The
 * page's scroll positions change.
 */
export async function unreachableControls(page: Page, within = 'body'): Promise<string[]> {
  return (await page.evaluate(`(() => {
    const SEL = 'a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex="-1"]), [role="button"], [role="link"]';
    const out = [], reachable = [];
    const root = document.querySelector(${JSON.stringify(within)});
    for (const el of root.querySelectorAll(SEL)) {
      const style = getComputedStyle(el);
      if (!el.getClientRects().length || style.visibility === 'hidden') continue; // not shown
      if (el.type === 'hidden') continue;
      let r = el.getBoundingClientRect();
      let rect = { top: r.top, bottom: r.bottom, left: r.left, right: r.right };
      let bad = null;
      for (let a = el.parentElement; a && a !== document.documentElement; a = a.parentElement) {
        const s = getComputedStyle(a);
        if (s.position === 'fixed') break; // fixed boxes are checked against the window
        if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
        const b = a.getBoundingClientRect();
        const box = { top: b.top + a.clientTop, left: b.left + a.clientLeft, bottom: b.top + a.clientTop + a.clientHeight, right: b.left + a.clientLeft + a.clientWidth };
        const outY = rect.top < box.top - 0.5 || rect.bottom > box.bottom + 0.5;
        const outX = rect.left < box.left - 0.5 || rect.right > box.right + 0.5;
        const scrollsY = (s.overflowY === 'auto' || s.overflowY === 'scroll') && a.scrollHeight > a.clientHeight;
        const scrollsX = (s.overflowX === 'auto' || s.overflowX === 'scroll') && a.scrollWidth > a.clientWidth;
        if ((outY && !scrollsY) || (outX && !scrollsX)) { bad = a; break; }
        if (outY || outX) rect = box; // scroll it into view there; that box must then be reachable
      }
      if (!bad) {
        const page = getComputedStyle(document.documentElement), body = getComputedStyle(document.body);
        const pageScrolls = page.overflowY !== 'hidden' && body.overflowY !== 'hidden' && document.documentElement.scrollHeight > innerHeight;
        if ((rect.bottom > innerHeight + 0.5 && !pageScrolls) || rect.top < -0.5 || rect.left < -0.5 || rect.right > innerWidth + 0.5) bad = document.documentElement;
      }
      if (bad) out.push(describe(el) + ' (cut off by ' + describe(bad, true) + ')');
      else reachable.push(el);
    }
    // Then, brought into view as the user would (scrolling), each must be what a click there
    // hits, not something drawn over it (a toolbar squeezed under the next one).
    for (const el of reachable) {
      el.scrollIntoView({ block: 'nearest', inline: 'nearest' });
      const r = el.getBoundingClientRect();
      const x = Math.min(Math.max(r.left + r.width / 2, 0), innerWidth - 1), y = Math.min(Math.max(r.top + r.height / 2, 0), innerHeight - 1);
      const hit = document.elementFromPoint(x, y);
      // (a field's own label over it counts as the field: a click there reaches it)
      if (hit && hit !== el && !el.contains(hit) && !hit.closest('label')?.contains(el)) out.push(describe(el) + ' (covered by ' + describe(hit, true) + ')');
    }
    return out;
    function describe(el, short) {
      const cls = typeof el.className === 'string' && el.className ? '.' + el.className.split(' ')[0] : '';
      if (short) return el.tagName.toLowerCase() + cls;
      const name = (el.getAttribute('aria-label') || el.textContent || el.getAttribute('name') || el.getAttribute('placeholder') || '').replace(/\\s+/g, ' ').trim().slice(0, 40);
      return el.tagName.toLowerCase() + cls + ': ' + name;
    }
  })()`)) as string[];
}

type Box = { x: number; y: number; width: number; height: number };

/** RGB pixels of a region of the page (CSS px; the screenshot is at the page's device scale). */
async function pixels(page: Page, clip: Box): Promise<{ data: Buffer; width: number; height: number }> {
  const png = await page.screenshot({ clip, animations: 'disabled', caret: 'hide' });
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/**
 * How much of the ring round `box` (from 2 px inside its edge to 5 px outside) changed between
 * two states of the page: the pixels that changed, over the ring's length (its perimeter). A
 * 2 px focus ring drawn round the box gives about 2; a few changed pixels, far less.
 */
export async function ringChange(
  page: Page,
  box: Box,
  before: { data: Buffer; width: number; height: number },
  clip: Box,
): Promise<number> {
  const after = await pixels(page, clip);
  const scale = after.width / clip.width;
  const inner = { x0: box.x + 2, y0: box.y + 2, x1: box.x + box.width - 2, y1: box.y + box.height - 2 };
  let changed = 0;
  for (let py = 0; py < after.height; py++) {
    for (let px = 0; px < after.width; px++) {
      const x = clip.x + (px + 0.5) / scale;
      const y = clip.y + (py + 0.5) / scale;
      if (x > inner.x0 && x < inner.x1 && y > inner.y0 && y < inner.y1) continue; // inside: not the ring
      const i = (py * after.width + px) * 3;
      const d =
        Math.abs(after.data[i]! - before.data[i]!) +
        Math.abs(after.data[i + 1]! - before.data[i + 1]!) +
        Math.abs(after.data[i + 2]! - before.data[i + 2]!);
      if (d > 60) changed++;
    }
  }
  return changed / (scale * scale) / (2 * (box.width + box.height));
}

/** The region round `box` that ringChange reads, inside the window. */
export function ringClip(box: Box, view: { width: number; height: number }): Box {
  const x = Math.max(0, Math.floor(box.x - 5));
  const y = Math.max(0, Math.floor(box.y - 5));
  const right = Math.min(view.width, Math.ceil(box.x + box.width + 5));
  const bottom = Math.min(view.height, Math.ceil(box.y + box.height + 5));
  return { x, y, width: Math.max(1, right - x), height: Math.max(1, bottom - y) };
}

export { pixels as regionPixels };
