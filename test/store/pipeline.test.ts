import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { blobToFloat32, float32ToBlob, openStore, type Store } from '../../core/store/index.js';
import { hashOf, seedRun, tempDir, vec } from './helpers.js';

let dir: string;
let cleanup: () => void;
let store: Store;
let root: string;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  store = openStore(path.join(dir, 'c.db'));
  root = path.join(dir, 'photos');
});
afterEach(() => {
  store.close();
  cleanup();
});

const file = (relPath: string, size = 100, mtimeMs = 1000) => ({ relPath, size, mtimeMs });

function decodeAll(contentOf: (relPath: string) => string): void {
  for (const p of store.images.pending(1000)) {
    store.images.markDecoded([{ id: p.id, contentHash: hashOf(contentOf(p.relPath)), width: 10, height: 20 }]);
  }
}

describe('embeddings', () => {
  it('round-trips Float32 vectors exactly, including special values, without copies', () => {
    const v = new Float32Array([0, -0, 1.5, -3.25e-38, 3.4028234663852886e38, Number.EPSILON, Math.PI, NaN, Infinity, -Infinity]);
    store.embeddings.putMany('m', [{ contentHash: 'h1', vector: v }]);
    const back = store.embeddings.get('h1', 'm')!;
    expect(back).toBeInstanceOf(Float32Array);
    expect(back.length).toBe(v.length);
    expect(Buffer.from(back.buffer, back.byteOffset, back.byteLength).equals(float32ToBlob(v))).toBe(true);
    expect(Object.is(back[1], -0)).toBe(true);
    // A view on a larger buffer is stored as just its bytes.
    const big = vec(7, 64);
    const sub = big.subarray(8, 24);
    store.embeddings.putMany('m', [{ contentHash: 'h2', vector: sub }]);
    expect(Array.from(store.embeddings.get('h2', 'm')!)).toEqual(Array.from(sub));
    // blobToFloat32 is a view (shares memory) when aligned, and copies when not.
    const buf = Buffer.alloc(17);
    const aligned = buf.subarray(0, 16);
    expect(blobToFloat32(aligned).buffer).toBe(buf.buffer);
    expect(Array.from(blobToFloat32(buf.subarray(1, 17)))).toEqual([0, 0, 0, 0]);
  });

  it('loads all embeddings of a model as one matrix, and streams them in batches', () => {
    const lib = store.libraries.add(root);
    const gen = store.libraries.beginScan(lib.id);
    store.images.upsertScanned(
      lib.id,
      gen,
      Array.from({ length: 25 }, (_, i) => file(`a${i}.jpg`)),
    );
    store.libraries.finishScan(lib.id, gen);
    decodeAll((p) => p);
    const pending = store.embeddings.missing('m', { limit: 100 });
    expect(pending).toHaveLength(25);
    store.embeddings.putMany(
      'm',
      pending.map((p, i) => ({ contentHash: p.contentHash, vector: vec(i, 12) })),
    );
    store.embeddings.putMany(
      'm',
      pending.map((p, i) => ({ contentHash: p.contentHash, vector: vec(i + 100, 12), view: 'hflip' })),
    );
    // Skipped images are left out.
    store.images.markSkipped([{ id: pending[3]!.imageId, reason: 'corrupt' }]);

    const all = store.embeddings.loadAll('m');
    expect(all.count).toBe(24);
    expect(all.dim).toBe(12);
    expect(all.vectors.length).toBe(24 * 12);
    const idx = Array.from(all.imageIds).indexOf(pending[5]!.imageId);
    expect(Array.from(all.vectors.subarray(idx * 12, idx * 12 + 12))).toEqual(Array.from(vec(5, 12)));
    const flips = store.embeddings.loadAll('m', { view: 'hflip' });
    expect(Array.from(flips.vectors.subarray(idx * 12, idx * 12 + 12))).toEqual(Array.from(vec(105, 12)));

    const batches = [...store.embeddings.iterate('m', { batchSize: 10 })];
    expect(batches.map((b) => b.count)).toEqual([10, 10, 4]);
    const joined = new Float32Array(24 * 12);
    batches.reduce((off, b) => (joined.set(b.vectors, off), off + b.vectors.length), 0);
    expect(joined).toEqual(all.vectors);
    expect(batches.flatMap((b) => Array.from(b.imageIds))).toEqual(Array.from(all.imageIds));

    // Rows read on demand, in the caller's order: blocks and random rows match loadAll.
    const order = Array.from(all.imageIds).reverse();
    const src = store.embeddings.rowSource('m', order, { view: 'hflip' });
    expect([src.n, src.d]).toEqual([24, 12]);
    const rev = (r: number): Float32Array => flips.vectors.subarray((23 - r) * 12, (24 - r) * 12);
    expect(Array.from(src.read(20, 10))).toEqual([20, 21, 22, 23].flatMap((r) => Array.from(rev(r))));
    expect(Array.from(src.readRows([7, 2]))).toEqual([...rev(7), ...rev(2)]);
    expect(() => store.embeddings.rowSource('m', [999_999])).toThrow(/No m embedding for image 999999/);

    const some = store.embeddings.loadAll('m', { imageIds: [pending[5]!.imageId, 999_999] });
    expect(some.count).toBe(1);
    expect(Array.from(some.vectors)).toEqual(Array.from(vec(5, 12)));
    expect(store.embeddings.models()).toEqual([
      { model: 'm', view: '', dim: 12, count: 25 },
      { model: 'm', view: 'hflip', dim: 12, count: 25 },
    ]);
  });

  it('asks to embed each distinct content once', () => {
    const lib = store.libraries.add(root);
    const gen = store.libraries.beginScan(lib.id);
    store.images.upsertScanned(lib.id, gen, [file('a.jpg'), file('copy/a.jpg'), file('b.jpg')]);
    decodeAll((p) => path.basename(p));
    const missing = store.embeddings.missing('m');
    expect(missing.map((m) => m.contentHash).sort()).toEqual([hashOf('a.jpg'), hashOf('b.jpg')].sort());
    expect(missing[0]!.absPath).toBe(path.join(root, 'a.jpg'));
    expect(store.embeddings.countMissing('m')).toBe(3);
    store.embeddings.putMany(
      'm',
      missing.map((m) => ({ contentHash: m.contentHash, vector: vec(1, 4) })),
    );
    expect(store.embeddings.missing('m')).toEqual([]);
    // Both copies are rows of the matrix.
    expect(store.embeddings.loadAll('m').count).toBe(3);
  });
});

