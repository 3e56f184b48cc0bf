import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import fsp from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import { exportRecords, listedAtMost, safeFolderName, toCsv } from '../../core/jobs/export/export.js';
import type { ExportRecord } from '../../core/jobs/export/types.js';
import { numbered } from '../../core/jobs/export/names.js';
import { absoluteExportPath, ExportDestinationError } from '../../core/jobs/export/target.js';
import { EXPORT_MARKER } from '../../core/library/exportMarker.js';
import { testTempDir } from '../helpers/tempDir.js';

/** A record of what a folder export needs; the labelled-data fields (see exportLabels.test.ts) filled plainly. */
function record(r: Pick<ExportRecord, 'imageId' | 'absPath' | 'groupId' | 'groupName' | 'confidence'>): ExportRecord {
  const library = path.dirname(r.absPath);
  return {
    ...r,
    userConfirmed: false,
    suggestedGroupId: null,
    suggestedGroupName: null,
    library,
    relativePath: path.basename(r.absPath),
    contentHash: null,
  };
}

function fixture() {
  const dir = testTempDir('cs-export-');
  const src = path.join(dir, 'src');
  mkdirSync(path.join(src, 'a'), { recursive: true });
  mkdirSync(path.join(src, 'b'), { recursive: true });
  writeFileSync(path.join(src, 'a', 'cat.jpg'), 'cat-a');
  writeFileSync(path.join(src, 'b', 'cat.jpg'), 'cat-b'); // same name, other folder
  writeFileSync(path.join(src, 'a', 'dog, "big".jpg'), 'dog');
  const records: ExportRecord[] = [
    record({ imageId: 1, absPath: path.join(src, 'a', 'cat.jpg'), groupId: 10, groupName: 'Cats', confidence: 0.9 }),
    record({ imageId: 2, absPath: path.join(src, 'b', 'cat.jpg'), groupId: 10, groupName: 'Cats', confidence: 0.8 }),
    record({ imageId: 3, absPath: path.join(src, 'a', 'dog, "big".jpg'), groupId: 11, groupName: 'Dogs/Wolves', confidence: 0.7 }),
    record({ imageId: 4, absPath: path.join(src, 'a', 'cat.jpg'), groupId: null, groupName: 'Unsorted', confidence: null }),
  ];
  return { dir, src, records };
}

