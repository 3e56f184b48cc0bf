/**
 * Libraries do not overlap: a folder inside a library, or holding one, is refused (by real
 * path, so a symlink to a library is that library), and a scan forgets the rows it leaves
 * out on purpose instead of calling them missing. Real folders, real symlinks, real SQLite.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { LibraryOverlapError, openStore, type Store } from '../../core/store/index.js';
import { seedImages, seedRun, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
let store: Store;
const folder = (rel: string): string => {
  const p = path.join(dir, rel);
  fs.mkdirSync(p, { recursive: true });
  return fs.realpathSync(p);
};
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  store = openStore(path.join(dir, 'app', 'c.db'));
});
afterEach(() => {
  store.close();
  cleanup();
});

describe('libraries.add', () => {
  it('refuses a folder inside a library, naming it, and adds nothing', () => {
    const libA = folder('data/libA');
    const birds = folder('data/libA/animals/birds');
    store.libraries.add(libA);
    expect(() => store.libraries.add(birds)).toThrow(LibraryOverlapError);
    expect(() => store.libraries.add(birds)).toThrow(
      expect.objectContaining({ userMessage: `${birds} is already part of the library ${libA}: its images are indexed there.` }),
    );
    // Through a symlink to a folder inside it, too.
    fs.symlinkSync(birds, path.join(dir, 'birds-link'));
    expect(() => store.libraries.add(path.join(dir, 'birds-link'))).toThrow(/already part of the library/);
    expect(store.libraries.list().map((l) => l.rootPath)).toEqual([libA]);
  });

  it('refuses a folder holding libraries, naming them', () => {
    const libA = folder('data/libA');
    const libB = folder('data/libB');
    store.libraries.add(libA);
    store.libraries.add(libB);
    const data = path.dirname(libA);
    expect(() => store.libraries.add(data)).toThrow(
      expect.objectContaining({
        userMessage: `${data} contains the libraries ${libA}, ${libB}: remove them first, or add the folders separately.`,
      }),
    );
    expect(store.libraries.list()).toHaveLength(2);
  });

  it('a symlink to a library is that library; a sibling sharing a name prefix is another one', () => {
    const libA = folder('data/libA');
    const a = store.libraries.add(libA);
    fs.symlinkSync(libA, path.join(dir, 'a-link'));
    expect(store.libraries.add(path.join(dir, 'a-link')).id).toBe(a.id);
    expect(store.libraries.add(folder('data/libA2')).id).not.toBe(a.id);
    // `..x` is a name inside libA, not a way out of it.
    expect(() => store.libraries.add(folder('data/libA/..x'))).toThrow(/already part of the library/);
  });
});

describe('libraries.finishScan', () => {
  it('forgets what lies below folders left out on purpose and gone non-images; marks gone images missing', () => {
    const lib = store.libraries.add(folder('libY'));
    const file = (relPath: string) => ({ relPath, size: 10, mtimeMs: 1000 });
    let gen = store.libraries.beginScan(lib.id);
    // As an older version indexed it: libX's files through the link `xs`, and an export.
    const rels = [
      'y.png',
      'gone.png',
      path.join('xs', 'x0.png'),
      path.join('xs', 'sub', 'x1.png'),
      path.join('exported', 'a.png'),
      'xs2.png',
      'readme.txt',
    ];
    store.images.upsertScanned(lib.id, gen, rels.map(file));
    store.images.markSkipped([{ id: store.images.getByPath(lib.id, 'readme.txt')!.id, reason: 'not-an-image: Not an image file (.txt)' }]);
    store.libraries.finishScan(lib.id, gen);

    gen = store.libraries.beginScan(lib.id);
    store.images.upsertScanned(lib.id, gen, [file('y.png'), file('xs'), file('xs2.png')]);
    const r = store.libraries.finishScan(lib.id, gen, ['xs', 'exported']);
    expect(r.markedMissing).toBe(1);
    const left = store.db.raw.prepare('SELECT rel_path AS p, status FROM images ORDER BY rel_path').all();
    expect(left).toEqual([
      { p: 'gone.png', status: 'missing' },
      { p: 'xs', status: 'pending' },
      { p: 'xs2.png', status: 'pending' },
      { p: 'y.png', status: 'pending' },
    ]);
    expect(store.images.countsByStatus({ libraryId: lib.id }).missing).toBe(1);
  });
});

describe('libraries.remove', () => {
  it('with the last library gone, there is no grouping and nothing to undo; before that, both stay', () => {
    const a = seedImages(store, folder('a'), 6);
    const b = seedImages(store, folder('b'), 6);
    const run = seedRun(store, [...a.imageIds, ...b.imageIds], 2);
    store.edits.recluster(run.runId);
    store.edits.renameGroup(run.groupIds[0]!, 'Birds');
    store.libraries.remove(a.libraryId);
    expect(store.runs.activeRunId()).toBe(run.runId);
    expect(store.edits.canUndo()).toBe(true);
    store.libraries.remove(b.libraryId);
    // a folder added now is grouped afresh, not placed in the empty groups of the old run
    expect(store.runs.activeRunId()).toBeNull();
    expect(store.edits.canUndo()).toBe(false);
  });
});
