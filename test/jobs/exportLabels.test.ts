/**
 * CSV and JSON exports as labelled data: which labels the user confirmed, the model's best
 * guess for an image in Unsorted, where each file is inside its library, its content hash; and
 * text cells a spreadsheet would run as formulas. Real SQLite (test/fixtures/exportDb.ts).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { toCsv, toJson } from '../../core/jobs/export/export.js';
import type { ExportRecord } from '../../core/jobs/export/types.js';
import { exportRecordsFromStore } from '../../core/jobs/export/records.js';
import { openStore } from '../../core/store/index.js';
import { buildExportDb } from '../fixtures/exportDb.js';

const HEADER =
  'path,group_id,group_name,confidence,image_id,user_confirmed,suggested_group_id,suggested_group_name,library,relative_path,content_hash,taken_at,duplicate_of';

/**
 * The fixture (Cats: cat1-3, Dogs: dog1-2, all at 0.95) after the user pinned cat1, removed
 * cat2 from its group and moved dog1 to Cats, and the model's confidence in cat3 fell below the
 * Unsorted threshold.
 */
function edited() {
  const fx = buildExportDb();
  const store = openStore(fx.db);
  try {
    const ids = new Map(
      store.db
        .stmt<{ id: number; name: string }>('SELECT id, name FROM images')
        .all()
        .map((r) => [r.name, r.id]),
    );
    const id = (name: string) => ids.get(name)!;
    const group = (name: string) => store.db.stmt<{ id: number }>('SELECT id FROM groups WHERE name = ?').get(name)!.id;
    store.edits.pinImages([id('cat1.jpg')]);
    store.edits.removeFromGroup([id('cat2.jpg')]);
    store.edits.moveImages([id('dog1.jpg')], group('Cats'));
    // the model's confidence, as a run writes it (not a user edit)
    store.db.raw.prepare('UPDATE assignments SET confidence = 0.3 WHERE image_id = ?').run(id('cat3.jpg'));
    return { fx, records: exportRecordsFromStore(store), cats: group('Cats'), dogs: group('Dogs'), id };
  } finally {
    store.close();
  }
}

