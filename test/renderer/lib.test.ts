import { describe, expect, it } from 'vitest';
import type { JobState, PlaceSummary, RunSummary } from '../../core/shared/contract.js';
import { confidenceLevel, exportPathFor, jobDoneText, plural } from '../../renderer/lib/format.js';
import { DEFAULT_UNSORTED_THRESHOLD } from '../../core/store/unsorted.js';
import { calibratedConfidence } from '../../core/icon/calibration.js';
import { controlOwnsKey, isTyping, keyToCommand, movesCursor } from '../../renderer/lib/keyboard.js';
import { crispPixels, fitScale } from '../../renderer/lib/preview.js';
import { PagedList, pagesFor } from '../../renderer/lib/paged.js';
import { formatRoute, parseRoute, type Route } from '../../renderer/lib/router.js';
import { Selection } from '../../renderer/lib/selection.js';
import { clampPan, openingScale, zoomAbout } from '../../renderer/lib/zoom.js';
import {
  fitCamera,
  groupColor,
  pointInPolygon,
  pointsForThumbnails,
  SpatialGrid,
  toData,
  toScreen,
  zoomAt,
} from '../../renderer/lib/spatial.js';

describe('Selection', () => {
  it('click selects one; ctrl toggles; shift selects the range from the anchor', () => {
    const s = new Selection(20);
    s.click(3);
    expect(s.indices()).toEqual([3]);
    s.click(7, { toggle: true });
    expect(s.indices()).toEqual([3, 7]);
    s.click(7, { toggle: true });
    expect(s.indices()).toEqual([3]);
    s.click(5);
    s.click(9, { shift: true });
    expect(s.indices()).toEqual([5, 6, 7, 8, 9]);
    s.click(2, { shift: true }); // the anchor stays at 5
    expect(s.indices()).toEqual([2, 3, 4, 5]);
    s.click(12, { toggle: true });
    s.click(14, { shift: true, toggle: true }); // ctrl+shift adds a range
    expect(s.indices()).toEqual([2, 3, 4, 5, 12, 13, 14]);
  });

  it('arrows move the cursor; shift-arrows extend from the anchor; edges clamp', () => {
    const s = new Selection(10);
    s.move(1);
    expect(s.focus).toBe(0);
    s.move(4);
    expect(s.indices()).toEqual([4]);
    s.move(1, true);
    s.move(1, true);
    expect(s.indices()).toEqual([4, 5, 6]);
    s.move(-3, true);
    expect(s.indices()).toEqual([3, 4]);
    s.move(100);
    expect(s.focus).toBe(9);
    s.move(-100);
    expect(s.focus).toBe(0);
  });

  it('select all, clear, and shrinking the list', () => {
    const s = new Selection(50_000);
    s.selectAll();
    expect(s.size).toBe(50_000);
    s.setCount(10);
    expect(s.size).toBe(10);
    s.click(8);
    s.afterRemoval(5);
    expect(s.size).toBe(0);
    expect(s.focus).toBe(4);
    s.clear();
    expect(s.size).toBe(0);
    const empty = new Selection(0);
    empty.move(1);
    empty.click(0);
    expect(empty.size).toBe(0);
  });
});

describe('paging', () => {
  it('pages cover a range', () => {
    expect(pagesFor(0, 0, 100)).toEqual([]);
    expect(pagesFor(0, 100, 100)).toEqual([0]);
    expect(pagesFor(99, 201, 100)).toEqual([0, 1, 2]);
  });
});

describe('PagedList', () => {
  it('loads each page once, serves items synchronously after, resolves indices', async () => {
    const calls: number[] = [];
    const data = Array.from({ length: 1000 }, (_, i) => i * 10);
    const list = new PagedList<number>(async (offset, limit) => {
      calls.push(offset);
      return { items: data.slice(offset, offset + limit), total: data.length };
    }, 100);
    expect(list.get(5)).toBeUndefined();
    await Promise.all([list.ensure(0, 150), list.ensure(50, 120)]);
    expect(calls.sort((a, b) => a - b)).toEqual([0, 100]);
    expect(list.get(149)).toBe(1490);
    expect(await list.resolve([5, 999, 150])).toEqual([50, 9990, 1500]);
    expect(list.total).toBe(1000);
    list.reset();
    expect(list.get(5)).toBeUndefined();
  });

  it('resolves items even when the list is reset while their page is loading (an edit arrived)', async () => {
    let version = 1;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const list = new PagedList<string>(async (offset, limit) => {
      const v = version;
      if (v === 1) await gate; // the first fetch is slow
      return { items: Array.from({ length: limit }, (_, i) => `v${v}-${offset + i}`), total: 300 };
    }, 100);
    const pending = list.resolve([7]);
    version = 2;
    list.reset(); // the data changed: the slow fetch's answer must be discarded
    release();
    expect(await pending).toEqual(['v2-7']);
  });
});

