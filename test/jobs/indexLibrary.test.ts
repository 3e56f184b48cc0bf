/**
 * Indexing streams work into the embed pool and hashes up front only the files that could be
 * copies of known content (same byte size): copies are still recognised, everything else is
 * decoded once. A file whose time moved but whose bytes did not is kept as it was.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKBONE } from '../../core/embed/backboneInfo.js';
import { DEFAULT_VIEWS, getViewsPerImage, viewNames } from '../../core/jobs/indexing/views.js';
import { runClusterJob } from '../../core/jobs/grouping/clusterJob.js';
import { indexLibraries } from '../../core/jobs/indexing/indexLibrary.js';
import { ProgressTracker } from '../../core/runtime/progress.js';
import { EXPORT_MARKER } from '../../core/library/exportMarker.js';
import { hashFile } from '../../core/library/hash.js';
import { openStore, type Store } from '../../core/store/index.js';
import { makeNoiseGradientJpeg } from '../fixtures/badCorpus.js';

let dir: string;
let photos: string;
let store: Store;
beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'constellate-index-'));
  photos = path.join(dir, 'photos');
  await fsp.mkdir(photos);
  store = openStore(path.join(dir, 'app', 'test.db'));
});
afterAll(async () => {
  store.close();
  await fsp.rm(dir, { recursive: true, force: true });
});

/** `<prefix><from>.jpg` .. `<prefix><to - 1>.jpg`, 300 x 200, in the folder `name` (made if new); image i from seed + i. */
async function jpegFolder(name: string, prefix: string, from: number, to: number, seed: number): Promise<string> {
  const folder = path.join(dir, name);
  await fsp.mkdir(folder, { recursive: true });
  for (let i = from; i < to; i++)
    await fsp.writeFile(path.join(folder, `${prefix}${i}.jpg`), await makeNoiseGradientJpeg(300, 200, seed + i));
  return folder;
}

describe('indexLibraries: engines', () => {
  it('records the engine that made each embedding; switching engines does not embed again', async () => {
    const own = await jpegFolder('engines', 'e', 0, 3, 40);
    const s2 = openStore(path.join(dir, 'engines-app', 'e.db'));
    const before = process.env.CONSTELLATE_ENGINE;
    try {
      const lib = s2.libraries.add(own);
      process.env.CONSTELLATE_ENGINE = 'wasm';
      const first = await indexLibraries({ db: s2.db, libraryIds: [lib.id], progress: new ProgressTracker() });
      expect(first.embedded).toBe(3);
      expect(first.pool?.backend?.choice).toBe('wasm');
      // each image and its augmented views
      const rows = 1 + DEFAULT_VIEWS;
      expect(s2.embeddings.engines(BACKBONE.id)).toEqual([{ engine: 'wasm', count: 3 * rows }]);
      // ONNX Runtime's features are tfjs's (cosine >= 0.9999): the same model id, nothing to redo.
      process.env.CONSTELLATE_ENGINE = 'onnx';
      await jpegFolder('engines', 'e', 3, 4, 40);
      const second = await indexLibraries({ db: s2.db, libraryIds: [lib.id], progress: new ProgressTracker() });
      expect(second.embedded).toBe(1);
      expect(second.pool?.backend?.choice).toBe('onnx');
      // its views through the 8-bit copy of the model, recorded as such
      expect(s2.embeddings.engines(BACKBONE.id)).toEqual([
        { engine: 'onnx/CPUExecutionProvider', count: 1 },
        { engine: 'onnx/CPUExecutionProvider+int8', count: DEFAULT_VIEWS },
        { engine: 'wasm', count: 3 * rows },
      ]);
      // An image embedded before views were stored (or with fewer) gets them on the next run, and only it.
      const e0 = s2.images.getByPath(lib.id, 'e0.jpg')!.contentHash!;
      s2.db.raw.prepare("DELETE FROM embeddings WHERE content_hash = ? AND view = 'aug3'").run(e0);
      const third = await indexLibraries({ db: s2.db, libraryIds: [lib.id], progress: new ProgressTracker() });
      expect(third.embedded).toBe(1);
      expect(viewNames(DEFAULT_VIEWS).every((v) => s2.embeddings.has(e0, BACKBONE.id, v))).toBe(true);
      // No views asked for: none embedded, nothing lacking.
      const fourth = await indexLibraries({ db: s2.db, libraryIds: [lib.id], progress: new ProgressTracker(), views: 0 });
      expect(fourth.embedded).toBe(0);
    } finally {
      if (before === undefined) delete process.env.CONSTELLATE_ENGINE;
      else process.env.CONSTELLATE_ENGINE = before;
      s2.close();
    }
  }, 120_000);
});

