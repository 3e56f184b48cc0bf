/**
 * UI benchmark: real Chromium against the real HTTP server and the built renderer, with a
 * 100,000-image library (50,000 in one group). The data comes from the in-memory fake host
 * (test/e2e/fakeHost.ts: same API contract, thumbnails are real PNGs), NOT from a SQLite
 * database: this measures the renderer (first paint, virtual-grid scrolling), not the store.
 *
 * Figures: time to first paint of the Groups screen (target < 1 s) and requestAnimationFrame
 * deltas while scrolling the 50,000-image group (target: no frame over 50 ms).
 * Run: `npx tsx bench/ui.ts [--quick]` or via `npm run bench -- --only ui`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHttpServer } from '../core/api/http.js';
import { createFakeHost } from '../test/e2e/fakeHost.js';
import { hasChromium, launchChromium } from '../test/e2e/browser.js';
import type { Figure } from './report.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MEDIA = '/work/shared/datasets/tuxpaint300';

export async function benchUi(quick = false): Promise<Figure[]> {
  const command = `npx tsx bench/ui.ts${quick ? ' --quick' : ''}`;
  if (!hasChromium()) return [{ name: 'ui: skipped', value: null, unit: '', command, note: 'no /usr/bin/chromium' }];
  if (!existsSync(path.join(root, 'dist/renderer/index.html'))) {
    execFileSync(process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'renderer/vite.config.ts'], { cwd: root, stdio: 'ignore' });
  }
  const total = quick ? 10_000 : 100_000;
  const big = total / 2;
  // Thumbnails like the core makes them (256 px WebP), not the full-size originals.
  const thumbs = path.join(tmpdir(), 'constellate-bench-thumbs');
  if (!existsSync(thumbs)) {
    const sharp = (await import('sharp')).default;
    mkdirSync(thumbs, { recursive: true });
    const files = readdirSync(MEDIA, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.png'));
    for (const f of files) await sharp(path.join(MEDIA, f)).resize(256, 256, { fit: 'cover' }).webp({ quality: 80 }).toFile(path.join(thumbs, f.replace(/[/\\]/g, '_').replace(/\.png$/, '.webp')));
  }
  const host = createFakeHost({ images: total, groups: 40, mediaDir: thumbs, bigGroup: big });
  const server = await startHttpServer(host, { staticDir: path.join(root, 'dist/renderer') });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });

    // 1. Groups screen: navigation start -> first group card with its mosaic painted.
    const paints: number[] = [];
    for (let run = 0; run < 3; run++) {
      await page.goto(`${server.url}#/groups`, { waitUntil: 'commit' });
      await page.waitForSelector('.gcard img');
      // The frame after the cards exist is the one that paints them.
      const t = (await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now()))))')) as number;
      paints.push(t);
    }
    const fcp = (await page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null")) as number | null;

    // 2. Scroll the 50,000-image group.
    const groups = await host.handlers.listGroups({ sort: 'size' });
    const bigGroup = groups.groups[0]!;
    await page.goto(`${server.url}#/group/${bigGroup.id}`);
    await page.waitForSelector('.cell img');
    await page.waitForTimeout(500);
    // A string, not a function: tsx's keepNames helpers (__name) do not exist in the page.
    const n = quick ? 120 : 600;
    const frames = (await page.evaluate(`new Promise((resolve) => {
      const el = document.querySelector('.scroller');
      const n = ${n};
      const deltas = [];
      let last = performance.now();
      let i = 0;
      const step = () => {
        const now = performance.now();
        deltas.push(now - last);
        last = now;
        // A brisk scroll (about 1.5 screens a second) with two long jumps (scrollbar drags).
        if (i === Math.floor(n / 3) || i === Math.floor((2 * n) / 3)) el.scrollTop += el.scrollHeight / 5;
        else el.scrollTop += 24;
        if (++i < n) requestAnimationFrame(step);
        else resolve({ deltas: deltas.slice(1), cells: document.querySelectorAll('.cell').length, scrolled: el.scrollTop, height: el.scrollHeight });
      };
      requestAnimationFrame(step);
    })`)) as { deltas: number[]; cells: number; scrolled: number; height: number };
    const d = [...frames.deltas].sort((a, b) => a - b);
    const max = d.at(-1) ?? 0;
    const p95 = d[Math.floor(d.length * 0.95)] ?? 0;
    const mean = d.reduce((a, b) => a + b, 0) / Math.max(1, d.length);
    const over50 = d.filter((x) => x > 50).length;
    const note = `${total.toLocaleString('en-US')} images (fake host), headless Chromium, software rendering`;
    return [
      { name: 'ui: groups screen first paint (median of 3)', value: paints.sort((a, b) => a - b)[1]!, unit: 'ms', command, note: `${note}; target < 1000 ms; runs ${paints.map((p) => p.toFixed(0)).join('/')} ms` },
      { name: 'ui: first contentful paint', value: fcp, unit: 'ms', command, note },
      { name: `ui: scroll ${big.toLocaleString('en-US')}-image group, max frame`, value: max, unit: 'ms', command, note: `${d.length} frames; target <= 50 ms; ${over50} frames over 50 ms` },
      { name: 'ui: scroll, p95 frame', value: p95, unit: 'ms', command, note: `mean ${mean.toFixed(1)} ms` },
      { name: 'ui: scroll, DOM cells rendered', value: frames.cells, unit: 'cells', command, note: `grid height ${(frames.height / 1000).toFixed(0)}k px` },
    ];
  } finally {
    await browser.close();
    await server.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { formatTable } = await import('./report.js');
  console.log(formatTable(await benchUi(process.argv.includes('--quick'))));
}
