/**
 * Accessibility end to end, in Chromium against the built renderer and the fake host (60
 * images in 10 groups): axe-core on every screen and open dialog (light and dark), every
 * control reachable at 640 x 360 CSS px (a 1280 x 720 window at 200% zoom), keyboard focus
 * visible on every Tab stop, Tab kept inside an open dialog, the image grid as one Tab stop
 * whose arrows work only while it has focus, and small images drawn with crisp pixels.
 *
 * axe-core goes in through page.evaluate of its source (the DevTools protocol), not a <script>
 * tag, which the page's Content-Security-Policy (script-src 'self') blocks: see a11y.ts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { axeProblems, regionPixels, ringChange, ringClip, unreachableControls, type AxeProblem } from './a11y.js';
import { hasChromium } from './browser.js';
import type { FakeOptions } from './fakeHost.js';
import { openFakeUiSession, type FakeUiSession, type Viewport } from './session.js';

const DATA = '/work/shared/datasets/tuxpaint300';
const root = path.resolve(import.meta.dirname, '../..');
const enabled = hasChromium() && existsSync(DATA);

describe.skipIf(!enabled)('accessibility (Chromium, fake host)', () => {
  let ui: FakeUiSession | undefined;
  let fp: Page;
  const hash = () => fp.evaluate('location.hash') as Promise<string>;
  /** A fresh fake host and page at `#/route`. */
  async function open(route: string, viewport?: Viewport, opts: Partial<FakeOptions> = {}): Promise<FakeUiSession> {
    ui = await openFakeUiSession(root, { images: 60, groups: 10, mediaDir: DATA, ...opts }, viewport);
    fp = ui.page;
    await fp.goto(`${ui.server.url}#/${route}`);
    return ui;
  }
  const go = (route: string) => fp.goto(`${ui!.server.url}#/${route}`);
  /** The first image of group 1 in the Image view, as the grid opens it. */
  const imageRoute = async () => {
    const first = (await ui!.host.handlers.listGroupImages({ groupId: 1, sort: 'confidence-desc', offset: 0, limit: 1 })).items[0]!;
    return `image/${first.id}?group=1&sort=confidence-desc&i=0`;
  };

  /**
   * Each screen in the state that shows the most controls, ready: [name, how to get there].
   * The Group screen and the Map with a selection (their selection toolbars), the Groups
   * screen with a card picked (its toolbar).
   */
  const screens: Array<[string, () => Promise<void>]> = [
    [
      'Groups',
      async () => {
        await go('groups');
        await fp.locator('.gcard.unsorted').waitFor();
        await fp.locator('.gcard:not(.unsorted) input.pick').first().check();
        await fp.getByRole('toolbar', { name: 'Selected groups' }).waitFor();
      },
    ],
    [
      'Group',
      async () => {
        await go('group/1');
        await fp.locator('.cell[data-index="0"] img.ready').waitFor();
        await fp.locator('.cell[data-index="0"]').click();
        await fp.getByRole('group', { name: 'Send to:' }).waitFor();
      },
    ],
    [
      'Image',
      async () => {
        await go(await imageRoute());
        await fp.getByRole('group', { name: 'Or send to' }).waitFor();
        await fp.locator('.preview img').waitFor();
      },
    ],
    [
      'Map',
      async () => {
        await go('map');
        await fp.locator('.legend .item').first().waitFor();
        // The legend comes with the groups, the points a moment later: select all once they are there.
        await expect
          .poll(async () => {
            await fp.locator('body').press('Control+a');
            return fp.getByText('60 selected').isVisible();
          })
          .toBe(true);
      },
    ],
    [
      'Review',
      async () => {
        await go('review');
        await fp.getByText(/^1 of \d+/).waitFor();
        await fp.getByRole('group', { name: 'or send to' }).waitFor();
      },
    ],
    [
      'Libraries',
      async () => {
        await go('libraries');
        await fp.getByRole('button', { name: 'Place new images' }).waitFor();
        await fp.locator('details summary').first().click(); // the skipped files, listed
      },
    ],
  ];
  /** The dialogs: [name, how to open it from a fresh page]. */
  const dialogs: Array<[string, () => Promise<void>]> = [
    [
      'Export groups',
      async () => {
        await go('groups');
        await fp.getByRole('button', { name: 'Export…' }).click();
      },
    ],
    [
      'Move 1 image',
      async () => {
        await screens[1]![1]();
        await fp.getByRole('toolbar', { name: 'Selection' }).getByRole('button', { name: 'Move to…' }).click();
      },
    ],
    [
      'Rename group',
      async () => {
        await go('group/1');
        await fp.getByRole('button', { name: 'Rename' }).click();
      },
    ],
    [
      'Regroup everything',
      async () => {
        await go('groups');
        await fp.getByRole('button', { name: 'Regroup…' }).click();
      },
    ],
    [
      'Help',
      async () => {
        await go('review');
        await fp.getByText(/^1 of \d+/).waitFor();
        await fp.getByRole('button', { name: 'Help and keyboard shortcuts' }).click();
      },
    ],
  ];

  beforeAll(() => {
    if (!existsSync(path.join(root, 'dist/renderer/index.html'))) {
      execFileSync(process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'renderer/vite.config.ts'], {
        cwd: root,
        stdio: 'ignore',
      });
    }
  }, 120_000);
  afterEach(async () => {
    const errors = ui?.pageErrors ?? [];
    await ui?.close();
    ui = undefined;
    expect(errors).toEqual([]);
  });

  it('axe finds nothing serious or critical on any screen or in any dialog, light or dark', async () => {
    await open('groups');
    const found: Record<string, AxeProblem[]> = {};
    for (const scheme of ['light', 'dark'] as const) {
      await fp.emulateMedia({ colorScheme: scheme });
      for (const [name, show] of screens) {
        await show();
        const problems = await axeProblems(fp);
        if (problems.length) found[`${name} (${scheme})`] = problems;
      }
      for (const [name, show] of dialogs) {
        await show();
        const dialog = fp.getByRole('dialog', { name });
        await dialog.waitFor();
        const problems = await axeProblems(fp, '[role="dialog"]');
        if (problems.length) found[`${name} dialog (${scheme})`] = problems;
        await fp.keyboard.press('Escape');
        await dialog.waitFor({ state: 'detached' });
      }
    }
    expect(found).toEqual({});
  }, 240_000);

  it('at 640 x 360 (200% zoom) every control of every screen and dialog can be scrolled into view, nothing drawn over it', async () => {
    await open('groups', { width: 640, height: 360, deviceScaleFactor: 2 });
    const found: Record<string, string[]> = {};
    for (const [name, show] of screens) {
      await show();
      const bad = await unreachableControls(fp, 'body');
      if (bad.length) found[name] = bad;
    }
    for (const [name, show] of dialogs) {
      await show();
      const dialog = fp.getByRole('dialog', { name });
      await dialog.waitFor();
      const bad = await unreachableControls(fp, '[role="dialog"]');
      if (bad.length) found[`${name} dialog`] = bad;
      await fp.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
    }
    expect(found).toEqual({});
    // The Review screen's last buttons, reached with the wheel over its side panel, as a mouse
    // user would: there to click, not cut off.
    await screens[4]![1]();
    const aside = (await fp.locator('aside').boundingBox())!;
    await fp.mouse.move(aside.x + aside.width / 2, aside.y + aside.height / 2);
    for (let k = 0; k < 6; k++) await fp.mouse.wheel(0, 150);
    const skip = fp.getByRole('button', { name: 'Skip →' });
    await expect
      .poll(async () => {
        const b = (await skip.boundingBox())!;
        return fp.evaluate(`document.elementFromPoint(${b.x + b.width / 2}, ${b.y + b.height / 2})?.textContent ?? ''`);
      })
      .toBe('Skip →');
    await fp.mouse.click(...(await skip.boundingBox().then((b) => [b!.x + b!.width / 2, b!.y + b!.height / 2] as const)));
    await fp.getByText(/^2 of \d+/).waitFor();
  }, 240_000);

  it('shows keyboard focus on every Tab stop of every screen: cards, the grid, buttons, links, fields', async () => {
    await open('groups');
    await fp.mouse.move(1279, 799); // hovering nothing
    const view = { width: 1280, height: 800 };
    const invisible: Record<string, string[]> = {};
    for (const [name, show] of screens) {
      await show();
      await fp.evaluate('document.activeElement?.blur(); window.scrollTo(0, 0)');
      await fp.mouse.move(1279, 799);
      const seen = new Set<string>();
      for (let step = 0; step < 120; step++) {
        await fp.keyboard.press('Tab');
        const at = (await fp.evaluate(`(() => {
          const el = document.activeElement;
          if (!el || el === document.body) return null;
          if (!el.dataset.tabStep) el.dataset.tabStep = String(${step});
          const r = el.getBoundingClientRect();
          const label = (el.getAttribute('aria-label') || el.textContent || el.getAttribute('name') || el.tagName).replace(/\\s+/g, ' ').trim().slice(0, 30);
          return { key: el.dataset.tabStep, label: el.tagName.toLowerCase() + ': ' + label, box: { x: r.x, y: r.y, width: r.width, height: r.height } };
        })()`)) as { key: string; label: string; box: { x: number; y: number; width: number; height: number } } | null;
        if (!at) continue;
        if (seen.has(at.key)) break; // round the page once
        seen.add(at.key);
        if (at.box.width < 1 || at.box.height < 1) continue;
        const clip = ringClip(at.box, view);
        const focusedPixels = await regionPixels(fp, clip);
        await fp.evaluate('document.activeElement.blur()'); // Tab goes on from here
        const change = await ringChange(fp, at.box, focusedPixels, clip);
        if (change < 1) (invisible[name] ??= []).push(`${at.label} (${change.toFixed(2)})`);
      }
      expect(seen.size, `${name}: Tab stops`).toBeGreaterThan(5);
    }
    expect(invisible).toEqual({});
  }, 300_000);

  it('Tab and Shift+Tab go round the open dialog, never out to the page behind; Escape hands focus back', async () => {
    await open('groups');
    await fp.locator('.gcard').first().waitFor();
    const inDialog = () => fp.evaluate(`!!document.activeElement?.closest('[role="dialog"]')`);
    const focusedName = () =>
      fp.evaluate(
        `(() => { const el = document.activeElement; return (el.getAttribute('aria-label') || el.getAttribute('name') || el.textContent || '').trim(); })()`,
      ) as Promise<string>;
    for (const [name, show] of [dialogs[0]!, dialogs[1]!, dialogs[4]!]) {
      await show();
      await fp.getByRole('dialog', { name }).waitFor();
      const stops = new Set<string>();
      for (const key of ['Tab', 'Shift+Tab']) {
        for (let k = 0; k < 25; k++) {
          await fp.keyboard.press(key);
          expect(await inDialog(), `${name}: ${key} x ${k + 1} left the dialog for “${await focusedName()}”`).toBe(true);
          stops.add(await focusedName());
        }
      }
      expect(stops.has('Close'), `${name}: the ✕ is a stop`).toBe(true);
      await fp.keyboard.press('Escape');
      await fp.getByRole('dialog').waitFor({ state: 'detached' });
    }
    // The opener has focus again (Export… here, the last opened from the Help button).
    expect(await focusedName()).toBe('Help and keyboard shortcuts');
  });

  it('the image grid is one Tab stop; its arrows act only while it has focus, not from a header link', async () => {
    await open('group/1');
    await fp.locator('.cell[data-index="0"] img.ready').waitFor();
    const list = fp.getByRole('listbox', { name: 'Images in Group 1' });
    // Tab to the Map link, as the teacher did: the arrow is not the grid's, Enter is the link's.
    await fp.evaluate('document.activeElement?.blur()');
    for (let k = 0; k < 10 && (await fp.evaluate('document.activeElement?.textContent')) !== 'Map'; k++) await fp.keyboard.press('Tab');
    expect(await fp.evaluate('document.activeElement?.textContent')).toBe('Map');
    await fp.keyboard.press('ArrowRight');
    await fp.keyboard.press('ArrowDown');
    expect(await fp.locator('.cell.focus, .cell.sel').count()).toBe(0);
    expect(await fp.getByText(/selected$/).count()).toBe(0);
    // On to the grid with Tab: it is one stop, the list itself (its images are its options).
    const onGrid = () => fp.evaluate(`document.activeElement?.getAttribute('role') === 'listbox'`);
    const inGrid = () => fp.evaluate(`!!document.activeElement?.closest('[role="listbox"]')`);
    let k = 0;
    while (!(await onGrid()) && k++ < 20) await fp.keyboard.press('Tab');
    expect(k).toBeLessThan(20);
    await fp.keyboard.press('ArrowRight'); // the first image
    await fp.keyboard.press('ArrowRight');
    await fp.getByText('1 selected').waitFor();
    const active = await list.getAttribute('aria-activedescendant');
    expect(await fp.locator(`[id="${active}"]`).getAttribute('data-index')).toBe('1');
    expect(await fp.locator(`[id="${active}"]`).getAttribute('aria-selected')).toBe('true');
    const id = await fp.locator('.cell[data-index="1"]').getAttribute('data-image-id');
    await fp.keyboard.press('Shift+Tab'); // out, to the selection's Clear button
    expect(await inGrid()).toBe(false);
    expect(await fp.evaluate('document.activeElement?.textContent')).toBe('Clear');
    await fp.keyboard.press('ArrowRight'); // a button's arrow: the cursor stays
    await fp.keyboard.press('Tab'); // back on the grid, cursor where it was
    expect(await onGrid()).toBe(true);
    expect(await list.getAttribute('aria-activedescendant')).toBe(active);
    await fp.keyboard.press('Tab'); // and the next Tab leaves it: one stop for all its images
    expect(await inGrid()).toBe(false);
    await list.focus();
    await fp.keyboard.press('Enter');
    await expect.poll(hash).toBe(`#/image/${id}?group=1&sort=confidence-desc&i=1`);
  });

  it('the Groups cards open with a link, pick with a checkbox beside it, and arrows move between cards', async () => {
    const { host } = await open('groups');
    await fp.locator('.gcard.unsorted').waitFor();
    const groups = (await host.handlers.listGroups({ sort: 'size' })).groups;
    const first = fp.getByRole('link', { name: new RegExp(`^${groups[0]!.name} ${groups[0]!.count} images \\d+% sure$`) });
    expect(await first.count()).toBe(1); // named by what it shows
    await first.focus();
    await fp.keyboard.press(' ');
    await fp.getByRole('toolbar', { name: 'Selected groups' }).getByText('1 selected').waitFor();
    await fp.keyboard.press('ArrowRight');
    expect(await fp.evaluate(`document.activeElement.closest('.gcard').dataset.groupId`)).toBe(String(groups[1]!.id));
    await fp.keyboard.press('Enter');
    await expect.poll(hash).toBe(`#/group/${groups[1]!.id}`);
  });

  it('the Map says what positions and colours mean', async () => {
    await open('map');
    await fp
      .getByText('Each picture or dot is an image: similar images sit near each other, and the colour is its group (grey: Unsorted).')
      .waitFor();
  });

  it.each([
    ['the Image view', 'image/1'],
    ['Review', 'review'],
  ])('%s draws an image enlarged 3 times or more with crisp pixels, a larger one smoothed', async (_screen, route) => {
    // 46 x 50, as the walkthrough's, fills a pane of about 880 x 700 (some 14 times over);
    // 1,600 x 1,600 is shrunk to fit.
    for (const [w, h, expected] of [
      [46, 50, 'pixelated'],
      [1600, 1600, 'auto'],
    ] as const) {
      const media = mkdtempSync(path.join(tmpdir(), 'cs-e2e-px-'));
      try {
        const noise = Buffer.from(Array.from({ length: w * h * 3 }, (_, i) => (i * 7919) % 256));
        await sharp(noise, { raw: { width: w, height: h, channels: 3 } })
          .png()
          .toFile(path.join(media, 'picture.png'));
        await open(route, undefined, { mediaDir: media });
        const img = fp.locator('.preview img');
        await expect.poll(() => img.evaluate((i) => (i as unknown as { naturalWidth: number }).naturalWidth)).toBe(w);
        const rendering = () =>
          img.evaluate(
            (i) =>
              (globalThis as unknown as { getComputedStyle(e: unknown): { imageRendering: string } }).getComputedStyle(i).imageRendering,
          );
        await expect.poll(rendering).toBe(expected);
        expect(ui!.pageErrors).toEqual([]);
        await ui!.close();
        ui = undefined;
      } finally {
        rmSync(media, { recursive: true, force: true });
      }
    }
  });
});