describe('keyboard map', () => {
  const k = (key: string, mods: Partial<{ shiftKey: boolean; ctrlKey: boolean; metaKey: boolean; altKey: boolean }> = {}, mac = false) =>
    keyToCommand({ key, ...mods }, mac);
  it('maps the documented keys', () => {
    expect(k('ArrowLeft')).toEqual({ kind: 'move', dx: -1, dy: 0, extend: false });
    expect(k('ArrowDown', { shiftKey: true })).toEqual({ kind: 'move', dx: 0, dy: 1, extend: true });
    expect(k('Enter')).toEqual({ kind: 'open' });
    expect(k('Escape')).toEqual({ kind: 'back' });
    expect(k('Delete')).toEqual({ kind: 'remove' });
    expect(k('3')).toEqual({ kind: 'send', n: 3 });
    expect(k('0')).toEqual({ kind: 'zoom', to: 'fit' }); // not a group number: those are 1-9
    expect(k('?', { shiftKey: true })).toEqual({ kind: 'help' });
    expect(k('p')).toEqual({ kind: 'pin' });
  });
  it('uses Ctrl on Linux/Windows and Cmd on macOS', () => {
    expect(k('z', { ctrlKey: true })).toEqual({ kind: 'undo' });
    expect(k('Z', { ctrlKey: true, shiftKey: true })).toEqual({ kind: 'redo' });
    expect(k('y', { ctrlKey: true })).toEqual({ kind: 'redo' });
    expect(k('a', { ctrlKey: true })).toEqual({ kind: 'select-all' });
    expect(k('z', { metaKey: true }, true)).toEqual({ kind: 'undo' });
    expect(k('z', { ctrlKey: true }, true)).toBeNull();
    expect(k('a', { metaKey: true })).toBeNull();
    expect(k('1', { ctrlKey: true })).toBeNull();
    expect(k('ArrowLeft', { altKey: true })).toBeNull();
  });
  it('knows when the user is typing', () => {
    expect(isTyping({ tagName: 'INPUT', type: 'text' })).toBe(true);
    expect(isTyping({ tagName: 'INPUT', type: 'range' })).toBe(false);
    expect(isTyping({ tagName: 'TEXTAREA' })).toBe(true);
    expect(isTyping({ tagName: 'DIV', isContentEditable: true })).toBe(true);
    expect(isTyping({ tagName: 'DIV' })).toBe(false);
    expect(isTyping(null)).toBe(false);
  });
  it('leaves a focused control its own keys: Enter and Space click, arrows move a slider', () => {
    const el = (tagName: string, attrs: Record<string, string> = {}, type?: string) => ({
      tagName,
      type,
      getAttribute: (n: string) => attrs[n] ?? null,
    });
    for (const key of ['Enter', ' ']) {
      expect(controlOwnsKey(el('BUTTON'), key)).toBe(true);
      expect(controlOwnsKey(el('A', { href: '#/map' }), key)).toBe(true);
      expect(controlOwnsKey(el('INPUT', {}, 'checkbox'), key)).toBe(true);
      expect(controlOwnsKey(el('INPUT', {}, 'range'), key)).toBe(true);
      expect(controlOwnsKey(el('SELECT'), key)).toBe(true);
      expect(controlOwnsKey(el('SUMMARY'), key)).toBe(true);
      expect(controlOwnsKey(el('DIV', { role: 'button' }), key)).toBe(true);
      expect(controlOwnsKey(el('A'), key)).toBe(false); // no href: not a link
      expect(controlOwnsKey(el('DIV', { role: 'gridcell' }), key)).toBe(false); // the grid's
      expect(controlOwnsKey(el('MAIN'), key)).toBe(false);
    }
    expect(controlOwnsKey(el('INPUT', {}, 'range'), 'ArrowRight')).toBe(true);
    expect(controlOwnsKey(el('INPUT', {}, 'range'), 'Home')).toBe(true);
    expect(controlOwnsKey(el('SELECT'), 'ArrowDown')).toBe(true);
    expect(controlOwnsKey(el('INPUT', {}, 'text'), 'p')).toBe(true);
    // Arrows on a button still move the grid cursor; Escape always backs out.
    expect(controlOwnsKey(el('BUTTON'), 'ArrowRight')).toBe(false);
    expect(controlOwnsKey(el('BUTTON'), 'Delete')).toBe(false);
    expect(controlOwnsKey(el('INPUT', {}, 'text'), 'Escape')).toBe(false);
    expect(controlOwnsKey(null, 'Enter')).toBe(false);
  });
});