describe('re-scan', () => {
  it('reuses the embedding of a renamed/moved file and keeps its identity, groups and pins', () => {
    const lib = store.libraries.add(root);
    let gen = store.libraries.beginScan(lib.id);
    store.images.upsertScanned(lib.id, gen, [file('old/cat.jpg', 500, 1), file('dog.jpg', 600, 2)]);
    store.libraries.finishScan(lib.id, gen);
    decodeAll((p) => path.basename(p));
    const targets = store.embeddings.missing('m');
    store.embeddings.putMany(
      'm',
      targets.map((t, i) => ({ contentHash: t.contentHash, vector: vec(i, 4) })),
    );
    const cat = store.images.getByPath(lib.id, 'old/cat.jpg')!;
    const { runId, groupIds } = seedRun(store, [cat.id], 1);
    store.edits.recluster(runId);
    store.edits.pinImages([cat.id]);

    // The user moves the file: the next scan sees a new path and not the old one.
    gen = store.libraries.beginScan(lib.id);
    const r = store.images.upsertScanned(lib.id, gen, [file('new/cat-renamed.jpg', 500, 1), file('dog.jpg', 600, 2)]);
    expect(r).toEqual({ inserted: 1, changed: 0, unchanged: 1, restored: 0, touched: [] });
    expect(store.libraries.finishScan(lib.id, gen)).toEqual({ markedMissing: 1, adopted: 0 });
    expect(store.images.get(cat.id)!.status).toBe('missing');

    // Decoding the new path finds the same content: no new embedding is needed,
    // and the old row takes the new location (same id => same group, pin, history).
    const pending = store.images.pending(10);
    expect(pending.map((p) => p.relPath)).toEqual(['new/cat-renamed.jpg']);
    const ids = store.images.markDecoded([{ id: pending[0]!.id, contentHash: hashOf('cat.jpg'), width: 10, height: 20 }]);
    expect(ids.get(pending[0]!.id)).toBe(cat.id);
    expect(store.embeddings.missing('m')).toEqual([]);
    const moved = store.images.get(cat.id)!;
    expect(moved).toMatchObject({ relPath: 'new/cat-renamed.jpg', name: 'cat-renamed.jpg', status: 'ok', missingSince: null });
    expect(store.images.get(pending[0]!.id)).toBeNull();
    expect(store.groups.assignment(cat.id)).toMatchObject({ groupId: groupIds[0], pinned: true });
    expect(store.images.countsByStatus()).toEqual({ pending: 0, ok: 2, skipped: 0, missing: 0, total: 2 });
  });

  it('folds moves found during a scan whose files were already decoded (finishScan adoption)', () => {
    const lib = store.libraries.add(root);
    let gen = store.libraries.beginScan(lib.id);
    store.images.upsertScanned(lib.id, gen, [file('a.jpg')]);
    store.libraries.finishScan(lib.id, gen);
    decodeAll(() => 'A');
    const a = store.images.getByPath(lib.id, 'a.jpg')!;
    gen = store.libraries.beginScan(lib.id);
    store.images.upsertScanned(lib.id, gen, [file('b.jpg')]);
    decodeAll(() => 'A'); // decoded before the scan finished: a.jpg is not missing yet
    expect(store.libraries.finishScan(lib.id, gen)).toEqual({ markedMissing: 1, adopted: 1 });
    expect(store.images.get(a.id)).toMatchObject({ relPath: 'b.jpg', status: 'ok' });
    expect(store.images.countsByStatus().total).toBe(1);
  });

  it('marks deleted images missing (not forgotten), forgets deleted skipped files, and restores images when they return', () => {
    const lib = store.libraries.add(root);
    let gen = store.libraries.beginScan(lib.id);
    store.images.upsertScanned(lib.id, gen, [file('a.jpg'), file('b.jpg'), file('c.jpg')]);
    store.libraries.finishScan(lib.id, gen);
    decodeAll((p) => p);
    store.images.markSkipped([{ id: store.images.getByPath(lib.id, 'c.jpg')!.id, reason: 'corrupt: bad header' }]);

    gen = store.libraries.beginScan(lib.id);
    store.images.upsertScanned(lib.id, gen, [file('a.jpg')]);
    // A scan killed before finishing marks nothing missing.
    expect(store.images.countsByStatus().missing).toBe(0);
    // "Missing" counts images: c.jpg was never one (skipped), and holds nothing to keep.
    expect(store.libraries.finishScan(lib.id, gen).markedMissing).toBe(1);
    const b = store.images.getByPath(lib.id, 'b.jpg')!;
    expect(b.status).toBe('missing');
    expect(b.missingSince).toBeGreaterThan(0);
    expect(b.contentHash).toBe(hashOf('b.jpg'));
    expect(store.images.listMissing().map((r) => r.relPath)).toEqual(['b.jpg']);
    expect(store.images.getByPath(lib.id, 'c.jpg')).toBeNull();
    expect(store.images.countsByStatus()).toEqual({ pending: 0, ok: 1, skipped: 0, missing: 1, total: 2 });

    gen = store.libraries.beginScan(lib.id);
    const r = store.images.upsertScanned(lib.id, gen, [file('a.jpg'), file('b.jpg'), file('c.jpg')]);
    expect(r).toEqual({ inserted: 1, changed: 0, unchanged: 1, restored: 1, touched: [] });
    store.libraries.finishScan(lib.id, gen);
    expect(store.images.get(b.id)).toMatchObject({ status: 'ok', missingSince: null });
    expect(store.images.getByPath(lib.id, 'c.jpg')).toMatchObject({ status: 'pending' }); // decoded again
    expect(() => store.libraries.finishScan(lib.id, gen - 1)).toThrow(/outdated/);
  });

  it('resets a changed file to pending and re-embeds only it', () => {
    const lib = store.libraries.add(root);
    let gen = store.libraries.beginScan(lib.id);
    store.images.upsertScanned(lib.id, gen, [file('a.jpg', 1, 1), file('b.jpg', 1, 1)]);
    store.libraries.finishScan(lib.id, gen);
    decodeAll((p) => p);
    store.embeddings.putMany(
      'm',
      store.embeddings.missing('m').map((t) => ({ contentHash: t.contentHash, vector: vec(1, 4) })),
    );
    gen = store.libraries.beginScan(lib.id);
    expect(store.images.upsertScanned(lib.id, gen, [file('a.jpg', 1, 1), file('b.jpg', 2, 5)])).toEqual({
      inserted: 0,
      changed: 1,
      unchanged: 1,
      restored: 0,
      touched: [],
    });
    store.libraries.finishScan(lib.id, gen);
    expect(store.images.pending(10).map((p) => p.relPath)).toEqual(['b.jpg']);
    expect(store.images.getByPath(lib.id, 'b.jpg')).toMatchObject({ contentHash: null, width: null, status: 'pending' });
    decodeAll(() => 'b edited');
    expect(store.embeddings.missing('m').map((t) => t.contentHash)).toEqual([hashOf('b edited')]);
  });

  it('holds a file whose time moved but size did not, and lets its bytes settle it', () => {
    const lib = store.libraries.add(root);
    let gen = store.libraries.beginScan(lib.id);
    store.images.upsertScanned(lib.id, gen, [file('a.jpg', 1, 1), file('b.jpg', 1, 1), file('c.jpg', 1, 1)]);
    store.libraries.finishScan(lib.id, gen);
    decodeAll((p) => p);
    gen = store.libraries.beginScan(lib.id);
    store.images.upsertScanned(lib.id, gen, [file('a.jpg', 1, 1), file('b.jpg', 1, 1)]);
    store.libraries.finishScan(lib.id, gen); // c.jpg missing
    const [a, b, c] = ['a.jpg', 'b.jpg', 'c.jpg'].map((p) => store.images.getByPath(lib.id, p)!);
    expect(c!.status).toBe('missing');

    gen = store.libraries.beginScan(lib.id);
    const r = store.images.upsertScanned(lib.id, gen, [file('a.jpg', 1, 9), file('b.jpg', 1, 9), file('c.jpg', 1, 9)]);
    expect(r).toEqual({
      inserted: 0,
      changed: 0,
      unchanged: 0,
      restored: 0,
      touched: [a, b, c].map((x) => ({ id: x!.id, relPath: x!.relPath, size: 1, mtimeMs: 9, contentHash: x!.contentHash })),
    });
    // held as they were until settled
    expect(store.images.getByPath(lib.id, 'b.jpg')).toMatchObject({ status: 'ok', mtimeMs: 1, contentHash: hashOf('b.jpg') });
    store.images.settleTouched([
      { file: r.touched[0]!, same: true },
      { file: r.touched[1]!, same: false },
      { file: r.touched[2]!, same: true },
    ]);
    expect(store.libraries.finishScan(lib.id, gen)).toEqual({ markedMissing: 0, adopted: 0 });
    expect(store.images.getByPath(lib.id, 'a.jpg')).toMatchObject({ status: 'ok', mtimeMs: 9, contentHash: hashOf('a.jpg'), width: 10 });
    expect(store.images.getByPath(lib.id, 'b.jpg')).toMatchObject({ status: 'pending', mtimeMs: 9, contentHash: null, width: null });
    expect(store.images.getByPath(lib.id, 'c.jpg')).toMatchObject({
      status: 'ok',
      mtimeMs: 9,
      missingSince: null,
      contentHash: hashOf('c.jpg'),
    });
    expect(store.images.pending(10).map((p) => p.relPath)).toEqual(['b.jpg']);
  });

  it('resumes after a crash: the pending list shrinks by each committed batch, a failed batch leaves no trace', () => {
    const lib = store.libraries.add(root);
    const gen = store.libraries.beginScan(lib.id);
    store.images.upsertScanned(
      lib.id,
      gen,
      Array.from({ length: 100 }, (_, i) => file(`f${String(i).padStart(3, '0')}.jpg`)),
    );
    store.libraries.finishScan(lib.id, gen);

    const seen: number[] = [];
    for (let b = 0; b < 3; b++) {
      const batch = store.images.pending(16);
      store.db.write(() => {
        store.images.markDecoded(batch.map((p) => ({ id: p.id, contentHash: hashOf(p.relPath), width: 1, height: 1 })));
        store.embeddings.putMany(
          'm',
          batch.map((p) => ({ contentHash: hashOf(p.relPath), vector: vec(p.id, 4) })),
        );
      });
      seen.push(store.images.countsByStatus().pending);
    }
    expect(seen).toEqual([84, 68, 52]);
    // The 4th batch dies half-way (the process is killed / a write fails): nothing of it is kept.
    const batch = store.images.pending(16);
    expect(() =>
      store.db.write(() => {
        store.images.markDecoded(batch.slice(0, 8).map((p) => ({ id: p.id, contentHash: hashOf(p.relPath), width: 1, height: 1 })));
        throw new Error('killed');
      }),
    ).toThrow('killed');
    expect(store.images.countsByStatus().pending).toBe(52);
    store.close();

    // "Next run": a new connection continues where it stopped.
    store = openStore(path.join(dir, 'c.db'));
    const next = store.images.pending(16);
    expect(next[0]!.id).toBe(batch[0]!.id);
    expect(store.embeddings.countMissing('m')).toBe(0);
    expect(store.embeddings.loadAll('m').count).toBe(48);
  });

  it('reads again, on the next scan, a file skipped for a passing reason (vanished, unreadable), but not a damaged one', () => {
    const lib = store.libraries.add(root);
    let gen = store.libraries.beginScan(lib.id);
    store.images.upsertScanned(
      lib.id,
      gen,
      ['gone', 'locked', 'broken'].map((n) => file(`${n}.jpg`)),
    );
    const [gone, locked, broken] = store.images.pending(10);
    store.images.markSkipped([
      { id: gone!.id, reason: 'vanished' },
      { id: locked!.id, reason: 'unreadable' },
      { id: broken!.id, reason: 'truncated' },
    ]);
    store.libraries.finishScan(lib.id, gen);
    expect(store.images.pending(10)).toEqual([]);
    // same size and time: the folder was renamed back, the permissions fixed
    gen = store.libraries.beginScan(lib.id);
    const r = store.images.upsertScanned(
      lib.id,
      gen,
      ['gone', 'locked', 'broken'].map((n) => file(`${n}.jpg`)),
    );
    store.libraries.finishScan(lib.id, gen);
    expect(r).toMatchObject({ changed: 2, unchanged: 1 });
    expect(
      store.images
        .pending(10)
        .map((p) => p.relPath)
        .sort(),
    ).toEqual(['gone.jpg', 'locked.jpg']);
    expect(store.images.getByPath(lib.id, 'gone.jpg')).toMatchObject({ status: 'pending', skipReason: null });
    expect(store.images.getByPath(lib.id, 'broken.jpg')).toMatchObject({ status: 'skipped', skipReason: 'truncated' });
  });

  it('lists skipped images with reasons and thumbnails still to make', () => {
    const lib = store.libraries.add(root);
    const gen = store.libraries.beginScan(lib.id);
    store.images.upsertScanned(
      lib.id,
      gen,
      ['a', 'b', 'c', 'd'].map((n) => file(`${n}.jpg`)),
    );
    const [a, b, c, d] = store.images.pending(10);
    store.images.markSkipped([
      { id: a!.id, reason: 'unsupported: HEIC' },
      { id: b!.id, reason: 'too-small' },
      { id: c!.id, reason: 'unsupported: HEIC' },
    ]);
    store.images.markDecoded([{ id: d!.id, contentHash: 'hd', width: 1, height: 1 }]);
    expect(store.images.skipReasons()).toEqual([
      { reason: 'unsupported: HEIC', count: 2 },
      { reason: 'too-small', count: 1 },
    ]);
    const skipped = store.images.listSkipped({ limit: 2 });
    expect(skipped.map((s) => s.relPath)).toEqual(['a.jpg', 'b.jpg']);
    expect(skipped[0]!.absPath).toBe(path.join(root, 'a.jpg'));
    expect(store.images.listSkipped({ afterId: skipped[1]!.id }).map((s) => s.relPath)).toEqual(['c.jpg']);
    expect(store.images.needingThumbnail(10).map((t) => t.id)).toEqual([d!.id]);
    store.images.setThumbnails([{ id: d!.id, thumbPath: 'hd.webp' }]);
    expect(store.images.needingThumbnail(10)).toEqual([]);
    const detail = store.images.detail(d!.id)!;
    expect(detail).toMatchObject({ absPath: path.join(root, 'd.jpg'), libraryRoot: root, thumbPath: 'hd.webp', assignment: null });
  });
});