describe('export', () => {
  it('lists group folders in name order, numbers in number order, Unsorted last', async () => {
    const { dir, src } = fixture();
    const file = path.join(src, 'a', 'cat.jpg');
    const records: ExportRecord[] = [null, 'Group 10', 'Group 2', 'apple', 'Group 1 (3)', 'Group 1'].map((name, i) =>
      record({
        imageId: i + 1,
        absPath: file,
        groupId: name === null ? null : i,
        groupName: name ?? 'Unsorted',
        confidence: null,
      }),
    );
    const plan = await exportRecords(records, { format: 'folders', out: path.join(dir, 'out'), dryRun: true });
    expect(plan.groups.map((g) => g.name)).toEqual(['apple', 'Group 1', 'Group 1 (3)', 'Group 2', 'Group 10', 'Unsorted']);
  });

  it('writes CSV with the documented header and quoting', () => {
    const { records } = fixture();
    const csv = toCsv(records).split('\n');
    expect(csv[0]!.startsWith('path,group_id,group_name,confidence,')).toBe(true);
    expect(csv[1]).toMatch(/cat\.jpg,10,Cats,0\.9000,1,/);
    expect(csv[3]).toContain('"');
    expect(csv[4]).toMatch(/,,Unsorted,,4,/);
  });

  it('never overwrites an existing CSV/JSON file: it writes beside it with a suffix', async () => {
    const { dir, records } = fixture();
    const out = path.join(dir, 'groups.json');
    writeFileSync(out, 'precious');
    const plan = await exportRecords(records, { format: 'json', out });
    expect(readFileSync(out, 'utf8')).toBe('precious');
    expect(plan.conflicts).toHaveLength(1);
    const written = JSON.parse(readFileSync(plan.conflicts[0]!.renamedTo, 'utf8')) as Array<Record<string, unknown>>;
    expect(written).toHaveLength(4);
    expect(Object.keys(written[0]!).slice(0, 4)).toEqual(['path', 'group_id', 'group_name', 'confidence']);
  });

  it('dry run lists folders, counts and conflicts and writes nothing', async () => {
    const { dir, records } = fixture();
    const out = path.join(dir, 'out');
    const plan = await exportRecords(records, { format: 'folders', out, dryRun: true });
    expect(plan.dryRun).toBe(true);
    expect(plan.written).toBe(0);
    expect(plan.groups.map((g) => [g.name, g.count])).toEqual([
      ['Cats', 2],
      ['Dogs/Wolves', 1],
      ['Unsorted', 1],
    ]);
    expect(plan.groups[1]!.target.endsWith('Dogs_Wolves')).toBe(true);
    expect(plan.conflicts.map((c) => path.basename(c.renamedTo))).toEqual(['cat (2).jpg']);
    expect(() => statSync(out)).toThrow();
  });

  it('copies into one folder per group, suffixing collisions and keeping existing files', async () => {
    const { dir, records } = fixture();
    const out = path.join(dir, 'out');
    mkdirSync(path.join(out, 'Cats'), { recursive: true });
    writeFileSync(path.join(out, 'Cats', 'cat.jpg'), 'already here');
    const plan = await exportRecords(records, { format: 'folders', out, mode: 'copy' });
    expect(plan.written).toBe(4);
    expect(readFileSync(path.join(out, 'Cats', 'cat.jpg'), 'utf8')).toBe('already here');
    expect(readFileSync(path.join(out, 'Cats', 'cat (2).jpg'), 'utf8')).toBe('cat-a');
    expect(readFileSync(path.join(out, 'Cats', 'cat (3).jpg'), 'utf8')).toBe('cat-b');
    expect(readFileSync(path.join(out, 'Unsorted', 'cat.jpg'), 'utf8')).toBe('cat-a');
  });

  it('hardlinks and symlinks point at the originals, which stay unchanged', async () => {
    const { dir, records, src } = fixture();
    const hard = await exportRecords(records, { format: 'folders', out: path.join(dir, 'hard'), mode: 'hardlink' });
    expect(hard.written).toBe(4);
    expect(statSync(path.join(dir, 'hard', 'Cats', 'cat.jpg')).ino).toBe(statSync(path.join(src, 'a', 'cat.jpg')).ino);
    await exportRecords(records, { format: 'folders', out: path.join(dir, 'sym'), mode: 'symlink' });
    const link = path.join(dir, 'sym', 'Cats', 'cat.jpg');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(path.join(src, 'a', 'cat.jpg'));
    expect(readFileSync(path.join(src, 'a', 'cat.jpg'), 'utf8')).toBe('cat-a');
  });

  it('makes folder names safe on every OS', () => {
    expect(safeFolderName('a/b:c*?')).toBe('a_b_c__');
    expect(safeFolderName('CON')).toBe('CON_');
    expect(safeFolderName('trailing. ')).toBe('trailing');
    expect(safeFolderName('   ')).toBe('group');
  });

  it('cuts long folder names on code points, strips what the cut leaves at the end, and catches reserved names with an extension', () => {
    // 119 letters then an emoji (two UTF-16 units): a cut at 120 units would split it
    const emoji = safeFolderName('a'.repeat(119) + '😀😀');
    expect(Array.from(emoji)).toHaveLength(120);
    expect(emoji.endsWith('😀')).toBe(true);
    expect(Buffer.from(emoji).toString()).toBe(emoji); // no lone surrogate (it would read back as U+FFFD)
    // the cut at 120 leaves "... x " or "... x." at the end: Windows refuses both
    expect(safeFolderName('x'.repeat(119) + ' tail')).toBe('x'.repeat(119));
    expect(safeFolderName('x'.repeat(119) + '.tail')).toBe('x'.repeat(119));
    expect(safeFolderName('NUL.txt')).toBe('NUL_.txt');
    expect(safeFolderName('COM1.txt')).toBe('COM1_.txt');
    expect(safeFolderName('con.tar.gz')).toBe('con_.tar.gz');
    expect(safeFolderName('Console')).toBe('Console'); // only the whole word is reserved
  });

  it('a numbered copy of a 254-byte file name is cut to fit 255 bytes, keeping its " (2)" and extension; the dry run names it the same', async () => {
    const { dir } = fixture();
    const name = `${'b'.repeat(250)}.png`; // 254 bytes: " (2)" made it 258, ENAMETOOLONG
    for (const sub of ['long1', 'long2']) {
      mkdirSync(path.join(dir, sub));
      writeFileSync(path.join(dir, sub, name), `png-${sub}`);
    }
    const records = ['long1', 'long2'].map((sub, i) =>
      record({ imageId: i + 1, absPath: path.join(dir, sub, name), groupId: 1, groupName: 'G', confidence: 0.9 }),
    );
    const out = path.join(dir, 'out');
    const dry = await exportRecords(records, { format: 'folders', out, dryRun: true });
    const plan = await exportRecords(records, { format: 'folders', out });
    expect(plan).toMatchObject({ written: 2, failedCount: 0, conflictCount: 1 });
    const renamed = plan.conflicts[0]!.renamedTo;
    expect(path.basename(renamed)).toBe(`${'b'.repeat(247)} (2).png`);
    expect(Buffer.byteLength(path.basename(renamed))).toBe(255);
    expect(readFileSync(renamed, 'utf8')).toBe('png-long2');
    expect(dry.conflicts).toEqual(plan.conflicts);
    // again: both are already there, under the same (cut) names
    expect(await exportRecords(records, { format: 'folders', out })).toMatchObject({ alreadyThere: 2, written: 0, conflictCount: 0 });
  });

  it('cuts a group folder name to 255 UTF-8 bytes on whole characters, unique after the cut, as the dry run says', async () => {
    const { dir, src } = fixture();
    const file = path.join(src, 'a', 'cat.jpg');
    const trip = '家族旅行の写真'.repeat(17); // 119 characters, 357 bytes
    const emoji = '😀'.repeat(100); // 400 bytes, 200 UTF-16 units
    const dotAtCut = `${'家'.repeat(84)} .家`; // 257 bytes: the cut leaves " ." at the end
    const names = [trip, `${trip} 2`, emoji, dotAtCut];
    const records = names.map((groupName, i) => record({ imageId: i + 1, absPath: file, groupId: i + 1, groupName, confidence: 0.9 }));
    const out = path.join(dir, 'out');
    const dry = await exportRecords(records, { format: 'folders', out, dryRun: true });
    const plan = await exportRecords(records, { format: 'folders', out });
    expect(plan).toMatchObject({ written: 4, failedCount: 0 });
    expect(plan.groups.map((g) => g.target)).toEqual(dry.groups.map((g) => g.target));
    const folders = names.map((_, i) => path.basename(plan.groups.find((g) => g.groupId === i + 1)!.target));
    expect(folders).toEqual([
      '家族旅行の写真'.repeat(12) + '家', // 85 characters, 255 bytes
      '家族旅行の写真'.repeat(11) + '家族旅行の写 (2)', // the same cut: numbered, and cut again to fit " (2)"
      '😀'.repeat(63),
      '家'.repeat(84),
    ]);
    for (const f of folders) {
      expect(Buffer.byteLength(f), f).toBeLessThanOrEqual(255);
      expect(Buffer.from(f).toString(), 'no lone surrogate').toBe(f);
      expect(readFileSync(path.join(out, f, 'cat.jpg'), 'utf8')).toBe('cat-a');
    }
    expect(new Set(readdirSync(out))).toEqual(new Set([EXPORT_MARKER, ...folders]));
  });

  it('cuts a file name longer than the disk takes (from another filesystem) on whole characters, keeping the extension and number', () => {
    // A name NTFS holds (255 UTF-16 units) but ext4 does not (765 bytes): cut, the extension kept.
    const cut = numbered(`${'写'.repeat(251)}.jpeg`, 1);
    expect(cut).toBe(`${'写'.repeat(83)}.jpeg`);
    expect(numbered(`${'写'.repeat(251)}.jpeg`, 12)).toBe(`${'写'.repeat(81)} (12).jpeg`);
    // decomposed on HFS+: 2 bytes but 3 UTF-16 units each
    expect(numbered(`${'ǖ'.repeat(120)}.png`, 1)).toBe(`${'ǖ'.repeat(83)}.png`);
    // a flag (two code points) is not split: its first half alone would fit
    expect(numbered(`${'a'.repeat(247)}🇯🇵.png`, 1)).toBe(`${'a'.repeat(247)}.png`);
    expect(numbered('cat.jpg', 1)).toBe('cat.jpg');
    expect(numbered('cat.jpg', 2)).toBe('cat (2).jpg');
  });

  it('skips an original deleted since the last scan, goes on, and reports it (the dry run too)', async () => {
    const { dir, src, records } = fixture();
    rmSync(path.join(src, 'b', 'cat.jpg'));
    const out = path.join(dir, 'out');
    const dry = await exportRecords(records, { format: 'folders', out, dryRun: true });
    expect(dry.failed).toEqual([{ imageId: 2, path: path.join(src, 'b', 'cat.jpg'), reason: expect.stringMatching(/not found/) }]);
    const plan = await exportRecords(records, { format: 'folders', out, mode: 'copy' });
    expect(plan.failed).toEqual(dry.failed);
    expect(plan.written).toBe(3); // the files after it too
    expect(readFileSync(path.join(out, 'Dogs_Wolves', 'dog, "big".jpg'), 'utf8')).toBe('dog');
    expect(readFileSync(path.join(out, 'Unsorted', 'cat.jpg'), 'utf8')).toBe('cat-a');
    expect(plan.conflicts).toEqual([]); // the missing file claimed no name
    expect(plan).toMatchObject({ failedCount: 1, conflictCount: 0 });
  });

  it('over the API lists at most a given number of failures and conflicts, and counts them all', async () => {
    const { dir, src, records } = fixture();
    const many: ExportRecord[] = Array.from({ length: 30 }, (_, i) =>
      record({ imageId: 100 + i, absPath: path.join(src, `gone-${i}.jpg`), groupId: 10, groupName: 'Cats', confidence: 0.5 }),
    );
    const plan = await exportRecords([...records, ...many], { format: 'folders', out: path.join(dir, 'out'), dryRun: true });
    expect(plan).toMatchObject({ failedCount: 30, conflictCount: 1 });
    const listed = listedAtMost(plan, 10);
    expect(listed.failed).toEqual(plan.failed.slice(0, 10));
    expect(listed).toMatchObject({ failedCount: 30, conflictCount: 1, conflicts: plan.conflicts, total: plan.total });
  });

  it('a hard link the system refuses (FAT, exFAT, a network share, a file not owned) becomes a copy, and the result says why', async () => {
    const { dir, records } = fixture();
    const out = path.join(dir, 'out');
    // Root (as in CI) is refused no link, and mounting a FAT drive needs privileges CI lacks:
    // the refusal is injected as link(2) reports it on such a drive.
    const refuse = vi
      .spyOn(fsp, 'link')
      .mockRejectedValue(Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM' }));
    try {
      const plan = await exportRecords(records, { format: 'folders', out, mode: 'hardlink' });
      expect(refuse).toHaveBeenCalled();
      expect(plan).toMatchObject({ written: 4, failedCount: 0 });
      expect(plan.notes.join('\n')).toMatch(/4 files were copied, not hard-linked: the system refused the links/);
      expect(readFileSync(path.join(out, 'Cats', 'cat.jpg'), 'utf8')).toBe('cat-a');
      expect(statSync(path.join(out, 'Cats', 'cat.jpg')).nlink).toBe(1);
    } finally {
      refuse.mockRestore();
    }
  });

  it('a hard link refused for another reason is a failure of that file, not a copy', async () => {
    const { dir, records } = fixture();
    const refuse = vi.spyOn(fsp, 'link').mockRejectedValue(Object.assign(new Error('EIO: i/o error, link'), { code: 'EIO' }));
    try {
      const plan = await exportRecords(records, { format: 'folders', out: path.join(dir, 'out'), mode: 'hardlink' });
      expect(plan).toMatchObject({ written: 0, failedCount: 4 });
      expect(plan.failed[0]!.reason).toMatch(/read or write error \(a disk problem\?\)/);
    } finally {
      refuse.mockRestore();
    }
  });

  it('marks the output folder so library scans leave it out (not in a dry run), and never names a group folder like the marker', async () => {
    const { dir, records } = fixture();
    const out = path.join(dir, 'out');
    await exportRecords(records, { format: 'folders', out, dryRun: true });
    expect(existsSync(out)).toBe(false);
    const marked = [
      ...records,
      record({ imageId: 5, absPath: records[0]!.absPath, groupId: 12, groupName: EXPORT_MARKER, confidence: 0.9 }),
    ];
    const plan = await exportRecords(marked, { format: 'folders', out, database: '/x/c.db' });
    const marker = JSON.parse(readFileSync(path.join(out, EXPORT_MARKER), 'utf8')) as Record<string, unknown>;
    expect(marker).toMatchObject({ app: 'constellate', database: '/x/c.db' });
    expect(Number.isNaN(Date.parse(String(marker.time)))).toBe(false);
    expect(statSync(path.join(out, EXPORT_MARKER)).isFile()).toBe(true);
    expect(plan.groups.find((g) => g.groupId === 12)!.target).toBe(path.join(out, `${EXPORT_MARKER} (2)`));
    expect(plan.written).toBe(5);
  });

  it('exporting twice into the same folder writes nothing new: same content is "already there", another file of that name is kept', async () => {
    const { dir, records } = fixture();
    const out = path.join(dir, 'out');
    const first = await exportRecords(records, { format: 'folders', out, mode: 'copy' });
    expect(first.written).toBe(4);
    const before = readdirSync(path.join(out, 'Cats')).sort();
    const again = await exportRecords(records, { format: 'folders', out, mode: 'copy', dryRun: true });
    expect(again).toMatchObject({ alreadyThere: 4, conflicts: [], written: 0, failed: [] });
    const second = await exportRecords(records, { format: 'folders', out, mode: 'hardlink' });
    expect(second).toMatchObject({ alreadyThere: 4, conflicts: [], written: 0 });
    expect(readdirSync(path.join(out, 'Cats')).sort()).toEqual(before); // cat.jpg, cat (2).jpg: no cat (3).jpg
    // a different file under the name: kept, and the original goes beside it
    writeFileSync(path.join(out, 'Unsorted', 'cat.jpg'), 'cat-A'); // same size, other bytes
    const third = await exportRecords(records, { format: 'folders', out });
    expect(third).toMatchObject({ alreadyThere: 3, written: 1 });
    expect(third.conflicts.map((c) => path.relative(out, c.renamedTo))).toEqual([path.join('Unsorted', 'cat (2).jpg')]);
    expect(readFileSync(path.join(out, 'Unsorted', 'cat.jpg'), 'utf8')).toBe('cat-A');
  });

  it("a copy keeps the original's modification time", async () => {
    const { dir, src, records } = fixture();
    const when = new Date('2001-02-03T04:05:06Z');
    utimesSync(path.join(src, 'a', 'cat.jpg'), when, when);
    const out = path.join(dir, 'out');
    await exportRecords(records, { format: 'folders', out, mode: 'copy' });
    expect(statSync(path.join(out, 'Cats', 'cat.jpg')).mtimeMs).toBe(when.getTime());
  });

  it('refuses a folder export onto a file before writing anything, in the dry run too', async () => {
    const { dir, records } = fixture();
    const out = path.join(dir, 'a-file');
    writeFileSync(out, 'keep me');
    for (const dryRun of [true, false]) {
      await expect(exportRecords(records, { format: 'folders', out: path.join(out, 'sub'), dryRun })).rejects.toThrow(
        ExportDestinationError,
      );
      await expect(exportRecords(records, { format: 'folders', out, dryRun })).rejects.toThrow(`${out} is a file, not a folder`);
    }
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    // a file where a group's folder would go: the group takes the next name
    const dest = path.join(dir, 'dest');
    mkdirSync(dest);
    writeFileSync(path.join(dest, 'Cats'), 'a file');
    const plan = await exportRecords(records, { format: 'folders', out: dest });
    expect(plan.groups[0]!.target).toBe(path.join(dest, 'Cats (2)'));
    expect(plan).toMatchObject({ written: 4, failed: [] });
  });

  it('refuses a link where a group folder would go, naming it, before writing anything (issue 22, case 2)', async () => {
    const { dir, records } = fixture();
    const elsewhere = path.join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    const out = path.join(dir, 'out');
    mkdirSync(out);
    symlinkSync(elsewhere, path.join(out, 'Cats'));
    for (const dryRun of [true, false]) {
      for (const mode of ['copy', 'hardlink', 'symlink'] as const) {
        const err = await exportRecords(records, { format: 'folders', out, mode, dryRun }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ExportDestinationError);
        expect((err as Error).message).toBe(
          `${path.join(out, 'Cats')} is a link (to ${elsewhere}), not a folder: an export writes only into folders of its own, never through a link. Remove the link, or export to another folder`,
        );
      }
    }
    expect(readdirSync(elsewhere)).toEqual([]);
    expect(readdirSync(out)).toEqual(['Cats']); // no marker, no other group's folder: refused before anything
  });

  it('blames a dangling link where a group folder would go, not the originals (issue 22, case 6)', async () => {
    const { dir, records } = fixture();
    const out = path.join(dir, 'out');
    mkdirSync(out);
    const nowhere = path.join(dir, 'unplugged', 'photos');
    symlinkSync(nowhere, path.join(out, 'Cats'));
    const err = await exportRecords(records, { format: 'folders', out }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExportDestinationError);
    expect((err as Error).message.startsWith(`${path.join(out, 'Cats')} is a link (to ${nowhere}), not a folder`)).toBe(true);
    expect((err as Error).message).not.toMatch(/deleted or moved|not found/);
    expect(existsSync(path.join(dir, 'unplugged'))).toBe(false);
    for (const r of records) expect(existsSync(r.absPath)).toBe(true);
  });

  it('a CSV or JSON on a full disk leaves nothing behind and says how much room it needs (issue 22, case 5; a real full disk: test/integration/cliExport.test.ts)', async () => {
    const { dir, records } = fixture();
    const out = path.join(dir, 'groups.csv');
    // The disk fills up while the file is written, as on a full tmpfs: the file is created, its
    // write fails. Whichever way the export writes (a file handle, or writeFile by name).
    const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const realOpen = fsp.open.bind(fsp);
    const opened = vi.spyOn(fsp, 'open').mockImplementation(async (...args: Parameters<typeof fsp.open>) => {
      const fh = await realOpen(...args);
      fh.writeFile = () => Promise.reject(enospc());
      return fh;
    });
    const written = vi.spyOn(fsp, 'writeFile').mockImplementation(async (file, _data, options) => {
      await (await realOpen(file as string, (options as { flag?: string } | undefined)?.flag ?? 'w')).close();
      throw enospc();
    });
    try {
      const err = await exportRecords(records, { format: 'csv', out }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ExportDestinationError);
      expect((err as Error).message).toBe(
        `cannot write ${out}: the disk is full (0.1 MB needed). Nothing was written; free some space and export again`,
      );
    } finally {
      opened.mockRestore();
      written.mockRestore();
    }
    expect(readdirSync(dir)).toEqual(['src']);
    const plan = await exportRecords(records, { format: 'csv', out });
    expect(plan.groups[0]!.target).toBe(out);
    expect(readFileSync(out, 'utf8')).toBe(toCsv(records));
    expect(readdirSync(dir).sort()).toEqual(['groups.csv', 'src']);
  });

  it('writes a CSV or JSON asked for in an existing folder into it, as constellate-groups.csv, never over one', async () => {
    const { dir, records } = fixture();
    const folder = path.join(dir, 'f1');
    mkdirSync(folder);
    const csv = await exportRecords(records, { format: 'csv', out: folder });
    expect(csv.groups[0]!.target).toBe(path.join(folder, 'constellate-groups.csv'));
    expect(readFileSync(path.join(folder, 'constellate-groups.csv'), 'utf8')).toBe(toCsv(records));
    expect(csv.notes.join('\n')).toContain(`${folder} is a folder`);
    const again = await exportRecords(records, { format: 'csv', out: folder });
    expect(again.groups[0]!.target).toBe(path.join(folder, 'constellate-groups (2).csv'));
    const json = await exportRecords(records, { format: 'json', out: folder, dryRun: true });
    expect(json.groups[0]!.target).toBe(path.join(folder, 'constellate-groups.json'));
    expect(readdirSync(dir).sort()).toEqual(['f1', 'src']); // no "f1 (2)" beside it
  });

  it('in a library folder: says so; refuses one already holding files, which the marker would hide from scans', async () => {
    const { dir, src, records } = fixture();
    const inside = path.join(src, 'sorted');
    const plan = await exportRecords(records, { format: 'folders', out: inside, dryRun: true, libraryRoots: [src] });
    expect(plan.notes.join('\n')).toContain(
      `inside library ${src}: a marker file (.constellate-export) keeps the export out of its scans, so its images are not counted twice`,
    );
    await exportRecords(records, { format: 'folders', out: inside, libraryRoots: [src] });
    // the same folder again: it is an export (marked), not a folder of photos
    expect((await exportRecords(records, { format: 'folders', out: inside, libraryRoots: [src] })).alreadyThere).toBe(4);
    await expect(exportRecords(records, { format: 'folders', out: path.join(src, 'a'), libraryRoots: [src] })).rejects.toThrow(
      /inside library .* already holds files/,
    );
    await expect(exportRecords(records, { format: 'folders', out: src, libraryRoots: [src] })).rejects.toThrow(
      `${src} is a library folder and already holds files`,
    );
    await expect(exportRecords(records, { format: 'folders', out: src, libraryRoots: [src] })).rejects.toThrow(ExportDestinationError);
    expect(existsSync(path.join(src, EXPORT_MARKER))).toBe(false);
    expect(existsSync(path.join(src, 'a', EXPORT_MARKER))).toBe(false);
    const outside = await exportRecords(records, { format: 'folders', out: path.join(dir, 'out'), dryRun: true, libraryRoots: [src] });
    expect(outside.notes).toEqual([]);
  });

  it('turns a typed path into a full one: ~ is home, a relative path is refused', () => {
    expect(absoluteExportPath('~/w3sorted', 'e.g.')).toBe(path.join(homedir(), 'w3sorted'));
    expect(absoluteExportPath(' ~ ', 'e.g.')).toBe(homedir());
    expect(absoluteExportPath('/a/b/../c', 'e.g.')).toBe('/a/c');
    expect(() => absoluteExportPath('w3sorted', '/home/me/Pictures/sorted')).toThrow(
      'w3sorted is not a full path: give a full path, e.g. /home/me/Pictures/sorted',
    );
    expect(() => absoluteExportPath('~other/x', 'e.g.')).toThrow(ExportDestinationError);
  });
});

// Hard links cannot cross filesystems; /dev/shm (tmpfs) is another one than the temp folder here.
const shm = '/dev/shm';
const otherDisk = existsSync(shm) && statSync(shm).dev !== statSync(tmpdir()).dev;

describe.skipIf(!otherDisk)('hard links to another disk', () => {
  it('copies instead, decided before writing, and says so (the dry run too)', async () => {
    const src = mkdtempSync(path.join(shm, 'cs-export-src-'));
    try {
      writeFileSync(path.join(src, 'a.jpg'), 'aaa');
      const records: ExportRecord[] = [
        record({ imageId: 1, absPath: path.join(src, 'a.jpg'), groupId: 1, groupName: 'G', confidence: 0.9 }),
      ];
      const out = path.join(testTempDir('cs-export-'), 'out');
      const dry = await exportRecords(records, { format: 'folders', out, mode: 'hardlink', dryRun: true });
      expect(dry.notes.join('\n')).toMatch(/1 file would be copied, not hard-linked: hard links cannot cross disks/);
      const plan = await exportRecords(records, { format: 'folders', out, mode: 'hardlink' });
      expect(plan.written).toBe(1);
      expect(plan.failed).toEqual([]);
      expect(plan.notes.join('\n')).toMatch(/1 file was copied, not hard-linked/);
      expect(readFileSync(path.join(out, 'G', 'a.jpg'), 'utf8')).toBe('aaa');
      expect(statSync(path.join(out, 'G', 'a.jpg')).nlink).toBe(1);
      expect(readdirSync(out).sort()).toEqual([EXPORT_MARKER, 'G']);
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });
});
