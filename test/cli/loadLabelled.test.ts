/**
 * The rows `constellate eval` scores (loadLabelled): one library's embedded images below a
 * first-level folder, labelled by that folder, in id order, with their augmented views; never another
 * library's images, root files, skipped files or images not embedded yet. Real SQLite.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadLabelled } from '../../core/cli/eval.js';
import { BACKBONE } from '../../core/embed/backboneInfo.js';
import { DEFAULT_VIEWS, viewNames } from '../../core/jobs/indexing/views.js';
import { openStore, type Store } from '../../core/store/index.js';
import { hashOf, tempDir, vec } from '../store/helpers.js';

const DIM = 6;

/** Adds a library whose files are decoded and (unless listed in `notEmbedded`) embedded with their views. */
function addLibrary(
  store: Store,
  root: string,
  relPaths: string[],
  opts: { skipped?: string[]; notEmbedded?: string[] } = {},
): Map<string, number> {
  const lib = store.libraries.add(root);
  const gen = store.libraries.beginScan(lib.id);
  store.images.upsertScanned(
    lib.id,
    gen,
    relPaths.map((relPath, i) => ({ relPath, size: 100 + i, mtimeMs: 1_700_000_000_000 })),
  );
  store.libraries.finishScan(lib.id, gen);
  const ids = new Map(
    store.images
      .pending(1000)
      .filter((p) => p.libraryId === lib.id)
      .map((p) => [p.relPath, p.id]),
  );
  const skipped = new Set(opts.skipped);
  const decoded = [...ids].filter(([p]) => !skipped.has(p));
  store.db.write(() => {
    store.images.markSkipped([...ids].filter(([p]) => skipped.has(p)).map(([, id]) => ({ id, reason: 'decode-error' })));
    store.images.markDecoded(
      decoded.map(([p, id]) => ({
        id,
        contentHash: hashOf(`${root}/${p}`),
        width: 10,
        height: 10,
        orientation: 1,
        takenAt: null,
        camera: null,
      })),
    );
    const embedded = decoded.filter(([p]) => !opts.notEmbedded?.includes(p));
    store.embeddings.putMany(
      BACKBONE.id,
      embedded.map(([p, id]) => ({ contentHash: hashOf(`${root}/${p}`), vector: vec(id, DIM) })),
    );
    for (const [v, view] of viewNames(DEFAULT_VIEWS).entries()) {
      store.embeddings.putMany(
        BACKBONE.id,
        embedded.map(([p, id]) => ({ contentHash: hashOf(`${root}/${p}`), view, vector: vec(1000 * (v + 1) + id, DIM) })),
      );
    }
  });
  return ids;
}

describe('loadLabelled', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  it("reads one library's labelled, embedded images in id order with their views, image-major", () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const store = openStore(`${dir}/db.sqlite`);
    cleanups.unshift(() => store.close());
    addLibrary(store, `${dir}/other`, ['cats/a.jpg', 'dogs/b.jpg', 'zebras/c.jpg']);
    const lib = addLibrary(
      store,
      `${dir}/lib`,
      ['dogs/1.jpg', 'cats/2.jpg', 'root.jpg', 'cats/sub/3.jpg', 'dogs/broken.jpg', 'cats/later.jpg', 'birds/4.jpg'],
      {
        skipped: ['dogs/broken.jpg'],
        notEmbedded: ['cats/later.jpg'],
      },
    );
    const libraryId = store.images.get(lib.get('dogs/1.jpg')!)!.libraryId;

    const rows = loadLabelled(store, libraryId, `${dir}/lib`);

    const expected = ['dogs/1.jpg', 'cats/2.jpg', 'cats/sub/3.jpg', 'birds/4.jpg'].map((p) => lib.get(p)!);
    expect(rows.n).toBe(4);
    expect(rows.d).toBe(DIM);
    expect(rows.classes).toEqual(['birds', 'cats', 'dogs']);
    expect(rows.labels).toEqual([2, 1, 1, 0]);
    expect(Array.from(rows.features)).toEqual(expected.flatMap((id) => Array.from(vec(id, DIM))));
    expect(Array.from(rows.views!)).toEqual(
      expected.flatMap((id) => viewNames(DEFAULT_VIEWS).flatMap((_, v) => Array.from(vec(1000 * (v + 1) + id, DIM)))),
    );
  });

  it('refuses a folder with fewer than four labelled, embedded images', () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const store = openStore(`${dir}/db.sqlite`);
    cleanups.unshift(() => store.close());
    const lib = addLibrary(store, `${dir}/lib`, ['a/1.jpg', 'b/2.jpg', 'a/3.jpg', 'b/4.jpg', 'top.jpg'], { notEmbedded: ['b/4.jpg'] });
    const libraryId = store.images.get(lib.get('a/1.jpg')!)!.libraryId;
    expect(() => loadLabelled(store, libraryId, 'lib')).toThrow('found only 3 labelled images in lib');
  });
});
