/**
 * Re-exporting folders into the same folder: the `.constellate-export` manifest records what
 * each export placed, and the next export from the same database removes what it no longer
 * places (an image moved to another group, a group renamed), never a file the user changed,
 * never anything outside the export folder, and nothing at all for a marker it cannot trust.
 * Real files, real folders.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportRecords, listedAtMost } from '../../core/jobs/export/export.js';
import type { ExportRecord } from '../../core/jobs/export/types.js';
import { EXPORT_MARKER } from '../../core/library/exportMarker.js';
import { testTempDir } from '../helpers/tempDir.js';

const DB = '/data/constellate/c.db';

/** A library of three images; `groups` puts each in a group by name ("Unsorted": none). */
function fixture() {
  const dir = testTempDir('cs-manifest-');
  const src = path.join(dir, 'src');
  mkdirSync(src);
  const names = ['avocado.png', 'banana.png', 'cherry.png'];
  for (const n of names) writeFileSync(path.join(src, n), `bytes of ${n}`);
  const ids: Record<string, number> = { Fruit: 1, 'Fruit: "best"': 2, 'Group 5': 5, Berries: 7, fruit: 8 };
  const records = (groups: Record<string, string>): ExportRecord[] =>
    names.map((n, i) => {
      const g = groups[n] ?? 'Unsorted';
      return {
        imageId: i + 1,
        absPath: path.join(src, n),
        groupId: g === 'Unsorted' ? null : ids[g]!,
        groupName: g,
        confidence: 0.9,
        userConfirmed: false,
        suggestedGroupId: null,
        suggestedGroupName: null,
        library: src,
        relativePath: n,
        contentHash: null,
      };
    });
  return { dir, src, out: path.join(dir, 'out'), records };
}

const marker = (out: string) =>
  JSON.parse(readFileSync(path.join(out, EXPORT_MARKER), 'utf8')) as {
    manifest: number;
    database: string;
    time: string;
    groups: Array<{ folder: string; groupId: number | null; name: string }>;
    files: Array<{ path: string; imageId: number; how: string; size?: number; mtimeMs?: number; target?: string }>;
  };

const before = { 'avocado.png': 'Group 5', 'banana.png': 'Group 5', 'cherry.png': 'Fruit' };
const moved = { ...before, 'avocado.png': 'Fruit' };

