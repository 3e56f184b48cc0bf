/**
 * The embed pool with the real decode worker and real backbone workers: every item is delivered
 * exactly once, rows map back to the right image and mirror, bad files get a reason, and items
 * can be streamed in while it runs.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbedPool, embedAll } from '../../core/embed/pool.js';
import type { EmbedItem, EmbedResult } from '../../core/embed/protocol.js';
import { hashFile } from '../../core/library/hash.js';
import { makeNoiseGradientJpeg } from '../fixtures/badCorpus.js';

let dir: string;
const files: Record<string, string> = {};
beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'constellate-pool-'));
  const put = async (name: string, data: Buffer) => {
    files[name] = path.join(dir, name);
    await fsp.writeFile(files[name], data);
  };
  for (let i = 0; i < 4; i++) await put(`photo${i}.jpg`, await makeNoiseGradientJpeg(640, 480, i + 1));
  // 224x224: no resize and no crop, so the decoded mirror is exactly the mirrored file's pixels.
  const square = await sharp(await makeNoiseGradientJpeg(224, 224, 42))
    .png()
    .toBuffer();
  await put('square.png', square);
  await put('square-mirrored.png', await sharp(square).flop().png().toBuffer());
  await put(
    'cutout.png',
    await sharp({ create: { width: 300, height: 200, channels: 4, background: { r: 0, g: 128, b: 0, alpha: 0.4 } } })
      .png()
      .toBuffer(),
  );
  await put('notes.jpg', Buffer.from('not an image at all'));
});
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

const cos = (a: Float32Array, b: Float32Array) => {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
};

describe('embed pool', () => {
  it('embeds streamed items once each, maps rows to their image and its views, and skips bad files with a reason', async () => {
    const names = Object.keys(files);
    const items: EmbedItem[] = names.map((n, i) => ({ imageId: i + 1, path: files[n]!, contentHash: null }));
    const results = new Map<number, EmbedResult>();
    let calls = 0;
    let firstDone!: () => void;
    const firstThreeDone = new Promise<void>((resolve) => (firstDone = resolve));
    const thumbs = path.join(dir, 'thumbs');
    const pool = startEmbedPool({ thumbnailDir: thumbs, workers: 2, batchSize: 3, expected: items.length, views: 2 }, (batch) => {
      calls++;
      for (const r of batch) {
        expect(results.has(r.imageId)).toBe(false);
        results.set(r.imageId, r);
      }
      if (results.size >= 3) firstDone();
    });
    // Streamed: the pool has finished the first items and waits when more arrive.
    pool.add(items.slice(0, 3));
    await firstThreeDone;
    pool.add(items.slice(3));
    pool.end();
    const stats = await pool.done;
    // ONNX Runtime, the default engine here: one worker, its threads inside it.
    expect(stats.backend).toMatchObject({ choice: 'onnx', provider: 'CPUExecutionProvider', parallelWorkers: false });
    expect(stats.workers).toBe(1);
    expect(stats.dim).toBe(1792);
    expect(results.size).toBe(items.length);
    expect(calls).toBeGreaterThan(1);

    const byName = (n: string) => results.get(names.indexOf(n) + 1)!;
    const bad = byName('notes.jpg');
    expect('skip' in bad && bad.skip.code).toBe('not-an-image');
    for (const n of names.filter((x) => x !== 'notes.jpg')) {
      const r = byName(n);
      if ('skip' in r) throw new Error(`${n}: ${r.skip.message}`);
      expect(r.embedding.length).toBe(1792);
      expect(r.contentHash).toBe(await hashFile(files[n]!));
      expect(r.thumbnail).toMatch(n.startsWith('cutout') ? /\.webp$/ : /\.jpg$/);
      await fsp.access(path.join(thumbs, r.thumbnail!));
    }
    const get = (n: string) => byName(n) as Extract<EmbedResult, { embedding: Float32Array }>;
    // Two views per image, neither a copy of the image nor of each other.
    const ok = names.filter((x) => x !== 'notes.jpg').map(get);
    for (const r of ok) {
      expect(r.views.length).toBe(2 * 1792);
      expect(cos(r.views.subarray(0, 1792), r.embedding)).toBeLessThan(0.9999);
      expect(cos(r.views.subarray(1792), r.embedding)).toBeLessThan(0.9999);
      expect(cos(r.views.subarray(0, 1792), r.views.subarray(1792))).toBeLessThan(0.9999);
    }
    // Rows map to their own image whatever the batch: one image per batch, in the other order, gives the same vectors.
    const single = new Map<number, Extract<EmbedResult, { embedding: Float32Array }>>();
    await embedAll(
      [...items].reverse().filter((i) => !i.path.endsWith('notes.jpg')),
      { thumbnailDir: thumbs, workers: 1, batchSize: 1, views: 2 },
      (b) => {
        for (const r of b) if ('embedding' in r) single.set(r.imageId, r);
      },
    );
    for (const r of ok) {
      expect(cos(single.get(r.imageId)!.embedding, r.embedding)).toBeGreaterThan(0.9999);
      expect(cos(single.get(r.imageId)!.views, r.views)).toBeGreaterThan(0.9999);
    }
    // Batch composition does not matter, and views are drawn from the content: one image alone gives the same vectors.
    const alone: EmbedResult[] = [];
    await embedAll(
      [{ imageId: 99, path: files['photo2.jpg']!, contentHash: null }],
      { thumbnailDir: thumbs, workers: 1, views: 2 },
      (b) => {
        alone.push(...b);
      },
    );
    const a = alone[0] as Extract<EmbedResult, { embedding: Float32Array }>;
    expect(cos(a.embedding, get('photo2.jpg').embedding)).toBeGreaterThan(0.9999);
    expect(cos(a.views, get('photo2.jpg').views)).toBeGreaterThan(0.9999);
    expect(a.engine).toBe('onnx/CPUExecutionProvider');
    expect(a.viewsEngine).toBe('onnx/CPUExecutionProvider+int8');
  }, 120_000);

  it('wasm: one worker per core, the same features as ONNX Runtime', async () => {
    const items: EmbedItem[] = ['photo0.jpg', 'photo1.jpg', 'photo3.jpg', 'square.png', 'cutout.png'].map((n, i) => ({
      imageId: i + 1,
      path: files[n]!,
      contentHash: null,
    }));
    const run = async (engine: 'wasm' | 'onnx') => {
      const got = new Map<number, Extract<EmbedResult, { embedding: Float32Array }>>();
      const stats = await embedAll(
        items,
        { thumbnailDir: path.join(dir, `thumbs-${engine}`), workers: 2, batchSize: 2, engine, views: 1 },
        (batch) => {
          for (const r of batch) if ('embedding' in r) got.set(r.imageId, r);
        },
      );
      return { got, stats };
    };
    const wasm = await run('wasm');
    expect(wasm.stats.backend).toMatchObject({
      choice: 'wasm',
      parallelWorkers: true,
      device: 'CPU (WebAssembly SIMD, 1 thread per worker)',
    });
    expect(wasm.stats.workers).toBe(2);
    const onnx = await run('onnx');
    expect(onnx.stats.workers).toBe(1);
    for (const item of items) {
      const w = wasm.got.get(item.imageId)!;
      const o = onnx.got.get(item.imageId)!;
      expect(w.engine).toBe('wasm');
      expect(w.viewsEngine).toBeUndefined();
      expect(o.engine).toBe('onnx/CPUExecutionProvider');
      expect(cos(w.embedding, o.embedding)).toBeGreaterThan(0.9999);
      // ONNX Runtime on the CPU runs the views through the 8-bit copy of the model
      expect(o.viewsEngine).toBe('onnx/CPUExecutionProvider+int8');
      expect(cos(w.views, o.views)).toBeGreaterThan(0.95);
      expect(cos(w.views, o.views)).toBeLessThan(0.9999);
    }
  }, 180_000);

  it('cancelling while ONNX Runtime is mid-run stops the worker cleanly: the process lives on and embeds again', async () => {
    // Before, the pool terminated the worker inside session.run, and the binding's Napi::Error
    // aborted the whole process (the app, on Cancel).
    const many: EmbedItem[] = Array.from({ length: 40 }, (_, i) => ({
      imageId: i + 1,
      path: files[`photo${i % 4}.jpg`]!,
      contentHash: null,
    }));
    for (let attempt = 0; attempt < 5; attempt++) {
      const controller = new AbortController();
      const pool = startEmbedPool(
        { thumbnailDir: path.join(dir, `t-abort-${attempt}`), batchSize: 8, engine: 'onnx', signal: controller.signal },
        () => {
          controller.abort();
        },
      );
      pool.add(many);
      pool.end();
      await expect(pool.done).rejects.toMatchObject({ name: 'AbortError' });
      await new Promise((r) => setTimeout(r, 300 + 200 * attempt));
    }
    const again: EmbedResult[] = [];
    await embedAll(many.slice(0, 2), { thumbnailDir: path.join(dir, 't-after'), engine: 'onnx' }, (b) => {
      again.push(...b);
    });
    expect(again.filter((r) => 'embedding' in r)).toHaveLength(2);
  }, 120_000);

  it('starts no worker when nothing is added, and stops on abort', async () => {
    const empty = startEmbedPool({ thumbnailDir: path.join(dir, 't2') }, () => {
      throw new Error('no results expected');
    });
    empty.end();
    expect(await empty.done).toMatchObject({ workers: 0, backend: null });

    const controller = new AbortController();
    const pool = startEmbedPool({ thumbnailDir: path.join(dir, 't3'), workers: 1, signal: controller.signal }, () => {});
    pool.add([{ imageId: 1, path: files['photo0.jpg']!, contentHash: null }]);
    controller.abort();
    await expect(pool.done).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('embed pool crash handling (fake workers)', () => {
  const workerModules = {
    decoder: new URL('../fixtures/poolWorkers/fakeDecoder.ts', import.meta.url),
    embedder: new URL('../fixtures/poolWorkers/fakeEmbedder.ts', import.meta.url),
  };
  const run = async (items: EmbedItem[], options: { workers: number; batchSize: number }) => {
    const got = new Map<number, EmbedResult>();
    await embedAll(items, { thumbnailDir: dir, ...options, workerModules }, (batch) => {
      for (const r of batch) {
        expect(got.has(r.imageId), `image ${r.imageId} delivered twice`).toBe(false);
        got.set(r.imageId, r);
      }
    });
    expect([...got.keys()].sort((a, b) => a - b)).toEqual(items.map((i) => i.imageId).sort((a, b) => a - b));
    return got;
  };
  const embedded = (r: EmbedResult | undefined) => {
    if (!r || 'skip' in r) throw new Error(`not embedded: ${JSON.stringify(r)}`);
    return r;
  };

  it('decodes again what a dead decoder held, and skips the file that kills it alone', async () => {
    const items: EmbedItem[] = ['a.jpg', 'crash.jpg', 'b.jpg', 'c.jpg', 'bad.jpg', 'd.jpg'].map((n, i) => ({
      imageId: i + 1,
      path: `/x/${n}`,
      contentHash: null,
    }));
    const got = await run(items, { workers: 2, batchSize: 2 });
    expect(got.get(2)).toMatchObject({
      skip: { code: 'decode-error', message: expect.stringMatching(/decoder crashed on this file \(exit code 7\)/) },
    });
    expect(got.get(5)).toMatchObject({ skip: { code: 'not-an-image' } });
    for (const id of [1, 3, 4, 6]) {
      const r = embedded(got.get(id));
      expect(Array.from(r.embedding.subarray(0, 3))).toEqual([id, 0, id]);
      expect(Array.from(r.views.subarray(0, 3))).toEqual([id, 1, id]);
    }
  }, 60_000);

  it('decodes and embeds alone what a dead embedder held, and skips the image that kills it alone', async () => {
    const ids = [1, 2, 3, 1000, 4, 5, 6, 7, 8];
    const items: EmbedItem[] = ids.map((id) => ({ imageId: id, path: `/x/${id}.jpg`, contentHash: null }));
    const got = await run(items, { workers: 2, batchSize: 4 });
    expect(got.get(1000)).toMatchObject({
      skip: { code: 'decode-error', message: expect.stringMatching(/embedder crashed on this file \(exit code 9\)/) },
    });
    for (const id of ids.filter((x) => x < 1000)) expect(embedded(got.get(id)).embedding[0]).toBe(id);
    // The poisoned batch's other images were retried one per batch.
    expect([1, 2, 3].map((id) => embedded(got.get(id)).embedding[3])).toEqual([1, 1, 1]);
  }, 60_000);
});