describe('indexLibraries: views for the size of the library', () => {
  it('embeds as many views as a run can read of each image, and training asks for those', async () => {
    const own = await jpegFolder('sized', 's', 0, 6, 60);
    const s2 = openStore(path.join(dir, 'sized-app', 's.db'));
    const lib = s2.libraries.add(own);
    const hasView = (name: string, view: string) => s2.embeddings.has(s2.images.getByPath(lib.id, name)!.contentHash!, BACKBONE.id, view);
    try {
      // A run that draws 12 anchor views reads 2 of each of 6 images' views (a library of
      // 253,440 to 506,879 images with the real schedule): 2 are embedded, not 4.
      const first = await indexLibraries({ db: s2.db, libraryIds: [lib.id], progress: new ProgressTracker(), viewDrawsPerRun: 12 });
      expect(first.embedded).toBe(6);
      expect(hasView('s0.jpg', 'aug1')).toBe(true);
      expect(hasView('s0.jpg', 'aug2')).toBe(false);
      expect(getViewsPerImage(s2.db)).toBe(2);
      // 12 images: 1 view each is all a run reads; the first 6 are not embedded again
      await jpegFolder('sized', 's', 6, 12, 60);
      const second = await indexLibraries({ db: s2.db, libraryIds: [lib.id], progress: new ProgressTracker(), viewDrawsPerRun: 12 });
      expect(second.embedded).toBe(6);
      expect(hasView('s6.jpg', 'aug0')).toBe(true);
      expect(hasView('s6.jpg', 'aug1')).toBe(false);
      expect(getViewsPerImage(s2.db)).toBe(1);
      // training asks for the views every image has, so it trains with them
      const run = await runClusterJob({ store: s2, index: false, k: 2, seed: 1 });
      expect(s2.runs.get(run.runId)!.params.views).toBe(true);
    } finally {
      s2.close();
    }
  });
});