describe('formatting', () => {
  it('says “1 image” for one and “2 images”, “1,234 images” otherwise', () => {
    expect(plural(1, 'image')).toBe('1 image');
    expect(plural(0, 'image')).toBe('0 images');
    expect(plural(1234, 'image')).toBe('1,234 images');
    expect(plural(2, 'copy', 'copies')).toBe('2 copies');
  });
  it('proposes an export destination of the format’s own kind', () => {
    expect(exportPathFor('/home/me/sorted', 'csv')).toBe('/home/me/sorted.csv');
    expect(exportPathFor('/home/me/sorted/', 'json')).toBe('/home/me/sorted.json');
    expect(exportPathFor('/home/me/groups.csv', 'json')).toBe('/home/me/groups.json');
    expect(exportPathFor('/home/me/groups.JSON', 'folders')).toBe('/home/me/groups');
    expect(exportPathFor('  ', 'csv')).toBe('');
  });
});

describe('previews', () => {
  it('are drawn pixelated from 3 screen pixels per image pixel on, counted at the screen’s scale', () => {
    // the walkthrough's 46 x 50 icon in a 520 px pane: about 10 times over
    expect(fitScale(46, 50, 520, 520)).toBeCloseTo(10.4, 1);
    expect(crispPixels(46, 50, 520, 520)).toBe(true);
    expect(crispPixels(400, 300, 1000, 900)).toBe(false); // 2.5 times: smoothed
    expect(crispPixels(400, 300, 1000, 900, 2)).toBe(true); // at 200% zoom, 5 screen pixels each
    expect(crispPixels(4000, 3000, 1000, 900, 2)).toBe(false);
    expect(crispPixels(0, 0, 500, 500)).toBe(false); // not loaded yet
  });
});

describe('cursor keys', () => {
  it('are the arrows, Page Up/Down, Home and End: what a focused link or button does not lend the grid', () => {
    const moving = ['ArrowLeft', 'ArrowDown', 'PageUp', 'PageDown', 'Home', 'End'].map((key) => movesCursor(keyToCommand({ key })!));
    expect(moving).toEqual([true, true, true, true, true, true]);
    const others = ['Enter', 'p', '1', 'Delete', 'Escape'].map((key) => movesCursor(keyToCommand({ key })!));
    expect(others).toEqual([false, false, false, false, false]);
  });
});

describe('map hit-testing', () => {
  // 100,000 points on a jittered lattice.
  const n = 100_000;
  const xy = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    xy[2 * i] = (i % 400) + ((i * 7919) % 100) / 1000;
    xy[2 * i + 1] = Math.floor(i / 400) + ((i * 104729) % 100) / 1000;
  }
  const grid = new SpatialGrid(xy);

  it('finds the nearest point within a radius, or none', () => {
    const i = grid.nearest(10.02, 20.03, 0.5);
    expect(i).toBe(20 * 400 + 10);
    expect(grid.nearest(-50, -50, 1)).toBe(-1);
  });

  // No time limit here: speed is for benchmarks, and a 50 ms limit failed on a busy machine.
  it('box selection equals brute force', () => {
    const hits = grid.inRect(100.5, 50.5, 10.5, 150.5);
    let brute = 0;
    for (let i = 0; i < n; i++) {
      const x = xy[2 * i]!,
        y = xy[2 * i + 1]!;
      if (x >= 10.5 && x <= 100.5 && y >= 50.5 && y <= 150.5) brute++;
    }
    expect(hits.length).toBe(brute);
  });

  it('lasso selection uses the polygon, not its bounding box', () => {
    const tri = [0, 0, 100, 0, 0, 100];
    const hits = grid.inPolygon(tri);
    expect(hits.length).toBeGreaterThan(4000);
    for (const i of hits) expect(xy[2 * i]! + xy[2 * i + 1]!).toBeLessThanOrEqual(100.01);
    expect(pointInPolygon(60, 60, tri)).toBe(false);
    expect(pointInPolygon(10, 10, tri)).toBe(true);
  });

  it('pictures instead of dots: every point of a small map, the points in view once zoomed in', () => {
    const cam = fitCamera(grid.bounds, 800, 600);
    // the whole 100,000-point map is in view: dots
    expect(pointsForThumbnails(grid, cam, 800, 600, 300, 44)).toBeNull();
    // zoomed in round (123, 45) until about 10 x 8 lattice cells are in view: those points
    const close = zoomAt(cam, 800, 600, ...toScreen(cam, 800, 600, 123, 45), 800 / 10 / cam.scale);
    const shown = pointsForThumbnails(grid, close, 800, 600, 300, 44)!;
    expect(shown.length).toBeGreaterThan(50);
    expect(shown.length).toBeLessThanOrEqual(300);
    const [ax, ay] = toData(close, 800, 600, -44, 644);
    const [bx, by] = toData(close, 800, 600, 844, -44);
    let inView = 0;
    for (let i = 0; i < n; i++) {
      const x = xy[2 * i]!,
        y = xy[2 * i + 1]!;
      if (x >= ax && x <= bx && y >= ay && y <= by) inView++;
    }
    expect(shown.length).toBe(inView);
    for (const i of shown) expect(Math.hypot(xy[2 * i]! - 123, xy[2 * i + 1]! - 45)).toBeLessThan(10);
    // a small map: every point, whatever the camera
    const small = new SpatialGrid(xy.subarray(0, 2 * 250));
    expect(pointsForThumbnails(small, close, 800, 600, 300, 44)).toEqual(Array.from({ length: 250 }, (_, i) => i));
  });

  it('camera round-trips and zooms about the cursor', () => {
    const cam = fitCamera(grid.bounds, 800, 600);
    const [sx, sy] = toScreen(cam, 800, 600, 123, 45);
    const [x, y] = toData(cam, 800, 600, sx, sy);
    expect(x).toBeCloseTo(123);
    expect(y).toBeCloseTo(45);
    const z = zoomAt(cam, 800, 600, sx, sy, 3);
    expect(z.scale).toBeCloseTo(cam.scale * 3);
    const [sx2, sy2] = toScreen(z, 800, 600, 123, 45);
    expect(sx2).toBeCloseTo(sx);
    expect(sy2).toBeCloseTo(sy);
  });
});

