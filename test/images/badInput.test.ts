/**
 * Every case of the bad-input corpus (test/fixtures/badCorpus.ts) through scan + decode:
 * each gets a correct decode or a recorded skip reason (code + message), never a throw.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeForModel, decodeImage, type DecodeResult, type ModelInput } from '../../core/images/decode.js';
import { isScanSkip, scanFolders } from '../../core/library/scan.js';
import { isSkipCode, type SkipReason } from '../../core/library/skips.js';
import {
  COLOURS,
  ORIENT_H,
  ORIENT_W,
  QUADRANTS,
  makeBadCorpus,
  makePngBomb,
  removeBadCorpus,
  type BadCorpus,
} from '../fixtures/badCorpus.js';

type Outcome = { kind: 'ok'; result: Extract<DecodeResult, { ok: true }> } | { kind: 'skip'; skip: SkipReason; folder: boolean };

let dir: string;
let corpus: BadCorpus;
const outcomes = new Map<string, Outcome>();
const rel = (p: string) => path.relative(dir, p).split(path.sep).join('/');

beforeAll(async () => {
  dir = path.join(await fsp.mkdtemp(path.join(os.tmpdir(), 'constellate-bad-')), 'corpus');
  corpus = await makeBadCorpus(dir);
  const files: string[] = [];
  for await (const e of scanFolders(dir)) {
    const name = rel(e.path);
    expect(outcomes.has(name), `reported twice: ${name}`).toBe(false);
    if (isScanSkip(e)) outcomes.set(name, { kind: 'skip', skip: e.skip, folder: e.folder === true });
    else files.push(e.path);
  }
  for (const f of files) {
    const r = await decodeForModel(f);
    outcomes.set(rel(f), r.ok ? { kind: 'ok', result: r } : { kind: 'skip', skip: r.skip, folder: false });
  }
  if (corpus.caveats.length > 0) console.warn(`bad corpus caveats:\n  ${corpus.caveats.join('\n  ')}`);
});

afterAll(async () => {
  if (dir) {
    await removeBadCorpus(dir);
    await fsp.rm(path.dirname(dir), { recursive: true, force: true });
  }
});

function okResult(name: string) {
  const o = outcomes.get(name);
  if (o?.kind !== 'ok') throw new Error(`${name}: expected ok, got ${JSON.stringify(o && 'skip' in o ? o.skip : o)}`);
  return o.result;
}

/** RGB 0-255 of the model input at (x, y). */
function px(input: ModelInput, x: number, y: number, flipped = false): number[] {
  const a = flipped ? input.flipped : input.data;
  const i = (y * input.size + x) * 3;
  return [a[i]!, a[i + 1]!, a[i + 2]!].map((v) => Math.round(v * 255));
}

function expectColour(actual: number[], expected: readonly number[], tol: number, what: string) {
  for (let c = 0; c < 3; c++) {
    expect(Math.abs(actual[c]! - expected[c]!), `${what}: got ${actual.join(',')} want ${expected.join(',')}`).toBeLessThanOrEqual(tol);
  }
}