describe('indexLibraries', () => {
  it('reuses copies of known content, embeds the rest once, and reports progress per phase', async () => {
    for (let i = 0; i < 3; i++) await fsp.writeFile(path.join(photos, `p${i}.jpg`), await makeNoiseGradientJpeg(320, 240, i + 1));
    await fsp.writeFile(path.join(photos, 'broken.jpg'), 'nope');
    const lib = store.libraries.add(photos);
    const first = await indexLibraries({ db: store.db, libraryIds: [lib.id], workers: 2, progress: new ProgressTracker() });
    expect(first).toMatchObject({ embedded: 3, reused: 0, skippedNow: 1 });
    expect(first.pool?.backend).not.toBeNull();
    const known = Array.from(store.images.knownContentSizes());
    const sizes = await Promise.all([0, 1, 2].map(async (i) => (await fsp.stat(path.join(photos, `p${i}.jpg`))).size));
    expect(known).toEqual([...new Set(sizes)].sort((a, b) => a - b));

    // A copy (same size, same bytes), a same-size file with other bytes, and a new photo.
    const p0 = await fsp.readFile(path.join(photos, 'p0.jpg'));
    await fsp.writeFile(path.join(photos, 'copy-of-p0.jpg'), p0);
    const other = Buffer.from(p0);
    other[Math.floor(other.length / 2)]! ^= 0x01; // same size, different content
    await fsp.writeFile(path.join(photos, 'same-size.jpg'), other);
    await fsp.writeFile(path.join(photos, 'new.jpg'), await makeNoiseGradientJpeg(400, 300, 77));

    const progress = new ProgressTracker();
    const second = await indexLibraries({ db: store.db, libraryIds: [lib.id], workers: 2, progress });
    expect(second).toMatchObject({ embedded: 2, reused: 1, skippedNow: 0 });
    const copy = store.images.getByPath(lib.id, 'copy-of-p0.jpg')!;
    const orig = store.images.getByPath(lib.id, 'p0.jpg')!;
    expect(copy).toMatchObject({ status: 'ok', contentHash: orig.contentHash, thumbPath: orig.thumbPath });
    const same = store.images.getByPath(lib.id, 'same-size.jpg')!;
    expect(same.status).toBe('ok');
    expect(same.contentHash).toBe(await hashFile(path.join(photos, 'same-size.jpg')));
    expect(same.contentHash).not.toBe(orig.contentHash);
    const phases = Object.fromEntries(progress.snapshot().map((p) => [p.name, p]));
    expect(phases.check).toMatchObject({ done: 3, total: 3 });
    expect(phases.embed).toMatchObject({ done: 2, total: 2 });

    // Nothing new: no worker is started.
    const third = await indexLibraries({ db: store.db, libraryIds: [lib.id], workers: 2, progress: new ProgressTracker() });
    expect(third).toMatchObject({ embedded: 0, reused: 0, pool: null });
  }, 120_000);

  it('keeps files whose time moved but bytes did not (copied without times, restored, touched)', async () => {
    const lib = store.libraries.list()[0]!;
    const at = (rel: string) => store.images.getByPath(lib.id, rel)!;
    const vectors = () => store.db.raw.prepare('SELECT COUNT(*) FROM embeddings').pluck().get() as number;
    const before = Object.fromEntries(['p0.jpg', 'p2.jpg', 'copy-of-p0.jpg', 'new.jpg'].map((f) => [f, at(f)]));
    const vectorsBefore = vectors();
    const later = new Date(Math.floor(Date.now() / 1000) * 1000 + 3_600_000); // whole seconds: exact on every filesystem
    // Touched in place; new.jpg goes away (marked missing), then comes back with a new time.
    for (const f of ['p0.jpg', 'p2.jpg', 'copy-of-p0.jpg']) await fsp.utimes(path.join(photos, f), later, later);
    await fsp.rename(path.join(photos, 'new.jpg'), path.join(dir, 'new.jpg'));
    const mid = await indexLibraries({ db: store.db, libraryIds: [lib.id], workers: 2, progress: new ProgressTracker() });
    expect(mid).toMatchObject({ touched: 3, markedMissing: 1, embedded: 0, pool: null });
    await fsp.rename(path.join(dir, 'new.jpg'), path.join(photos, 'new.jpg'));
    await fsp.utimes(path.join(photos, 'new.jpg'), later, later);
    // p1: new bytes of the same size and a new time, a real change.
    const p1 = await fsp.readFile(path.join(photos, 'p1.jpg'));
    p1[Math.floor(p1.length / 2)]! ^= 0x01;
    await fsp.writeFile(path.join(photos, 'p1.jpg'), p1);
    await fsp.utimes(path.join(photos, 'p1.jpg'), later, later);
    const oldP1 = at('p1.jpg').contentHash;

    const res = await indexLibraries({ db: store.db, libraryIds: [lib.id], workers: 2, progress: new ProgressTracker() });
    expect(res).toMatchObject({ touched: 1, embedded: 1, reused: 0, skippedNow: 0 });
    for (const [f, row] of Object.entries(before)) {
      expect(at(f)).toMatchObject({
        id: row.id,
        status: 'ok',
        contentHash: row.contentHash,
        thumbPath: row.thumbPath,
        width: row.width,
        mtimeMs: later.getTime(),
      });
    }
    expect(at('p1.jpg')).toMatchObject({ status: 'ok', contentHash: await hashFile(path.join(photos, 'p1.jpg')) });
    expect(at('p1.jpg').contentHash).not.toBe(oldP1);
    expect(vectors()).toBe(vectorsBefore + 1 + DEFAULT_VIEWS); // p1's image and its views, nothing else
  }, 120_000);

  it('counts only images as missing, and forgets (not "missing") what it now leaves out: links into another library, exports', async () => {
    const lib = store.libraries.list()[0]!;
    const other = path.join(dir, 'other');
    await fsp.mkdir(other);
    await fsp.writeFile(path.join(other, 'o.jpg'), await makeNoiseGradientJpeg(200, 150, 5));
    store.libraries.add(other);
    await fsp.writeFile(path.join(photos, 'notes.txt'), 'not an image');
    await indexLibraries({ db: store.db, workers: 2, progress: new ProgressTracker() });
    expect(store.images.getByPath(lib.id, 'notes.txt')?.status).toBe('skipped');
    const missingBefore = store.images.countsByStatus({ libraryId: lib.id }).missing;

    // As an older version left it: the other library's file indexed here too through a link,
    // and an export into the library indexed as new images.
    await fsp.symlink('../other', path.join(photos, 'xs'));
    await fsp.mkdir(path.join(photos, 'exported', 'Group 1'), { recursive: true });
    await fsp.writeFile(path.join(photos, 'exported', EXPORT_MARKER), '{}');
    await fsp.copyFile(path.join(photos, 'p0.jpg'), path.join(photos, 'exported', 'Group 1', 'p0.jpg'));
    const asBefore = [path.join('xs', 'o.jpg'), path.join('exported', 'Group 1', 'p0.jpg')];
    store.images.upsertScanned(
      lib.id,
      store.libraries.get(lib.id)!.scanGeneration,
      asBefore.map((relPath) => ({ relPath, size: 1, mtimeMs: 1 })),
    );
    await fsp.rm(path.join(photos, 'notes.txt'));

    const res = await indexLibraries({ db: store.db, libraryIds: [lib.id], workers: 2, progress: new ProgressTracker() });
    expect(res).toMatchObject({ markedMissing: 0, embedded: 0, pool: null });
    expect(store.images.countsByStatus({ libraryId: lib.id }).missing).toBe(missingBefore);
    for (const rel of [...asBefore, 'notes.txt']) expect(store.images.getByPath(lib.id, rel), rel).toBeNull();
    expect(store.images.getByPath(lib.id, 'xs')).toMatchObject({
      status: 'skipped',
      skipReason: expect.stringMatching(/^duplicate: .*another library/),
    });
  }, 120_000);
});
