/**
 * `npx tsx test/e2e/walkthrough.ts OUT_DIR`: the photo organizer walked as its two users would
 * (issue 21), in Chromium against the real service, with screenshots at 1280x800, 800x600 and
 * in dark mode: a parent with a messy photo folder (test/fixtures/messyPhotos.ts: subfolders by
 * year, loose files, copies, resized copies, EXIF dates, a rotated JPEG, a small photo), and an
 * ML engineer with a labelled set (fashion-mnist-1k). Look at the pictures it writes.
 */
import { mkdirSync, mkdtempSync, readdirSync, cpSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { dispatch } from '../../core/api/host.js';
import { startHttpServer } from '../../core/api/http.js';
import { createService } from '../../core/api/service.js';
import type { MethodName, Outputs } from '../../core/shared/contract.js';
import { openStore } from '../../core/store/index.js';
import { makeMessyFolder } from '../fixtures/messyPhotos.js';
import { launchChromium } from './browser.js';

const out = path.resolve(process.argv[2] ?? 'test-results/walkthrough');
mkdirSync(out, { recursive: true });
const root = path.resolve(import.meta.dirname, '../..');
const work = mkdtempSync(path.join(tmpdir(), 'cs-walk-'));
const views = [
  { tag: '1280x800', viewport: { width: 1280, height: 800 }, colorScheme: 'light' as const },
  { tag: '800x600', viewport: { width: 800, height: 600 }, colorScheme: 'light' as const },
  { tag: 'dark', viewport: { width: 1280, height: 800 }, colorScheme: 'dark' as const },
];

async function persona(
  name: string,
  folder: string,
  browser: Browser,
  tour: (
    go: (hash: string) => Promise<Page[]>,
    call: <M extends MethodName>(m: M, input?: unknown) => Promise<Outputs[M]>,
    shoot: (label: string, pages?: Page[]) => Promise<void>,
  ) => Promise<void>,
) {
  const store = openStore(path.join(work, name, 'c.db'));
  const service = createService({ store, watch: { debounceMs: 500, usePolling: true } });
  const server = await startHttpServer(service, { staticDir: path.join(root, 'dist/renderer') });
  const call = async <M extends MethodName>(m: M, input: unknown = {}) => (await dispatch(service, m, input)) as Outputs[M];
  await call('addLibrary', { path: folder });
  const job = await call('startClustering', {});
  void job;
  const pages: Page[] = [];
  for (const v of views) {
    const ctx = await browser.newContext({ viewport: v.viewport, colorScheme: v.colorScheme });
    const p = await ctx.newPage();
    p.on('pageerror', (e) => console.error(`${name} ${v.tag} page error: ${e.message}`));
    pages.push(p);
  }
  // the first view watches the grouping
  await pages[0]!.goto(`${server.url}#/libraries`);
  await pages[0]!.waitForTimeout(1500);
  await pages[0]!.screenshot({ path: path.join(out, `${name}-01-progress-1280x800.png`) });
  for (let i = 0; i < 600 && (await call('getJob'))?.status === 'running'; i++) await new Promise((r) => setTimeout(r, 500));
  const go = async (hash: string) => {
    await Promise.all(pages.map((p) => p.goto(`${server.url}${hash}`)));
    await Promise.all(pages.map((p) => p.waitForLoadState('networkidle').catch(() => undefined)));
    await pages[0]!.waitForTimeout(700);
    return pages;
  };
  let n = 2;
  const shoot = async (label: string, only: Page[] = pages) => {
    const num = String(n++).padStart(2, '0');
    await Promise.all(
      only.map((p) => p.screenshot({ path: path.join(out, `${name}-${num}-${label}-${views[pages.indexOf(p)]!.tag}.png`) })),
    );
  };
  await tour(go, call, shoot);
  for (const p of pages) await p.context().close();
  await server.close();
  await service.close();
  store.close();
}

const browser = await launchChromium();
try {
  // ---- the parent: a messy folder of photos ----
  const photos = path.join(work, 'Photos');
  const DATA = '/work/shared/datasets/tuxpaint300';
  const classes = readdirSync(DATA).sort();
  const folder = await makeMessyFolder(photos, DATA, classes, 12);
  console.log(`parent: ${folder.files.length} photos`);
  await persona('parent', photos, browser, async (go, call, shoot) => {
    await go('#/libraries');
    await shoot('libraries');
    await go('#/groups');
    await shoot('groups');
    const groups = (await call('listGroups', { sort: 'size' })).groups;
    await go(`#/group/${groups[0]!.id}`);
    await shoot('group-timeline');
    await go('#/duplicates');
    await shoot('duplicates');
    const idOf = async (file: string) =>
      (await call('searchImages', { query: path.basename(file, '.jpg') })).items.find((i) => i.path === file)?.id;
    await go(`#/image/${await idOf(folder.small)}`);
    await shoot('small-photo');
    await go(`#/image/${await idOf(folder.rotated)}`);
    await shoot('rotated-photo');
    await go(`#/image/${await idOf(folder.ifd0Only)}`);
    await shoot('ifd0-date');
    const pages = await go('#/groups');
    for (const p of pages) await p.getByLabel('Search groups').fill('2019');
    await pages[0]!.waitForTimeout(800);
    await shoot('search-2019');
    await go('#/review');
    await shoot('review');
    await go('#/map');
    await pages[0]!.waitForTimeout(1500);
    await shoot('map');
    await go(`#/group/${groups[0]!.id}`);
    for (const p of pages) {
      await p.locator('.cell[data-index="0"]').click();
      await p.getByRole('button', { name: 'Move to…' }).click();
    }
    await pages[0]!.waitForTimeout(600);
    await shoot('move-dialog');
    for (const p of pages) await p.keyboard.press('Escape');
    await go('#/groups');
    for (const p of pages) await p.getByRole('button', { name: 'Export…' }).click();
    await pages[0]!.waitForTimeout(400);
    await shoot('export-dialog');
  });

  // ---- the ML engineer: a labelled set ----
  const labelled = path.join(work, 'fashion');
  const FASHION = '/work/shared/datasets/fashion-mnist-1k';
  for (const c of readdirSync(FASHION).sort()) {
    for (const f of readdirSync(path.join(FASHION, c)).sort().slice(0, 20)) cpSync(path.join(FASHION, c, f), path.join(labelled, c, f));
  }
  await persona('ml', labelled, browser, async (go, call, shoot) => {
    await go('#/libraries');
    await shoot('libraries');
    await go('#/groups');
    await shoot('groups');
    const groups = (await call('listGroups', { sort: 'size' })).groups;
    await go(`#/group/${groups[0]!.id}`);
    await shoot('group');
    const first = (await call('listGroupImages', { groupId: groups[0]!.id, limit: 1 })).items[0]!;
    await go(`#/image/${first.id}`);
    await shoot('tiny-image');
    await go('#/duplicates');
    await shoot('duplicates');
    await go('#/review');
    await shoot('review');
    const pages = await go('#/groups');
    for (const p of pages) await p.getByRole('button', { name: 'Export…' }).click();
    for (const p of pages) await p.getByRole('dialog').locator('[name="skipUnsorted"]').check();
    await shoot('export-dialog');
  });
} finally {
  await browser.close();
  rmSync(work, { recursive: true, force: true });
}
console.log(`screenshots in ${out}`);
