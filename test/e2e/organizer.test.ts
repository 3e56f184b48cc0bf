/**
 * The photo organizer end to end (issue 21): real Chromium against the real service (watching
 * its folders) on a parent's messy folder built from real pictures (test/fixtures/messyPhotos.ts):
 * copies and near-duplicates, EXIF dates of every kind, an EXIF-rotated JPEG, a small photo.
 * Duplicates, dates (hover, image view, sort, range, timeline), search, zoom, Move with
 * thumbnails, drag and drop, watched folders, the folder picker, the ML export options; and the
 * defects the walkthrough found, in the browser.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../core/api/host.js';
import { startHttpServer, type HttpServer } from '../../core/api/http.js';
import { createService } from '../../core/api/service.js';
import type { MethodName, Outputs } from '../../core/shared/contract.js';
import { openStore, type Store } from '../../core/store/index.js';
import { makeMessyFolder, type MessyFolder } from '../fixtures/messyPhotos.js';
import { suiteTempDir } from '../helpers/tempDir.js';
import { hasChromium, launchChromium } from './browser.js';

const DATA = '/work/shared/datasets/tuxpaint300';
const root = path.resolve(import.meta.dirname, '../..');
const work = suiteTempDir('cs-organizer-');
const shots = path.join(root, 'test-results');
const enabled = hasChromium() && existsSync(DATA) && existsSync(path.join(root, 'dist/renderer/index.html'));

let store: Store;
let service: ReturnType<typeof createService>;
let server: HttpServer;
let browser: Browser;
let page: Page;
let folder: MessyFolder;
const pageErrors: string[] = [];
const call = async <M extends MethodName>(m: M, input: unknown = {}) => (await dispatch(service, m, input)) as Outputs[M];
const idOf = (file: string) =>
  (store.db.raw
    .prepare(`SELECT i.id FROM images i JOIN libraries l ON l.id = i.library_id WHERE l.root_path || '/' || i.rel_path = ?`)
    .pluck()
    .get(file) as number | undefined) ?? -1;
const shot = (name: string) => page.screenshot({ path: path.join(shots, `organizer-${name}.png`) });

describe.skipIf(!enabled)('photo organizer (Chromium, real service, real pictures)', () => {
  beforeAll(async () => {
    folder = await makeMessyFolder(path.join(work, 'Photos'), DATA, ['animals_birds', 'food_fruit', 'space_planets', 'vehicles'], 6);
    process.env['HOME'] = work; // the folder picker's home
    store = openStore(path.join(work, 'db', 'c.db'));
    service = createService({ store, watch: { debounceMs: 400, stableMs: 300, usePolling: true } });
    server = await startHttpServer(service, { staticDir: path.join(root, 'dist/renderer') });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.setDefaultTimeout(20_000);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await service?.close();
    store?.close();
  });

  it('groups the folder, with loading the model as its own phase', async () => {
    // the phases the job goes through, as its events tell the page
    const phases: string[] = [];
    const stop = service.onEvent((e) => {
      if (e.type === 'job' && e.job.phase && !phases.includes(e.job.phase)) phases.push(e.job.phase);
    });
    await page.goto(`${server.url}#/libraries`);
    // browser mode: Browse… walks the home folder to the photos
    await page.getByRole('button', { name: 'Browse…' }).click();
    const picker = page.getByRole('dialog', { name: 'Choose a folder' });
    await picker.getByRole('button', { name: 'Photos' }).click();
    await picker.locator('.mono', { hasText: folder.root }).waitFor();
    await picker.getByRole('button', { name: 'Use this folder' }).click();
    await page.getByRole('link', { name: 'See groups' }).waitFor({ timeout: 300_000 });
    stop();
    expect(phases.slice(0, 4)).toEqual(['scan', 'check', 'model', 'embed']);
    // the summary says where the model ran in a user's words
    expect(await page.locator('.summary').innerText()).toMatch(/on the (CPU|GPU)/);
    expect(await page.locator('.summary').innerText()).not.toContain('wasm');
  }, 400_000);

  it('finds the copies and the resized copies, each set with the original to keep and why', async () => {
    await page.getByRole('link', { name: 'Duplicates' }).click();
    await page.locator('.set').first().waitFor();
    const list = await call('listDuplicates');
    const setOf = (file: string) => list.sets.find((s) => s.keeper.id === idOf(file) || s.members.some((m) => m.id === idOf(file)));
    for (const [orig, copy] of [...folder.copies, ...folder.near]) {
      const s = setOf(orig);
      expect(s, `${path.basename(orig)} and ${path.basename(copy)}`).toBeDefined();
      expect(s!.keeper.id).toBe(idOf(orig)); // the original: larger, or as large and older
      expect(s!.members.map((m) => m.id)).toContain(idOf(copy));
    }
    expect(await page.locator('.set').count()).toBe(list.sets.length);
    expect(await page.locator('.set .why').first().innerText()).toMatch(/^Suggested keeper: /);
    await page.getByLabel('Near-duplicate threshold').waitFor();
    await shot('duplicates');
  });

  it('dates: the IFD0-only date is read, the undated photo says it uses its file time; hover shows the date', async () => {
    await page.goto(`${server.url}#/image/${idOf(folder.ifd0Only)}`);
    const taken = page.locator('dt', { hasText: 'Taken' }).locator('xpath=following-sibling::dd[1]');
    await expect.poll(() => taken.innerText()).not.toBe('—');
    expect(await taken.innerText()).toMatch(/\d{4}/);
    await page.goto(`${server.url}#/image/${idOf(folder.undated)}`);
    await expect.poll(() => taken.innerText()).toContain('dated by its file time');
    // the rotated JPEG is shown upright: 300 x 400
    const rot = await call('getImage', { id: idOf(folder.rotated) });
    expect([rot.width, rot.height]).toEqual([300, 400]);
    const g = rot.groupId ?? 'unsorted';
    await page.goto(`${server.url}#/group/${g}`);
    const cell = page.locator(`.cell[data-image-id="${idOf(folder.rotated)}"]`);
    await cell.waitFor();
    expect(await cell.getAttribute('title')).toContain('Taken');
  });

  it('a group sorts by date, filters by a date range and a timeline strip', async () => {
    const groups = (await call('listGroups', { sort: 'size' })).groups;
    const big = groups[0]!;
    await page.goto(`${server.url}#/group/${big.id}`);
    await page.getByLabel('Sort images').selectOption('date-desc');
    await page.locator('.cell[data-index="0"] img').waitFor();
    const all = (await call('listGroupImages', { groupId: big.id, sort: 'date-desc', limit: 500, stack: true })).items;
    expect(await page.locator('.cell[data-index="0"]').getAttribute('data-image-id')).toBe(String(all[0]!.id));
    const bars = page.locator('.timeline .bar:not([disabled])');
    await bars.first().waitFor();
    await bars.first().click();
    await expect.poll(async () => Number((await page.locator('.toolbar .badge').innerText()).replace(/\D/g, ''))).toBeLessThan(big.count);
    await shot('timeline');
    await page.getByRole('button', { name: 'All dates' }).click();
    await page.getByLabel('From date').fill('2021-01-01');
    await page.getByLabel('From date').dispatchEvent('change');
    await page.getByLabel('To date').fill('2021-12-31');
    await page.getByLabel('To date').dispatchEvent('change');
    const in2021 = (await call('listGroupImages', { groupId: big.id, from: '2021-01-01', to: '2021-12-31', limit: 500 })).total;
    await expect.poll(async () => Number((await page.locator('.toolbar .badge').innerText()).replace(/\D/g, ''))).toBe(in2021);
  });

  it('searches by folder, file name and date beside the group names', async () => {
    await page.goto(`${server.url}#/groups`);
    await page.getByLabel('Search groups').fill('2019');
    const found = page.getByRole('region', { name: 'Images found' });
    await found.waitFor();
    const expected = (await call('searchImages', { query: '2019' })).total;
    expect(expected).toBeGreaterThanOrEqual(folder.byYear['2019']!.length);
    expect(await found.locator('h2').innerText()).toContain(`${expected} image`);
    await page.getByLabel('Search groups').fill('From email');
    await expect.poll(() => found.locator('.hit').count()).toBe(folder.near.length);
    await page.getByLabel('Search groups').fill('');
  });

  it('shows a small photo at 1:1, never blurred up; zooms with keys and buttons', async () => {
    await page.goto(`${server.url}#/image/${idOf(folder.small)}`);
    const img = page.locator('.zoom img');
    await expect.poll(async () => (await img.boundingBox())?.width ?? 0, { timeout: 10_000 }).toBeCloseTo(320, 0);
    await page.keyboard.press('+');
    await expect.poll(async () => (await img.boundingBox())?.width ?? 0, { timeout: 10_000 }).toBeGreaterThan(330);
    await page.keyboard.press('0');
    await expect.poll(async () => (await img.boundingBox())?.width ?? 0, { timeout: 10_000 }).toBeCloseTo(320, 0);
    await page.mouse.move(500, 400);
    await page.mouse.wheel(0, -400);
    await expect.poll(async () => (await img.boundingBox())?.width ?? 0, { timeout: 10_000 }).toBeGreaterThan(400);
    await page.getByRole('button', { name: '1:1' }).click();
    await expect.poll(async () => (await img.boundingBox())?.width ?? 0, { timeout: 10_000 }).toBeCloseTo(320, 0);
    await shot('small-photo');
  });

  it('Move to… shows each group’s picture; the number keys stay with their group; drag and drop moves', async () => {
    const groups = (await call('listGroups', { sort: 'size' })).groups;
    const [a, b] = groups as [(typeof groups)[number], (typeof groups)[number]];
    await page.goto(`${server.url}#/group/${a.id}`);
    await page.locator('.cell[data-index="0"] img').waitFor();
    await page.locator('.cell[data-index="0"]').click();
    await page.getByRole('button', { name: 'Move to…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Move 1 image' });
    await dialog.locator('.gopt img').first().waitFor();
    expect(await dialog.locator('.gopt img').count()).toBeGreaterThanOrEqual(groups.length - 1);
    await shot('move-dialog');
    await page.keyboard.press('Escape');
    // the key shown on b's card sends there, whatever the image's suggestions
    await page.getByRole('button', { name: 'Back to groups' }).click();
    const key = Number(await page.locator(`.gcard[data-group-id="${b.id}"] kbd.key`).innerText());
    expect(key).toBeGreaterThan(0);
    await page.goto(`${server.url}#/group/${a.id}`);
    await page.locator('.cell[data-index="0"] img').waitFor();
    await page.locator('.cell[data-index="0"]').click();
    const moved = Number(await page.locator('.cell[data-index="0"][data-image-id]').getAttribute('data-image-id'));
    await page.getByText('1 selected').waitFor();
    await page.keyboard.press(String(key));
    await expect.poll(async () => (await call('getImage', { id: moved })).groupId, { message: 'the number key' }).toBe(b.id);
    // drag an image onto a group of the drop bar
    await page.locator('.cell[data-index="0"][data-image-id] img.ready').waitFor();
    const dragged = Number(await page.locator('.cell[data-index="0"][data-image-id]').getAttribute('data-image-id'));
    // the drop bar appears once the drag has started: press, move a little, then onto b's chip
    const box = (await page.locator('.cell[data-index="0"]').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 20, box.y + box.height / 2 + 20, { steps: 4 });
    const chip = page.locator(`.dropbar .chip[data-group-id="${b.id}"]`);
    await chip.waitFor();
    await shot('drag-drop');
    const cb = (await chip.boundingBox())!;
    await page.mouse.move(cb.x + cb.width / 2, cb.y + cb.height / 2, { steps: 6 });
    await page.mouse.up();
    await expect.poll(async () => (await call('getImage', { id: dragged })).groupId, { message: 'the drop' }).toBe(b.id);
  });

  it('a renamed group takes the typed name (the old one is selected), and emptying the open group goes back to Groups', async () => {
    const g = (await call('listGroups', { sort: 'size' })).groups.at(-1)!;
    await page.goto(`${server.url}#/group/${g.id}`);
    await page.getByRole('button', { name: 'Rename' }).click();
    await page.getByRole('dialog', { name: 'Rename group' }).waitFor();
    await page.keyboard.type('Fish');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Fish' }).waitFor();
    // move every image out: back to the groups, with a note
    await page.locator('.cell[data-index="0"] img').waitFor();
    await page.keyboard.press('Control+a');
    const other = (await call('listGroups', { sort: 'size' })).groups.find((x) => x.id !== g.id)!;
    await page.getByRole('button', { name: 'Move to…' }).click();
    await page.getByRole('dialog').locator(`[name="to"][value="${other.id}"]`).check();
    await page.getByRole('dialog').locator('button[type="submit"]').click();
    await expect.poll(() => page.url(), { timeout: 10_000 }).toMatch(/#\/groups$/);
    await page.locator('.toast', { hasText: '“Fish” is no longer there' }).waitFor();
    expect(await page.getByText('Group gone').count()).toBe(0);
    await page.keyboard.press('Control+z');
  });

  it('a photo copied into the watched folder is placed in the groups, and the status line says so', async () => {
    const before =
      (await call('listGroups', { sort: 'size' })).groups.reduce((n, g) => n + g.count, 0) +
      (await call('listGroups', { sort: 'size' })).unsortedCount;
    const dest = path.join(folder.root, 'New', 'arrived.jpg');
    mkdirSync(path.dirname(dest), { recursive: true });
    await sharp(folder.files[3]!).rotate(180).toFile(dest);
    await page.goto(`${server.url}#/groups`);
    await page.locator('footer .watch', { hasText: /1 new image in Photos/ }).waitFor({ timeout: 30_000 });
    await expect
      .poll(
        async () => {
          const l = await call('listGroups', { sort: 'size' });
          return l.groups.reduce((n, g) => n + g.count, 0) + l.unsortedCount;
        },
        { timeout: 120_000 },
      )
      .toBe(before + 1);
  }, 180_000);

  it('exports for ML: duplicates left out, no Unsorted class, duplicate_of and taken_at in the CSV, a Hugging Face metadata.csv', async () => {
    const csv = path.join(work, 'out', 'photos.csv');
    await call('exportGroups', { format: 'csv', out: csv });
    const rows = readFileSync(csv, 'utf8').trim().split('\n');
    const header = rows[0]!.split(',');
    expect(header).toEqual(expect.arrayContaining(['taken_at', 'duplicate_of']));
    const col = (name: string) => header.indexOf(name);
    const copyRow = rows.find((r) => r.includes(path.basename(folder.copies[0]![1])))!.split(',');
    expect(Number(copyRow[col('duplicate_of')])).toBe(idOf(folder.copies[0]![0]));
    expect(rows.find((r) => r.includes('IMG_ROTATED'))!.split(',')[col('taken_at')]).toBe('2023-07-04T16:15:00');
    // the dialog's options
    await page.goto(`${server.url}#/groups`);
    await page.getByRole('button', { name: 'Export…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Export groups' });
    await dialog.locator('[name="skipDuplicates"]').check();
    await dialog.locator('[name="skipUnsorted"]').check();
    await dialog.locator('[name="hfMetadata"]').check();
    const out = path.join(work, 'out', 'dataset');
    await dialog.locator('[name="out"]').fill(out);
    await shot('export-options');
    await dialog.getByRole('button', { name: /^Export/ }).click();
    await dialog.locator('.ok').waitFor();
    const meta = readFileSync(path.join(out, 'metadata.csv'), 'utf8').trim().split('\n');
    expect(meta[0]).toMatch(/^file_name,label,/);
    expect(meta.some((l) => l.startsWith('Unsorted/'))).toBe(false);
    expect(meta.some((l) => l.includes(path.basename(folder.copies[0]![1])))).toBe(false);
    expect(existsSync(path.join(out, 'Unsorted'))).toBe(false);
    expect(pageErrors).toEqual([]);
  });
});