describe('folder export manifest', () => {
  it('records the database, the groups (real names) and every file placed or already there', async () => {
    const { out, records } = fixture();
    const rec = records({ ...before, 'cherry.png': 'Fruit: "best"' });
    await exportRecords(rec, { format: 'folders', out, database: DB });
    const m = marker(out);
    expect(m).toMatchObject({ app: 'constellate', manifest: 1, database: DB });
    expect(Number.isNaN(Date.parse(m.time))).toBe(false);
    expect(m.groups).toEqual([
      { folder: 'Fruit_ _best_', groupId: 2, name: 'Fruit: "best"' },
      { folder: 'Group 5', groupId: 5, name: 'Group 5' },
    ]);
    const avocado = statSync(path.join(out, 'Group 5', 'avocado.png'));
    expect(m.files).toContainEqual({ path: 'Group 5/avocado.png', imageId: 1, how: 'copy', size: avocado.size, mtimeMs: avocado.mtimeMs });
    expect(m.files).toHaveLength(3);
    // a second export finds them already there, and records them again
    const again = await exportRecords(rec, { format: 'folders', out, database: DB });
    expect(again).toMatchObject({ alreadyThere: 3, written: 0, removed: 0 });
    expect(marker(out).files).toHaveLength(3);
    expect(readdirSync(out).filter((n) => n.startsWith(EXPORT_MARKER))).toEqual([EXPORT_MARKER]); // no temp file left
  });

  it('removes the copy an earlier export left in the old group after an image moved (the preview says so first)', async () => {
    const { out, records } = fixture();
    await exportRecords(records(before), { format: 'folders', out, database: DB });
    expect(existsSync(path.join(out, 'Group 5', 'avocado.png'))).toBe(true);
    const preview = await exportRecords(records(moved), { format: 'folders', out, database: DB, dryRun: true });
    expect(preview).toMatchObject({ removed: 1, removedFiles: [{ imageId: 1, path: path.join(out, 'Group 5', 'avocado.png') }] });
    expect(preview.groups.find((g) => g.name === 'Group 5')).toMatchObject({ newFiles: 0, alreadyThere: 1, removed: 1 });
    expect(preview.groups.find((g) => g.name === 'Fruit')).toMatchObject({ newFiles: 1, alreadyThere: 1, removed: 0 });
    expect(existsSync(path.join(out, 'Group 5', 'avocado.png'))).toBe(true); // a preview removes nothing
    const plan = await exportRecords(records(moved), { format: 'folders', out, database: DB });
    expect(plan).toMatchObject({ written: 1, alreadyThere: 2, removed: 1 });
    expect(readdirSync(path.join(out, 'Fruit')).sort()).toEqual(['avocado.png', 'cherry.png']);
    expect(readdirSync(path.join(out, 'Group 5'))).toEqual(['banana.png']);
    expect(
      marker(out)
        .files.map((f) => f.path)
        .sort(),
    ).toEqual(['Fruit/avocado.png', 'Fruit/cherry.png', 'Group 5/banana.png']);
  });

  it('over the API the removed files are listed at most up to the limit, and counted in full', async () => {
    const { out, records } = fixture();
    await exportRecords(records(before), { format: 'folders', out, database: DB });
    const plan = await exportRecords(records({}), { format: 'folders', out, database: DB, dryRun: true });
    expect(plan.removed).toBe(3);
    expect(listedAtMost(plan, 2)).toMatchObject({ removed: 3, removedFiles: plan.removedFiles.slice(0, 2) });
  });

  it('a renamed group leaves no second copy: the old folder is emptied and removed', async () => {
    const { out, records } = fixture();
    await exportRecords(records(before), { format: 'folders', out, database: DB });
    const renamed = { 'avocado.png': 'Berries', 'banana.png': 'Berries', 'cherry.png': 'Fruit' };
    const plan = await exportRecords(records(renamed), { format: 'folders', out, database: DB });
    expect(plan).toMatchObject({ written: 2, alreadyThere: 1, removed: 2 });
    expect(readdirSync(out).sort()).toEqual([EXPORT_MARKER, 'Berries', 'Fruit']);
    expect(plan.notes.join('\n')).toContain('Group 5');
  });

  it('a group renamed only in case is a new folder on a case-sensitive disk, and the old one goes', async () => {
    const { out, records } = fixture();
    await exportRecords(records({ 'cherry.png': 'fruit' }), { format: 'folders', out, database: DB });
    const plan = await exportRecords(records({ 'cherry.png': 'Fruit' }), { format: 'folders', out, database: DB });
    const caseSensitive = !existsSync(path.join(out, 'FRUIT'));
    if (caseSensitive) {
      expect(plan.removed).toBe(1);
      expect(readdirSync(out).sort()).toEqual([EXPORT_MARKER, 'Fruit', 'Unsorted']);
    } else {
      expect(plan.removed).toBe(0); // the same folder: nothing is stale
    }
    expect(readFileSync(path.join(out, 'Fruit', 'cherry.png'), 'utf8')).toBe('bytes of cherry.png');
  });

  it('keeps a stale file the user changed since, and says so', async () => {
    const { out, records } = fixture();
    await exportRecords(records(before), { format: 'folders', out, database: DB });
    const edited = path.join(out, 'Group 5', 'avocado.png');
    writeFileSync(edited, 'retouched by hand');
    const plan = await exportRecords(records(moved), { format: 'folders', out, database: DB });
    expect(plan.removed).toBe(0);
    expect(readFileSync(edited, 'utf8')).toBe('retouched by hand');
    expect(plan.notes.join('\n')).toMatch(/1 file .*changed since.*kept/);
    expect(plan.notes.join('\n')).toContain(edited);
    // a file with the same bytes but another time was touched too: kept
    await exportRecords(records(before), { format: 'folders', out: path.join(out, '..', 'out2'), database: DB });
    const touched = path.join(out, '..', 'out2', 'Group 5', 'avocado.png');
    utimesSync(touched, new Date('2020-01-01'), new Date('2020-01-01'));
    expect((await exportRecords(records(moved), { format: 'folders', out: path.join(out, '..', 'out2'), database: DB })).removed).toBe(0);
    expect(existsSync(touched)).toBe(true);
  });

  it('removes stale hard links and symbolic links, never their originals', async () => {
    const { out, src, records } = fixture();
    for (const mode of ['hardlink', 'symlink'] as const) {
      const dest = `${out}-${mode}`;
      await exportRecords(records(before), { format: 'folders', out: dest, mode, database: DB });
      const m = marker(dest).files.find((f) => f.path === 'Group 5/avocado.png')!;
      expect(m.how).toBe(mode);
      if (mode === 'symlink') expect(m.target).toBe(path.join(src, 'avocado.png'));
      const plan = await exportRecords(records(moved), { format: 'folders', out: dest, mode, database: DB });
      expect(plan.removed).toBe(1);
      expect(existsSync(path.join(dest, 'Group 5', 'avocado.png'))).toBe(false);
      expect(readFileSync(path.join(src, 'avocado.png'), 'utf8')).toBe('bytes of avocado.png');
    }
  });

  it('a symbolic link pointed elsewhere since is kept', async () => {
    const { out, dir, records } = fixture();
    await exportRecords(records(before), { format: 'folders', out, mode: 'symlink', database: DB });
    const link = path.join(out, 'Group 5', 'avocado.png');
    rmSync(link);
    writeFileSync(path.join(dir, 'mine.png'), 'mine');
    symlinkSync(path.join(dir, 'mine.png'), link);
    const plan = await exportRecords(records(moved), { format: 'folders', out, mode: 'symlink', database: DB });
    expect(plan.removed).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });

  it('removes nothing for a marker from another database, an old one without a list, or a corrupt one', async () => {
    const { out, records } = fixture();
    await exportRecords(records(before), { format: 'folders', out, database: DB });
    const stale = path.join(out, 'Group 5', 'avocado.png');
    const other = await exportRecords(records(moved), { format: 'folders', out, database: '/elsewhere/other.db', dryRun: true });
    expect(other.removed).toBe(0);
    expect(other.notes.join('\n')).toMatch(/another database/);
    for (const body of [
      JSON.stringify({ app: 'constellate', time: new Date().toISOString(), database: DB }),
      '{"app": "constellate", "manif',
      '',
    ]) {
      writeFileSync(path.join(out, EXPORT_MARKER), body);
      const plan = await exportRecords(records(moved), { format: 'folders', out: out, database: DB, dryRun: true });
      expect(plan.removed).toBe(0);
    }
    expect(existsSync(stale)).toBe(true);
  });

  it('a crafted manifest never deletes outside the export folder: the whole list is refused', async () => {
    const { dir, out, records } = fixture();
    await exportRecords(records(before), { format: 'folders', out, database: DB });
    const victim = path.join(dir, 'victim.png');
    writeFileSync(victim, 'precious');
    const st = statSync(victim);
    const m = marker(out);
    const entry = (p: string) => ({ path: p, imageId: 99, how: 'copy', size: st.size, mtimeMs: st.mtimeMs });
    const crafted = [
      '../victim.png',
      `Group 5/../../victim.png`,
      victim,
      'victim.png',
      '/victim.png',
      'Group 5/x/../../../victim.png',
      'Group 5//victim.png',
    ];
    for (const p of crafted) {
      writeFileSync(path.join(out, EXPORT_MARKER), JSON.stringify({ ...m, files: [...m.files, entry(p)] }));
      const plan = await exportRecords(records(moved), { format: 'folders', out, database: DB });
      expect(plan.removed, p).toBe(0);
      expect(readFileSync(victim, 'utf8')).toBe('precious');
    }
    // a group folder replaced by a link to another folder: not followed
    const elsewhere = path.join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    writeFileSync(path.join(elsewhere, 'victim.png'), 'precious');
    const st2 = statSync(path.join(elsewhere, 'victim.png'));
    symlinkSync(elsewhere, path.join(out, 'Linked'));
    writeFileSync(
      path.join(out, EXPORT_MARKER),
      JSON.stringify({ ...m, files: [{ path: 'Linked/victim.png', imageId: 99, how: 'copy', size: st2.size, mtimeMs: st2.mtimeMs }] }),
    );
    const plan = await exportRecords(records(moved), { format: 'folders', out, database: DB });
    expect(plan.removed).toBe(0);
    expect(readFileSync(path.join(elsewhere, 'victim.png'), 'utf8')).toBe('precious');
  });

  it('keeps, and lists again, the earlier copy of an image whose original cannot be read now', async () => {
    const { out, src, records } = fixture();
    await exportRecords(records(before), { format: 'folders', out, database: DB });
    rmSync(path.join(src, 'avocado.png'));
    const plan = await exportRecords(records(moved), { format: 'folders', out, database: DB });
    expect(plan).toMatchObject({ removed: 0, failedCount: 1 });
    expect(plan.groups.find((g) => g.name === 'Fruit')).toMatchObject({ newFiles: 0, failed: 1 });
    expect(existsSync(path.join(out, 'Group 5', 'avocado.png'))).toBe(true);
    expect(marker(out).files.map((f) => f.path)).toContain('Group 5/avocado.png');
    expect(plan.notes.join('\n')).toMatch(/cannot be read now/);
  });
});
