import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, lstatSync, readlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportRecords, safeFolderName, toCsv, type ExportRecord } from '../../core/jobs/export.js';

function fixture() {
  const dir = mkdtempSync(path.join(tmpdir(), 'cs-export-'));
  const src = path.join(dir, 'src');
  mkdirSync(path.join(src, 'a'), { recursive: true });
  mkdirSync(path.join(src, 'b'), { recursive: true });
  writeFileSync(path.join(src, 'a', 'cat.jpg'), 'cat-a');
  writeFileSync(path.join(src, 'b', 'cat.jpg'), 'cat-b'); // same name, other folder
  writeFileSync(path.join(src, 'a', 'dog, "big".jpg'), 'dog');
  const records: ExportRecord[] = [
    { imageId: 1, absPath: path.join(src, 'a', 'cat.jpg'), groupId: 10, groupName: 'Cats', confidence: 0.9 },
    { imageId: 2, absPath: path.join(src, 'b', 'cat.jpg'), groupId: 10, groupName: 'Cats', confidence: 0.8 },
    { imageId: 3, absPath: path.join(src, 'a', 'dog, "big".jpg'), groupId: 11, groupName: 'Dogs/Wolves', confidence: 0.7 },
    { imageId: 4, absPath: path.join(src, 'a', 'cat.jpg'), groupId: null, groupName: 'Unsorted', confidence: null },
  ];
  return { dir, src, records };
}

describe('export', () => {
  it('writes CSV with the documented header and quoting', () => {
    const { records } = fixture();
    const csv = toCsv(records).split('\n');
    expect(csv[0]).toBe('path,group_id,group_name,confidence');
    expect(csv[1]).toMatch(/cat\.jpg,10,Cats,0\.9000$/);
    expect(csv[3]).toContain('"');
    expect(csv[4]).toMatch(/,,Unsorted,$/);
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
    expect(Object.keys(written[0]!)).toEqual(['path', 'group_id', 'group_name', 'confidence']);
  });

  it('dry run lists folders, counts and conflicts and writes nothing', async () => {
    const { dir, records } = fixture();
    const out = path.join(dir, 'out');
    const plan = await exportRecords(records, { format: 'folders', out, dryRun: true });
    expect(plan.dryRun).toBe(true);
    expect(plan.written).toBe(0);
    expect(plan.groups.map((g) => [g.name, g.count])).toEqual([['Cats', 2], ['Dogs/Wolves', 1], ['Unsorted', 1]]);
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
});
