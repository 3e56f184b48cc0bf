/**
 * End to end: real Chromium (Debian's, via playwright-core) against the real core service and
 * HTTP server, on a database built from real images (4 classes x 10 from tuxpaint300).
 * Adds the folder through the UI, waits for the groups, then renames, merges, splits, moves,
 * undoes, pins, re-clusters (pins kept) and exports. Screenshots go to test-results/e2e-*.png.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MethodName, Outputs } from '../../core/api/contract.js';
import { dispatch, type ApiHost } from '../../core/api/host.js';
import type { HttpServer } from '../../core/api/http.js';
import { hasChromium } from './browser.js';
import { overlayOpaquePixels } from './mapOverlay.js';
import { openUiSession, type UiSession } from './session.js';

const DATA = '/work/shared/datasets/tuxpaint300';
const root = path.resolve(import.meta.dirname, '../..');
const shots = path.join(root, 'test-results');
const work = mkdtempSync(path.join(tmpdir(), 'cs-e2e-'));
const photos = path.join(work, 'photos');
let session: UiSession | undefined;
let host: ApiHost;
let server: HttpServer;
let page: Page;
let pageErrors: string[] = [];

const call = async <M extends MethodName>(m: M, input: unknown = {}) => (await dispatch(host, m, input)) as Outputs[M];
const shot = (name: string) => page.screenshot({ path: path.join(shots, `e2e-${name}.png`) });
const cards = () => page.locator('.gcard:not(.unsorted)');

async function submitDialog(fields: Record<string, string> = {}) {
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  for (const [name, value] of Object.entries(fields)) {
    const el = dialog.locator(`[name="${name}"]`);
    if ((await el.evaluate((e) => e.tagName)) === 'SELECT') await el.selectOption(value);
    else await el.fill(value);
  }
  await dialog.locator('button[type="submit"]').click();
  await dialog.waitFor({ state: 'detached' });
}

const enabled = hasChromium() && existsSync(DATA);

describe.skipIf(!enabled)('UI end to end (Chromium, real service)', () => {
  beforeAll(async () => {
    if (!existsSync(path.join(root, 'dist/renderer/index.html'))) {
      execFileSync(process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'renderer/vite.config.ts'], { cwd: root, stdio: 'ignore' });
    }
    for (const cls of ['animals_birds', 'food_fruit', 'space_planets', 'vehicles']) {
      for (const f of readdirSync(path.join(DATA, cls)).sort().slice(0, 10)) cpSync(path.join(DATA, cls, f), path.join(photos, cls, f));
    }
    mkdirSync(shots, { recursive: true });
    session = await openUiSession(path.join(work, 'db', 'c.db'), root);
    ({ host, server, page, pageErrors } = session);
  }, 120_000);

  afterAll(async () => {
    await session?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('starts empty, adds a folder and shows live progress, then the groups', async () => {
    await page.goto(`${server.url}#/groups`);
    await page.getByText('No groups yet').waitFor();
    await shot('01-empty');
    await page.getByRole('link', { name: 'Libraries' }).click();
    await page.locator('#lib-path').fill(photos);
    await page.getByRole('button', { name: 'Add and group' }).click();
    await page.getByRole('progressbar').first().waitFor();
    await shot('02-progress');
    await page.getByRole('button', { name: 'See groups' }).waitFor({ timeout: 240_000 });
    await shot('03-done');
    await page.getByRole('button', { name: 'See groups' }).click();
    await cards().first().waitFor();
    expect(await cards().count()).toBeGreaterThanOrEqual(2);
    await expect.poll(() => page.locator('footer').innerText()).not.toContain('Not connected');
    await shot('04-groups');
  }, 300_000);

  it('renames a group (and keeps the name after reload)', async () => {
    const first = cards().first();
    await first.hover();
    await first.getByRole('button', { name: 'Rename' }).click();
    await submitDialog({ name: 'Birds e2e' });
    await page.locator('.gcard .name', { hasText: 'Birds e2e' }).waitFor();
    await page.reload();
    await page.locator('.gcard .name', { hasText: 'Birds e2e' }).waitFor();
  });

  it('merges two groups, then undoes it', async () => {
    const before = await cards().count();
    await cards().nth(0).locator('input.pick').check();
    await cards().nth(1).locator('input.pick').check();
    await page.getByRole('toolbar', { name: 'Selected groups' }).getByRole('button', { name: 'Merge' }).click();
    await submitDialog({ name: 'Merged e2e' });
    await expect.poll(() => cards().count()).toBe(before - 1);
    await page.locator('.gcard .name', { hasText: 'Merged e2e' }).waitFor();
    await shot('05-merged');
    await page.keyboard.press('Control+z');
    await expect.poll(() => cards().count()).toBe(before);
    await page.locator('.gcard .name', { hasText: 'Birds e2e' }).waitFor();
  });

  it('splits a group into two', async () => {
    const before = await cards().count();
    const biggest = cards().first();
    await biggest.hover();
    await biggest.getByRole('button', { name: 'Split' }).click();
    await submitDialog({ parts: '2' });
    await expect.poll(() => cards().count(), { timeout: 60_000 }).toBe(before + 1);
    await shot('06-split');
  });

  it('selects a range in a group grid and moves it to a new group; undo and redo', async () => {
    await cards().first().click();
    await page.locator('.cell[data-index="0"] img').waitFor();
    await page.locator('.cell[data-index="0"]').click();
    await page.locator('.cell[data-index="2"]').click({ modifiers: ['Shift'] });
    await page.getByText('3 selected').waitFor();
    await shot('07-group-selection');
    await page.getByRole('button', { name: 'Move to…' }).click();
    await submitDialog({ to: '__new', name: 'Picked e2e' });
    await page.getByRole('button', { name: '← Back to groups' }).or(page.getByLabel('Back to groups')).first().click();
    const picked = page.locator('.gcard', { hasText: 'Picked e2e' });
    await picked.waitFor();
    await expect.poll(() => picked.innerText()).toContain('3 images');
    await page.keyboard.press('Control+z');
    await picked.waitFor({ state: 'detached' });
    await page.keyboard.press('Control+Shift+z');
    await picked.waitFor();
  });

  it('pins with the keyboard, opens an image, and re-clusters keeping pins and names', async () => {
    await page.locator('.gcard', { hasText: 'Picked e2e' }).click();
    await page.locator('.cell[data-index="0"] img').waitFor();
    await page.locator('.cell[data-index="0"]').click();
    await page.keyboard.press('Shift+ArrowRight');
    await page.keyboard.press('p');
    await page.locator('.cell[data-index="1"] .pin').waitFor();
    const pinned = (await call('listGroups', {})).groups.find((g) => g.name === 'Picked e2e')!;
    const pinnedIds = (await call('listGroupImages', { groupId: pinned.id, limit: 10 })).items.filter((i) => i.pinned).map((i) => i.id);
    expect(pinnedIds.length).toBeGreaterThanOrEqual(2); // moved images are pinned too
    await page.keyboard.press('Enter');
    await page.locator('.preview img').waitFor();
    await expect.poll(() => page.locator('.preview img').evaluate((i) => (i as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
    await shot('08-image');
    // The other groups, as buttons numbered like the 1-9 keys.
    await page.getByRole('group', { name: 'Or send to' }).getByRole('button').first().waitFor();
    // Browser mode: no file manager to show the file in, so no such buttons.
    expect(await page.getByRole('button', { name: /^(Show in (folder|Finder|Explorer)|Open)$/ }).count()).toBe(0);
    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Regroup…' }).click();
    await submitDialog({ groups: '3' });
    await page.locator('footer .job').waitFor({ state: 'detached', timeout: 240_000 });
    await expect.poll(async () => (await call('getJob'))?.status, { timeout: 240_000 }).toBe('done');
    const after = await call('listGroups', {});
    for (const id of pinnedIds) {
      const img = await call('getImage', { id });
      expect(img.pinned).toBe(true);
      expect(img.groupName).toBe('Picked e2e');
    }
    await page.locator('.gcard .name', { hasText: 'Picked e2e' }).waitFor();
    expect(after.groups.length).toBeGreaterThanOrEqual(2);
    await shot('09-reclustered');
  }, 300_000);

  it('shows the map and the review queue', async () => {
    await page.getByRole('link', { name: 'Map' }).click();
    await page.locator('.legend .item').first().waitFor();
    // A small map shows each image as a 44 px thumbnail, drawn on the overlay canvas (without
    // them the overlay is empty: the dots are on the WebGL canvas below). 40 images: wait until
    // their thumbnails cover at least half of 40 x 44 x 44 CSS pixels (some overlap).
    await expect.poll(() => overlayOpaquePixels(page), { timeout: 15_000 }).toBeGreaterThan(0.5 * 40 * 44 * 44);
    const box = await page.locator('canvas.overlay').boundingBox();
    await page.mouse.move(box!.x + 20, box!.y + 20);
    await page.mouse.down();
    await page.mouse.move(box!.x + box!.width - 20, box!.y + box!.height - 20, { steps: 5 });
    await page.mouse.up();
    await page.getByText(/selected/).first().waitFor();
    await shot('10-map');
    await page.keyboard.press('Escape');
    await page.getByRole('link', { name: 'Review' }).click();
    await page.getByRole('button', { name: /Keep it here/ }).waitFor();
    await shot('11-review');
    await page.keyboard.press('Enter');
    await page.getByText('1 reviewed').waitFor();
  });

  it('previews and writes an export', async () => {
    const out = path.join(work, 'export.csv');
    await page.getByRole('button', { name: 'Export…' }).click();
    await page.locator('.choice', { hasText: 'CSV' }).click();
    await page.locator('input[name="out"]').fill(out);
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByRole('region', { name: 'Export preview' }).or(page.locator('.modal .err')).first().waitFor();
    expect(await page.locator('.modal .err').count(), await page.locator('.modal').innerText()).toBe(0);
    await shot('12-export-preview');
    await page.getByRole('button', { name: /^Export \d+ images/ }).click();
    await page.getByText(/^Wrote \d+ files/).waitFor();
    expect(readFileSync(out, 'utf8').split('\n').length).toBeGreaterThan(30);
    await page.keyboard.press('Escape');
    await page.keyboard.press('?');
    await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
    await page.keyboard.press('Escape');
    expect(pageErrors).toEqual([]);
  });
});