describe('routes', () => {
  it('round-trip', () => {
    const routes: Route[] = [
      { name: 'groups' },
      { name: 'libraries' },
      { name: 'map' },
      { name: 'review' },
      { name: 'group', id: 12 },
      { name: 'group', id: 'unsorted' },
      { name: 'image', id: 5, group: 'unsorted', sort: 'confidence-asc', index: 41 },
      { name: 'image', id: 5, group: null, sort: 'date', index: null },
    ];
    for (const r of routes) expect(parseRoute(formatRoute(r))).toEqual(r);
    expect(parseRoute('')).toEqual({ name: 'groups' });
    expect(parseRoute('#/group/abc')).toEqual({ name: 'groups' });
    expect(parseRoute('#/image/-3')).toEqual({ name: 'groups' });
  });
});

describe('jobDoneText', () => {
  const job = (summary: Partial<RunSummary>): JobState => ({
    id: 'j',
    kind: 'recluster',
    status: 'done',
    phase: null,
    phases: [],
    startedAt: '',
    summary: {
      runId: 2,
      images: 60,
      skipped: {},
      groups: [],
      unsorted: 0,
      secondsByPhase: {},
      backend: { choice: 'wasm', device: 'cpu' },
      k: 3,
      kChosenBy: 'user',
      ...summary,
    },
  });
  const groups = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i + 1, name: `Group ${i + 1}`, size: 1 }));

  it('says what the run made', () => {
    expect(jobDoneText(job({ groups: groups(1), images: 1 }))).toBe('Grouped 1 image into 1 group');
  });
  it('says why there are more groups than asked, and which names were dropped', () => {
    const text = jobDoneText(
      job({ groups: groups(5), k: 5, kRequested: 2, pinnedGroups: 5, names: { kept: ['Cars'], dropped: ['Fish', 'Sun'] } }),
    );
    expect(text).toBe(
      'Grouped 60 images into 5 groups; not 2: 5 groups hold pinned images; no group is mostly “Fish”, “Sun” any more: those names were dropped',
    );
  });
  it('says nothing more when the run made what was asked and kept every name', () => {
    expect(jobDoneText(job({ groups: groups(3), kRequested: 3, pinnedGroups: 3, names: { kept: ['Cars'], dropped: [] } }))).toBe(
      'Grouped 60 images into 3 groups',
    );
  });
  it('after placing new images: what was placed, what fits no group, and only the files gone since the last scan', () => {
    const placed = (p: Partial<PlaceSummary>): JobState => ({
      ...job({}),
      kind: 'place-new',
      summary: undefined,
      placed: { placed: 0, unsorted: 0, moved: 0, missing: 0, newlyMissing: 0, skipped: {}, seconds: 1, ...p },
    });
    expect(jobDoneText(placed({ placed: 1, unsorted: 1, missing: 3, newlyMissing: 1 }))).toBe(
      'Placed 1 new or changed image in your groups; of those, 1 fits no group well and went to Unsorted, where Regroup… makes groups for them; 1 image no longer in its folder',
    );
    expect(jobDoneText(placed({ placed: 32, unsorted: 8 }))).toBe(
      'Placed 32 new or changed images in your groups; of those, 8 fit no group well and went to Unsorted, where Regroup… makes groups for them',
    );
    // the two gone at an earlier scan are not news
    expect(jobDoneText(placed({ missing: 2 }))).toBe('No new or changed images');
  });
});