describe('bad-input corpus', () => {
  it('reports every expected case with the expected outcome', () => {
    const wrong: string[] = [];
    for (const e of corpus.expected) {
      const o = outcomes.get(e.name);
      const want = e.outcome === 'ok' ? 'ok' : e.outcome.skip;
      const got = o === undefined ? 'missing' : o.kind === 'ok' ? 'ok' : o.skip.code;
      if (got !== want)
        wrong.push(
          `${JSON.stringify(e.name)} (${e.note ?? ''}): want ${want}, got ${got}${o?.kind === 'skip' ? ` "${o.skip.message}"` : ''}`,
        );
      if (e.folder && o?.kind === 'skip') expect(o.folder).toBe(true);
    }
    expect(wrong).toEqual([]);
  });

  it('reports nothing that is not expected (hidden and OS junk are ignored quietly)', () => {
    const expectedNames = new Set(corpus.expected.map((e) => e.name));
    const extra = [...outcomes.keys()].filter((n) => !expectedNames.has(n));
    expect(extra).toEqual([]);
    const leaked = [...outcomes.keys()].filter((n) => corpus.ignored.some((ig) => n === ig || n.startsWith(`${ig}/`)));
    expect(leaked).toEqual([]);
  });

  it('every skip has a stable code and a human message', () => {
    for (const [name, o] of outcomes) {
      if (o.kind !== 'skip') continue;
      expect(isSkipCode(o.skip.code), name).toBe(true);
      expect(o.skip.message.length, name).toBeGreaterThan(5);
    }
  });

  // How fast: `npm run bench -- --only guards`.
  it('scans 10,000 non-image files (plus the rest)', () => {
    expect(corpus.expected.filter((e) => e.name.startsWith('not-images/'))).toHaveLength(10_000);
    expect([...outcomes.keys()].filter((n) => n.startsWith('not-images/'))).toHaveLength(10_000);
  });

  it('decodes by content whatever the extension, and never passes SVG to librsvg', async () => {
    expect(okResult('png-named.jpg').meta.format).toBe('png');
    const svg = await decodeForModel(path.join(dir, 'svg-named.png'));
    expect(svg).toMatchObject({ ok: false, skip: { code: 'unsupported-format' } });
    const heic = await decodeForModel(path.join(dir, 'photo.heic'));
    expect(heic).toEqual({ ok: false, skip: { code: 'unsupported-format', message: 'HEIC is not supported (no HEVC decoder)' } });
  });

  it('model inputs all have the right shape and range', () => {
    for (const [name, o] of outcomes) {
      if (o.kind !== 'ok') continue;
      const inp = o.result.input!;
      expect(inp.data.length, name).toBe(224 * 224 * 3);
      expect(inp.flipped.length, name).toBe(224 * 224 * 3);
      expect(inp.pair.buffer).toBe(inp.data.buffer);
      let min = Infinity;
      let max = -Infinity;
      for (const v of inp.pair) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
      expect(min, name).toBeGreaterThanOrEqual(0);
      expect(max, name).toBeLessThanOrEqual(1);
    }
  });

  it('honours every EXIF orientation 1-8 (asymmetric quadrant pattern, checked by pixel colours)', () => {
    for (let o = 1; o <= 8; o++) {
      const r = okResult(`orientation/orient-${o}.jpg`);
      expect(r.meta.orientation).toBe(o);
      expect([r.meta.width, r.meta.height], `orientation ${o} size`).toEqual([ORIENT_W, ORIENT_H]);
      const inp = r.input!;
      // 64x48 centre-cropped to 48x48 then scaled to 224: quadrant centres are at 1/4 and 3/4.
      const q = [56, 168] as const;
      const what = `orientation ${o}`;
      expectColour(px(inp, q[0], q[0]), QUADRANTS.topLeft, 40, `${what} top-left`);
      expectColour(px(inp, q[1], q[0]), QUADRANTS.topRight, 40, `${what} top-right`);
      expectColour(px(inp, q[0], q[1]), QUADRANTS.bottomLeft, 40, `${what} bottom-left`);
      expectColour(px(inp, q[1], q[1]), QUADRANTS.bottomRight, 40, `${what} bottom-right`);
      // The flipped view is the mirror image.
      expectColour(px(inp, q[0], q[0], true), QUADRANTS.topRight, 40, `${what} flipped top-left`);
      expect(px(inp, 10, 100, true)).toEqual(px(inp, 213, 100));
    }
  });

  it('decodes 1x1, 10000x50, CMYK, 16-bit, greyscale, transparent and animated images to RGB correctly', () => {
    const tiny = okResult('tiny-1x1.png');
    expect([tiny.meta.width, tiny.meta.height]).toEqual([1, 1]);
    expectColour(px(tiny.input!, 0, 0), COLOURS.tiny, 2, 'tiny');
    expectColour(px(tiny.input!, 223, 223), COLOURS.tiny, 2, 'tiny');

    const wide = okResult('wide-10000x50.png');
    expect([wide.meta.width, wide.meta.height]).toEqual([10000, 50]);
    // Letterboxed ('auto' fit, aspect 200:1): a ~1 px strip of content in the middle rows, white around.
    const column = Array.from({ length: 224 }, (_, y) => px(wide.input!, 112, y));
    const contentRows = column.map((c, y) => [c, y] as const).filter(([c]) => c[0]! < 200);
    expect(contentRows.length).toBeGreaterThanOrEqual(1);
    expect(contentRows.length).toBeLessThanOrEqual(3);
    for (const [c, y] of contentRows) {
      expect(Math.abs(y - 112)).toBeLessThanOrEqual(2);
      expect(c[2]).toBeGreaterThan(200); // blue
    }
    expectColour(px(wide.input!, 112, 5), [255, 255, 255], 3, 'wide padding (white)');

    const cmyk = okResult('cmyk.jpg');
    expectColour(px(cmyk.input!, 112, 112), COLOURS.cmyk, 40, 'CMYK red');

    const g16 = okResult('grey16.png').input!;
    const g8 = okResult('grey8.png').input!;
    for (const g of [g16, g8]) {
      const left = px(g, 60, 112);
      const right = px(g, 200, 112);
      expect(left[0]).toBe(left[1]);
      expect(left[1]).toBe(left[2]);
      expect(right[0]!).toBeGreaterThan(left[0]! + 60); // gradient survived (no 16->8 bit clipping)
    }
    expectColour(px(g16, 112, 112), px(g8, 112, 112), 3, '16-bit vs 8-bit grey');
    expectColour(px(okResult('rgb16.png').input!, 112, 112), [255, 128, 0], 2, '16-bit RGB');

    const cut = okResult('transparent.png');
    expect(cut.meta.hasAlpha).toBe(true);
    expectColour(px(cut.input!, 112, 112), COLOURS.cutout, 3, 'cut-out subject');
    expectColour(px(cut.input!, 2, 2), [255, 255, 255], 0, 'transparent corner flattened to white');

    const gif = okResult('animated.gif');
    expect(gif.meta.pages).toBe(3);
    expect([gif.meta.width, gif.meta.height]).toEqual([20, 10]);
    expectColour(px(gif.input!, 112, 112), COLOURS.gifFrames[0], 3, 'GIF first frame');

    for (const n of ['ok.webp', 'ok.avif', 'ok.tiff']) expectColour(px(okResult(n).input!, 112, 112), [200, 100, 50], 6, n);
  });

  // How fast: `npm run bench -- --only guards`.
  it('refuses the decompression bomb by the pixel limit, without memory growth', async () => {
    const rss0 = process.memoryUsage().rss;
    const r = await decodeForModel(path.join(dir, 'bomb.png'));
    expect(r).toMatchObject({ ok: false, skip: { code: 'too-many-pixels' } });
    expect(process.memoryUsage().rss - rss0).toBeLessThan(100 * 2 ** 20);
    // in the user's words, with the numbers
    expect(r).toMatchObject({ skip: { message: 'Too large to open safely: 900 megapixels (30000 x 30000), the limit is 268' } });
    const pano = await decodeForModel(await makePngBomb(20000, 16000));
    expect(pano).toMatchObject({
      ok: false,
      skip: { code: 'too-many-pixels', message: 'Too large to open safely: 320 megapixels (20000 x 16000), the limit is 268' },
    });
    // just over the limit: decimals, so the image does not read as no larger than the limit
    const justOver = await decodeForModel(await makePngBomb(16385, 16384));
    expect(justOver).toMatchObject({ skip: { message: 'Too large to open safely: 268.5 megapixels (16385 x 16384), the limit is 268.4' } });
    // The limit is an option: a 40x30 image is refused under a 100-pixel limit.
    const lower = await decodeImage(path.join(dir, 'png-named.jpg'), { limitInputPixels: 100 });
    expect(lower).toMatchObject({ ok: false, skip: { code: 'too-many-pixels' } });
  });

  it('never throws: decoding every corpus file directly (even ones the scan skips) gives ok or a skip', async () => {
    const names = corpus.expected.filter((e) => !e.name.startsWith('not-images/') || e.name.endsWith('0.txt')).map((e) => e.name);
    for (const name of [...names, ...corpus.ignored]) {
      const r = await decodeForModel(path.join(dir, ...name.split('/')));
      if (!r.ok) expect(isSkipCode(r.skip.code), name).toBe(true);
    }
    // Buffers too (no path, no fs).
    for (const name of ['truncated.jpg', 'random-bytes.jpg', 'bomb.png', 'png-named.jpg', 'empty.jpg']) {
      const buf = await fsp.readFile(path.join(dir, name));
      const viaBuf = await decodeForModel(buf);
      const viaPath = await decodeForModel(path.join(dir, name));
      expect(viaBuf.ok ? 'ok' : viaBuf.skip.code, name).toBe(viaPath.ok ? 'ok' : viaPath.skip.code);
    }
  });

  it('records a file deleted between scan and decode as vanished, a folder path as unreadable', async () => {
    const p = path.join(dir, 'to-delete.png');
    await fsp.copyFile(path.join(dir, 'tiny-1x1.png'), p);
    const seen: string[] = [];
    for await (const e of scanFolders(dir, { statConcurrency: 1 })) {
      if (!isScanSkip(e) && e.path === p) {
        await fsp.rm(p);
        seen.push(e.path);
      }
    }
    expect(seen).toEqual([p]);
    expect(await decodeForModel(p)).toMatchObject({ ok: false, skip: { code: 'vanished' } });
    expect(await decodeForModel(path.join(dir, 'orientation'))).toMatchObject({ ok: false, skip: { code: 'unreadable' } });
  });

  it('does not block on a FIFO named .jpg', async () => {
    const fifo = corpus.expected.find((e) => e.name === 'fifo.jpg');
    if (!fifo) return; // caveat printed in beforeAll
    const r = await decodeForModel(path.join(dir, 'fifo.jpg'));
    expect(r).toMatchObject({ ok: false, skip: { code: 'unreadable' } });
  });

  it('notes environment caveats (root cannot be denied reads by chmod 000)', () => {
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    if (isRoot) {
      expect(corpus.caveats.join('\n')).toMatch(/root/);
      expect(corpus.expected.find((e) => e.name === 'unreadable.jpg')?.outcome).toBe('ok');
    } else {
      expect(corpus.expected.find((e) => e.name === 'unreadable.jpg')?.outcome).toEqual({ skip: 'unreadable' });
      expect(corpus.expected.find((e) => e.name === 'locked-folder')?.outcome).toEqual({ skip: 'unreadable' });
    }
  });
});
