/**
 * exportGroups through the service, as the UI calls it (`dispatch`), on a real database and
 * real files (test/fixtures/exportDb.ts): typed paths, destinations checked before anything is
 * written, originals gone since the last scan, libraries.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiHost } from '../../core/api/host.js';
import { createService } from '../../core/api/service.js';
import { EXPORT_MARKER } from '../../core/library/exportMarker.js';
import { openStore, type Store } from '../../core/store/index.js';
import { buildExportDb, type ExportFixture } from '../fixtures/exportDb.js';
import { serviceCaller } from '../helpers/service.js';
import { testTempDir } from '../helpers/tempDir.js';

let fx: ExportFixture;
let store: Store;
let host: ApiHost;
const { call } = serviceCaller(() => host);

beforeEach(() => {
  fx = buildExportDb();
  store = openStore(fx.db);
  host = createService({ store });
});

afterEach(async () => {
  await host.close();
  store.close();
});

describe('exportGroups', () => {
  it("expands ~ to the home folder and refuses a relative path (it went under the server's working directory)", async () => {
    const home = testTempDir('cs-home-');
    const saved = process.env.HOME;
    process.env.HOME = home; // os.homedir() reads it
    try {
      const plan = await call('exportGroups', { format: 'folders', out: '~/w3sorted' });
      expect(plan.written).toBe(5);
      expect(readdirSync(path.join(home, 'w3sorted')).sort()).toEqual([EXPORT_MARKER, 'Cats', 'Dogs']);
      expect(plan.groups[0]!.target).toBe(path.join(home, 'w3sorted', 'Cats'));
    } finally {
      process.env.HOME = saved;
    }
    expect(existsSync(path.join(process.cwd(), '~'))).toBe(false);
    for (const out of ['w3sorted', './w3sorted', 'sub/groups.csv']) {
      await expect(call('exportGroups', { format: 'folders', out, dryRun: true })).rejects.toMatchObject({
        code: 'invalid-input',
        message: `${out} is not a full path: give a full path, e.g. /home/me/Pictures/sorted`,
      });
    }
    await expect(call('exportGroups', { format: 'csv', out: 'groups.csv' })).rejects.toMatchObject({
      message: expect.stringContaining('e.g. /home/me/groups.csv'),
    });
    expect(existsSync(path.join(process.cwd(), 'w3sorted'))).toBe(false);
  });

  it('an original deleted since the last scan: the preview warns, the export skips it, goes on and reports it', async () => {
    rmSync(fx.files['cat2.jpg']!);
    const out = path.join(fx.dir, 'export');
    const preview = await call('exportGroups', { format: 'folders', out, dryRun: true });
    expect(preview.failed).toEqual([
      { imageId: 2, path: fx.files['cat2.jpg'], reason: expect.stringMatching(/not found: deleted or moved/) },
    ]);
    const plan = await call('exportGroups', { format: 'folders', out });
    expect(plan.written).toBe(4);
    expect(plan.failed.map((f) => f.path)).toEqual([fx.files['cat2.jpg']]);
    expect(readdirSync(path.join(out, 'Cats')).sort()).toEqual(['cat1.jpg', 'cat3.jpg']);
    expect(readdirSync(path.join(out, 'Dogs')).sort()).toEqual(['dog1.jpg', 'dog2.jpg']);
  });

  it('refuses folders onto an existing file before writing anything, and the preview says so', async () => {
    const out = path.join(fx.dir, 'a-file');
    writeFileSync(out, 'keep me');
    for (const dryRun of [true, false]) {
      await expect(call('exportGroups', { format: 'folders', out, dryRun })).rejects.toMatchObject({
        code: 'invalid-input',
        message: `${out} is a file, not a folder`,
      });
    }
    await expect(call('exportGroups', { format: 'csv', out: path.join(out, 'g.csv') })).rejects.toMatchObject({
      code: 'invalid-input',
      message: `${out} is a file, not a folder`,
    });
    expect(readFileSync(out, 'utf8')).toBe('keep me');
  });

  it('writes the marker with the database, and says when the folder is inside a library', async () => {
    const out = path.join(fx.library, 'sorted');
    const preview = await call('exportGroups', { format: 'folders', out, dryRun: true });
    expect(preview.notes).toEqual([
      expect.stringContaining(`inside library ${fx.library}: a marker file (.constellate-export) keeps the export out of its scans`),
    ]);
    await call('exportGroups', { format: 'folders', out });
    expect(JSON.parse(readFileSync(path.join(out, EXPORT_MARKER), 'utf8'))).toMatchObject({ app: 'constellate', database: fx.db });
    // exporting again: nothing doubled
    const again = await call('exportGroups', { format: 'folders', out, mode: 'copy' });
    expect(again).toMatchObject({ written: 0, alreadyThere: 5, conflicts: [] });
    expect(readdirSync(path.join(out, 'Cats'))).toHaveLength(3);
    // the library's own photo folder would be hidden by the marker: refused
    await expect(call('exportGroups', { format: 'folders', out: path.join(fx.library, 'cats'), dryRun: true })).rejects.toMatchObject({
      code: 'invalid-input',
    });
  });

  it('re-exporting after a move removes the copy the earlier export left in the old group; the preview says so first', async () => {
    const out = path.join(fx.dir, 'export');
    await call('exportGroups', { format: 'folders', out });
    const id = (name: string) => store.db.stmt<{ id: number }>('SELECT id FROM images WHERE name = ?').get(name)!.id;
    const cats = store.db.stmt<{ id: number }>("SELECT id FROM groups WHERE name = 'Cats'").get()!.id;
    await call('moveImages', { imageIds: [id('dog1.jpg')], to: { groupId: cats } });
    const stale = path.join(out, 'Dogs', 'dog1.jpg');
    const preview = await call('exportGroups', { format: 'folders', out, dryRun: true });
    expect(preview).toMatchObject({ removed: 1, removedFiles: [{ imageId: id('dog1.jpg'), path: stale }], written: 0 });
    expect(existsSync(stale)).toBe(true);
    const plan = await call('exportGroups', { format: 'folders', out });
    expect(plan).toMatchObject({ written: 1, alreadyThere: 4, removed: 1 });
    expect(existsSync(stale)).toBe(false);
    expect(readdirSync(path.join(out, 'Cats')).sort()).toEqual(['cat1.jpg', 'cat2.jpg', 'cat3.jpg', 'dog1.jpg']);
    expect(JSON.parse(readFileSync(path.join(out, EXPORT_MARKER), 'utf8'))).toMatchObject({ manifest: 1, database: fx.db });
  });

  it('CSV over the API has the labelled-data columns', async () => {
    const file = path.join(fx.dir, 'g.csv');
    await call('exportGroups', { format: 'csv', out: file });
    const [header, first] = readFileSync(file, 'utf8').split('\n');
    expect(header).toBe(
      'path,group_id,group_name,confidence,image_id,user_confirmed,suggested_group_id,suggested_group_name,library,relative_path,content_hash,taken_at,duplicate_of',
    );
    expect(first).toMatch(/,false,,,.*,cats\/cat1\.jpg,export-fixture:0,,$/);
  });

  it('a CSV asked for in an existing folder goes into it, named, and the result says where', async () => {
    const folder = path.join(fx.dir, 'f1');
    mkdirSync(folder);
    const plan = await call('exportGroups', { format: 'csv', out: folder });
    expect(plan.groups[0]!.target).toBe(path.join(folder, 'constellate-groups.csv'));
    expect(readFileSync(path.join(folder, 'constellate-groups.csv'), 'utf8').split('\n')[0]).toMatch(
      /^path,group_id,group_name,confidence,/,
    );
    expect(existsSync(path.join(fx.dir, 'f1 (2)'))).toBe(false);
  });
});