describe('the group colours (issue 21, defect 9)', () => {
  const lin = (c: number) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  const luminance = ([r, g, b]: number[]) => 0.2126 * lin(r!) + 0.7152 * lin(g!) + 0.0722 * lin(b!);
  const contrast = (a: number[], b: number[]) => {
    const [x, y] = [luminance(a), luminance(b)];
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  };
  const lab = (rgb: number[]) => {
    const [r, g, b] = rgb.map(lin) as [number, number, number];
    const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
    const [x, y, z] = [
      (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047,
      0.2126 * r + 0.7152 * g + 0.0722 * b,
      (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883,
    ];
    return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
  };
  const deltaE = (a: number[], b: number[]) => Math.hypot(...lab(a).map((v, i) => v - lab(b)[i]!));
  for (const [scheme, dark, surface] of [
    ['light', false, [1, 1, 1]],
    ['dark', true, [0x1a / 255, 0x1d / 255, 0x23 / 255]],
  ] as const) {
    it(`${scheme}: twelve distinct hues, each visible on the map and apart from Unsorted's grey`, () => {
      const colours = Array.from({ length: 12 }, (_, slot) => groupColor(slot, dark));
      const grey = groupColor(null, dark);
      for (const c of colours) {
        expect(contrast(c, [...surface])).toBeGreaterThanOrEqual(3);
        expect(deltaE(c, grey)).toBeGreaterThanOrEqual(25);
      }
      for (let i = 0; i < colours.length; i++)
        for (let j = i + 1; j < colours.length; j++) expect(deltaE(colours[i]!, colours[j]!)).toBeGreaterThanOrEqual(20);
    });
  }
});

describe('the image viewer’s zoom (issue 21, defect 9 and zoom)', () => {
  it('opens a photo fitted when it is larger than the pane, at 1:1 when smaller: never enlarged to a blur', () => {
    expect(openingScale(4000, 3000, 800, 600)).toBeCloseTo(0.2);
    expect(openingScale(640, 480, 1000, 700)).toBe(1);
    // a 28 x 28 dataset image: the largest whole multiple that fits, drawn with crisp pixels
    expect(openingScale(28, 28, 600, 500)).toBe(17);
  });

  it('zooms about the pointer: the image point under it stays put', () => {
    const v = { scale: 1, x: 10, y: -20 };
    const z = zoomAbout(v, 2, 100, 50);
    // image point under (100, 50): ((100 - 10) / 1, (50 + 20) / 1) = (90, 70); after: 100 = x' + 90 * 2
    expect(z).toEqual({ scale: 2, x: 100 - 90 * 2, y: 50 - 70 * 2 });
    expect(zoomAbout(v, 1e6, 0, 0).scale).toBe(32);
    expect(clampPan({ scale: 1, x: 500, y: 0 }, 400, 300, 800, 600)).toEqual({ scale: 1, x: 0, y: 0 });
  });

  it('has keys: + and = in, - out, 0 fit, Z 1:1', () => {
    expect(['+', '=', '-', '0', 'z'].map((key) => keyToCommand({ key }))).toEqual([
      { kind: 'zoom', to: 'in' },
      { kind: 'zoom', to: 'in' },
      { kind: 'zoom', to: 'out' },
      { kind: 'zoom', to: 'fit' },
      { kind: 'zoom', to: 'actual' },
    ]);
  });
});

describe('confidence colours', () => {
  it('on the calibrated scale: low below the default Unsorted threshold, high from 60%', () => {
    expect(confidenceLevel(DEFAULT_UNSORTED_THRESHOLD - 0.01)).toBe('low');
    expect(confidenceLevel(DEFAULT_UNSORTED_THRESHOLD)).toBe('mid');
    expect(confidenceLevel(0.59)).toBe('mid');
    // the most certain images (phi near 1) read about 72%: they must be able to show as sure
    expect(confidenceLevel(0.6)).toBe('high');
    expect(confidenceLevel(calibratedConfidence(0.95))).toBe('high');
  });
});