describe('CSV and JSON as labelled data', () => {
  it('CSV keeps its first four columns and adds who confirmed each label, the best guess for Unsorted, the library path, the hash, the date taken and the keeper of a copy', () => {
    const { fx, records, cats, dogs, id } = edited();
    const lines = toCsv(records).trimEnd().split('\n');
    expect(lines[0]).toBe(HEADER);
    const row = (file: string, rest: string) => `${fx.files[file]},${rest}`;
    expect(lines.slice(1)).toEqual([
      row('cat1.jpg', `${cats},Cats,0.9500,${id('cat1.jpg')},true,,,${fx.library},cats/cat1.jpg,export-fixture:0,,`),
      // removed by the user: no group, no guess
      row('cat2.jpg', `,Unsorted,,${id('cat2.jpg')},true,,,${fx.library},cats/cat2.jpg,export-fixture:1,,`),
      // below the threshold: Unsorted, with the group the model would put it in
      row('cat3.jpg', `,Unsorted,0.3000,${id('cat3.jpg')},false,${cats},Cats,${fx.library},cats/cat3.jpg,export-fixture:2,,`),
      // moved by the user
      row('dog1.jpg', `${cats},Cats,1.0000,${id('dog1.jpg')},true,,,${fx.library},dogs/dog1.jpg,export-fixture:3,,`),
      row('dog2.jpg', `${dogs},Dogs,0.9500,${id('dog2.jpg')},false,,,${fx.library},dogs/dog2.jpg,export-fixture:4,,`),
    ]);
  });

  it('JSON has the same records with typed values', () => {
    const { fx, records, cats, id } = edited();
    const json = JSON.parse(toJson(records)) as Array<Record<string, unknown>>;
    expect(json[2]).toEqual({
      path: fx.files['cat3.jpg'],
      group_id: null,
      group_name: 'Unsorted',
      confidence: 0.3,
      image_id: id('cat3.jpg'),
      user_confirmed: false,
      suggested_group_id: cats,
      suggested_group_name: 'Cats',
      library: fx.library,
      relative_path: 'cats/cat3.jpg',
      content_hash: 'export-fixture:2',
      taken_at: null,
      duplicate_of: null,
    });
    expect(json[1]).toMatchObject({
      group_id: null,
      confidence: null,
      user_confirmed: true,
      suggested_group_id: null,
      suggested_group_name: null,
    });
    expect(json[3]).toMatchObject({ group_id: cats, confidence: 1, user_confirmed: true });
    expect(Object.keys(json[0]!)).toEqual(HEADER.split(','));
  });

  it('a text cell a spreadsheet would run as a formula gets a leading quote in CSV; JSON keeps the exact text', () => {
    const base: ExportRecord = {
      imageId: 1,
      absPath: '/lib/a.jpg',
      groupId: 1,
      groupName: 'x',
      confidence: 0.5,
      userConfirmed: false,
      suggestedGroupId: null,
      suggestedGroupName: null,
      library: '/lib',
      relativePath: 'a.jpg',
      contentHash: null,
    };
    const names = ['=HYPERLINK("http://x")', '+1', '-2', '@SUM(A1)', '\tx', '\rx'];
    const csv = toCsv(names.map((groupName, i) => ({ ...base, imageId: i + 1, groupName, suggestedGroupName: groupName })))
      .split('\n')
      .slice(1, -1);
    expect(csv[0]).toBe(`/lib/a.jpg,1,"'=HYPERLINK(""http://x"")",0.5000,1,false,,"'=HYPERLINK(""http://x"")",/lib,a.jpg,,,`);
    expect(csv.slice(1, 4).map((l) => l.split(',')[2])).toEqual(["'+1", "'-2", "'@SUM(A1)"]);
    expect(csv[4]!.split(',')[2]).toBe("'\tx");
    expect(toCsv([{ ...base, groupName: '\rx' }])).toContain(`,"'\rx",`);
    // a file name is text too
    expect(toCsv([{ ...base, relativePath: '-rf.jpg', absPath: '/lib/-rf.jpg' }]).split('\n')[1]).toContain(",'-rf.jpg,");
    expect((JSON.parse(toJson([{ ...base, groupName: names[0]! }])) as Array<{ group_name: string }>)[0]!.group_name).toBe(names[0]);
  });

  it('relative paths use / whatever the system, and the library is the root folder', () => {
    const { fx, records } = edited();
    expect(
      records.every(
        (r) => r.library === fx.library && !r.relativePath.includes('\\') && path.join(r.library, r.relativePath) === r.absPath,
      ),
    ).toBe(true);
  });
});

describe('for machine learning (issue 21)', () => {
  it('dates, the keeper of each copy, and leaving out copies, Unsorted, the unconfirmed and the less sure', async () => {
    const { filterRecords } = await import('../../core/jobs/export/records.js');
    const fx = buildExportDb();
    const store = openStore(fx.db);
    try {
      const ids = new Map(
        store.db
          .stmt<{ id: number; name: string }>('SELECT id, name FROM images')
          .all()
          .map((r) => [r.name, r.id]),
      );
      const id = (name: string) => ids.get(name)!;
      store.db.raw
        .prepare('UPDATE images SET taken_at = ?, taken_offset = ? WHERE id = ?')
        .run(Date.parse('2021-06-12T14:03:22.350Z'), 120, id('cat1.jpg'));
      store.db.raw.prepare('UPDATE assignments SET confidence = 0.7 WHERE image_id = ?').run(id('dog2.jpg'));
      store.edits.pinImages([id('dog1.jpg')]);
      const keeperOf = new Map([[id('cat2.jpg'), id('cat1.jpg')]]);
      const records = exportRecordsFromStore(store, { keeperOf });
      const csv = toCsv(records).trim().split('\n');
      const cat1 = csv.find((l) => l.includes('cat1.jpg'))!.split(',');
      expect(cat1.slice(-2)).toEqual(['2021-06-12T14:03:22.350+02:00', '']);
      expect(
        csv
          .find((l) => l.includes('cat2.jpg'))!
          .split(',')
          .at(-1),
      ).toBe(String(id('cat1.jpg')));
      const names = (f: Parameters<typeof filterRecords>[1]) =>
        filterRecords(records, f)
          .map((r) => path.basename(r.absPath))
          .sort();
      expect(names({ skipDuplicates: true })).not.toContain('cat2.jpg');
      expect(names({ confirmedOnly: true })).toEqual(['dog1.jpg']);
      expect(names({ minConfidence: 0.8 })).toEqual(['cat1.jpg', 'cat2.jpg', 'cat3.jpg', 'dog1.jpg']);
    } finally {
      store.close();
    }
  });
});
