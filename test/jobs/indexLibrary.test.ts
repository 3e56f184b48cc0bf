/**
 * Indexing streams work into the embed pool and hashes up front only the files that could be
 * copies of known content (same byte size): copies are still recognised, everything else is
 * decoded once.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexLibraries } from '../../core/jobs/indexLibrary.js';
import { ProgressTracker } from '../../core/jobs/progress.js';
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
});
