/**
 * Bring your own model in Chromium, on the real service: a library of coloured images grouped
 * with the built-in model; in Libraries > Models a bad folder is refused with its line, the
 * generated two-tower CLIP (test/fixtures/tinyModels.ts) is added and used (the switch embeds
 * and regroups with progress); the group cards then offer suggested names (taking one renames
 * the group, undoably), the content search beside the name search finds the images of a colour,
 * and a group's grid filters by content. Screenshots: test-results/e2e-models-*.png (1280x800,
 * 800x600, dark).
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch, type ApiHost } from '../../core/api/host.js';
import type { MethodName, Outputs } from '../../core/shared/contract.js';
import { hasChromium } from './browser.js';
import { openUiSession, type UiSession } from './session.js';
import { writeBadModelFolders, writeColourPhotos, writeTinyClip } from '../fixtures/tinyModels.js';
import { suiteTempDir } from '../helpers/tempDir.js';

const root = path.resolve(import.meta.dirname, '../..');
const shots = path.join(root, 'test-results');
const work = suiteTempDir('cs-e2e-models-');
const modelsDirBefore = process.env.CONSTELLATE_MODELS_DIR;
let session: UiSession | undefined;
let host: ApiHost;
let page: Page;
let pageErrors: string[] = [];

const call = async <M extends MethodName>(m: M, input: unknown = {}) => (await dispatch(host, m, input)) as Outputs[M];
const shot = (name: string) => page.screenshot({ path: path.join(shots, `e2e-models-${name}.png`) });
async function jobEnds(): Promise<Outputs['getJob']> {
  for (const until = Date.now() + 240_000; Date.now() < until; await new Promise((r) => setTimeout(r, 250))) {
    const job = await call('getJob');
    if (job?.status !== 'running') return job;
  }
  throw new Error('the job did not end in 4 minutes');
}

describe.skipIf(!hasChromium() || !existsSync(path.join(root, 'dist/renderer/index.html')))(
  'bring your own model (Chromium, real service)',
  () => {
    const photos = path.join(work, 'photos');
    const clip = path.join(work, 'tiny-clip');
    let bad: ReturnType<typeof writeBadModelFolders>;

    beforeAll(async () => {
      process.env.CONSTELLATE_MODELS_DIR = path.join(work, 'models');
      mkdirSync(shots, { recursive: true });
      await writeColourPhotos(photos);
      writeTinyClip(clip);
      bad = writeBadModelFolders(path.join(work, 'bad'));
      session = await openUiSession(path.join(work, 'db', 'm.db'), root);
      ({ host, page, pageErrors } = session);
      // Grouped first with the built-in MobileNetV2: no suggestions, no content search.
      await call('addLibrary', { path: photos });
      await call('startClustering', { groups: 3 });
      expect((await jobEnds())?.status).toBe('done');
    }, 300_000);

    afterAll(async () => {
      await session?.close();
      if (modelsDirBefore === undefined) delete process.env.CONSTELLATE_MODELS_DIR;
      else process.env.CONSTELLATE_MODELS_DIR = modelsDirBefore;
    });

    it('with the built-in model: no content search and "Group N" names only', async () => {
      await page.goto(`${session!.server.url}#/groups`);
      await page.locator('.gcard').first().waitFor();
      expect(await page.getByRole('search').count()).toBe(0);
      expect(await page.getByText('Suggested:').count()).toBe(0);
    });

    it('refuses a bad model folder with its one line, adds the generated CLIP, and switches the library to it', async () => {
      await page.getByRole('link', { name: 'Libraries' }).click();
      const folder = page.getByLabel('Model folder');
      await folder.fill(bad.textOnly);
      await page.getByRole('button', { name: 'Add model folder' }).click();
      await expect
        .poll(() => page.getByRole('alert').innerText())
        .toMatch(/holds only a text encoder \(onnx\/text_model\.onnx\): an image encoder .* is needed/);
      await shot('01-refused');
      expect((await call('listModels')).models).toHaveLength(1);

      await folder.fill(clip);
      await page.getByRole('button', { name: 'Add model folder' }).click();
      const row = page.locator('tr[data-model-id^="tiny-clip@"]');
      await row.waitFor();
      expect(await row.innerText()).toContain('search and names');
      await row.getByRole('button', { name: 'Use' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByRole('button', { name: 'Use and regroup' }).click();
      await page.getByRole('progressbar').first().waitFor();
      await shot('02-switching');
      expect((await jobEnds())?.status).toBe('done');
      await expect.poll(() => row.innerText()).toContain('in use');
      const state = await call('listModels');
      expect(state.groupingModel).toMatch(/^tiny-clip@/);
      expect(state.calibrationNote).toMatch(/fitted for the built-in MobileNetV2/);
      await shot('03-models');
    }, 300_000);

    it('offers suggested names on the cards; taking one renames the group, undoably', async () => {
      await page.getByRole('link', { name: 'Groups', exact: true }).click();
      await page.getByText('Suggested:').first().waitFor();
      const offered = (await page.locator('.gcard .suggest button').allInnerTexts()).sort();
      expect(offered).toEqual(['Grass', 'Sky', 'Strawberry']);
      await shot('04-suggested');
      await page.getByRole('button', { name: /Rename Group \d to Strawberry/ }).click();
      await page.locator('.gcard .name', { hasText: 'Strawberry' }).waitFor();
      // A named group is offered nothing; the others keep theirs.
      await expect.poll(async () => (await page.locator('.gcard .suggest button').allInnerTexts()).sort()).toEqual(['Grass', 'Sky']);
      await page.locator('header').getByRole('button', { name: 'Undo' }).click();
      await expect
        .poll(async () => (await page.locator('.gcard .suggest button').allInnerTexts()).sort())
        .toEqual(['Grass', 'Sky', 'Strawberry']);
    });

    it('finds images by content beside the name search, best match first', async () => {
      await page.getByLabel('Find images by content').fill('sky');
      await page.getByRole('button', { name: 'Find' }).click();
      const results = page.locator('.tresults li');
      await results.first().waitFor();
      const ids = await results.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-image-id'))));
      const api = await call('searchByText', { text: 'sky', limit: 60 });
      expect(ids).toEqual(api.items.map((i) => i.id));
      const names = api.items.slice(0, 6).map((i) => i.name);
      expect(names.every((n) => n.startsWith('blue-'))).toBe(true);
      expect(names[0]).toBe('blue-0.png');
      await shot('05-search');
      await page.setViewportSize({ width: 800, height: 600 });
      await shot('06-search-800');
      await page.emulateMedia({ colorScheme: 'dark' });
      await shot('07-search-dark');
      await page.emulateMedia({ colorScheme: 'light' });
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.getByRole('button', { name: 'Clear' }).click();
      expect(await results.count()).toBe(0);
    });

    it("filters a group's grid by content: only that group's images", async () => {
      const { groups } = await call('listGroups', {});
      const group = groups[0]!;
      const items = (await call('listGroupImages', { groupId: group.id, limit: 100 })).items;
      const members = new Set(items.map((i) => i.id));
      const word = { red: 'strawberry', green: 'grass', blue: 'sky' }[items[0]!.name.split('-')[0]!]!;
      await page.locator(`.gcard[data-group-id="${group.id}"] a.open`).click();
      await page.getByLabel('Filter this group by content').fill(word);
      await page.getByRole('button', { name: 'Find' }).click();
      const results = page.locator('.tresults li');
      await results.first().waitFor();
      const ids = await results.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-image-id'))));
      expect(ids.length).toBe(members.size);
      expect(ids.every((id) => members.has(id))).toBe(true);
      await expect.poll(() => page.locator('.body').isHidden()).toBe(true);
      await shot('08-filter');
      await page.getByRole('button', { name: 'Clear' }).click();
      await expect.poll(() => page.locator('.body').isVisible()).toBe(true);
      expect(pageErrors).toEqual([]);
    });
  },
);
