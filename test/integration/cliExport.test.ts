/**
 * `constellate export` (the real, built CLI) on a real database and real files
 * (test/fixtures/exportDb.ts): what it prints and its exit code when originals are gone,
 * when --out is a folder for a CSV, and when it exports into the same folder twice.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXPORT_MARKER } from '../../core/library/exportMarker.js';
import { buildExportDb } from '../fixtures/exportDb.js';
import { runCli } from '../helpers/cli.js';

describe('constellate export', () => {
  it('skips originals deleted since the last scan, exports the rest, lists them and exits 2 (the dry run too)', async () => {
    const fx = buildExportDb();
    rmSync(fx.files['cat2.jpg']!);
    rmSync(fx.files['dog1.jpg']!);
    const out = path.join(fx.dir, 'export');
    const dry = await runCli(['export', '--db', fx.db, '--format', 'folders', '--out', out, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(2);
    expect(dry.stderr).toContain('2 files cannot be exported:');
    expect(existsSync(out)).toBe(false);
    const r = await runCli(['export', '--db', fx.db, '--format', 'folders', '--out', out]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.split('\n')).toEqual(
      expect.arrayContaining([
        '3 written; 0 already there; 0 name conflicts; 2 could not be exported',
        '2 files could not be exported:',
        `  ${fx.files['cat2.jpg']}: not found: deleted or moved since the last scan`,
        `  ${fx.files['dog1.jpg']}: not found: deleted or moved since the last scan`,
      ]),
    );
    expect(r.stderr).not.toMatch(/ENOENT|\n\s+at /);
    expect(readdirSync(path.join(out, 'Cats')).sort()).toEqual(['cat1.jpg', 'cat3.jpg']);
    expect(readdirSync(path.join(out, 'Dogs'))).toEqual(['dog2.jpg']);
  });

  it('exporting into the same folder again writes nothing new: every file is already there', async () => {
    const fx = buildExportDb();
    const out = path.join(fx.dir, 'export');
    const first = await runCli(['export', '--db', fx.db, '--format', 'folders', '--out', out]);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(readFileSync(path.join(out, EXPORT_MARKER), 'utf8'))).toMatchObject({ app: 'constellate', database: fx.db });
    const second = await runCli(['export', '--db', fx.db, '--format', 'folders', '--out', out, '--mode', 'hardlink']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr.trim()).toBe('0 written; 5 already there; 0 name conflicts');
    expect(second.stdout).not.toMatch(/name conflict/);
    expect(readdirSync(path.join(out, 'Cats')).sort()).toEqual(['cat1.jpg', 'cat2.jpg', 'cat3.jpg']);
  });

  it('--format csv --out an existing folder writes constellate-groups.csv into it and says where', async () => {
    const fx = buildExportDb();
    const folder = path.join(fx.dir, 'f1');
    mkdirSync(folder);
    const r = await runCli(['export', '--db', fx.db, '--format', 'csv', '--out', folder]);
    expect(r.code, r.stderr).toBe(0);
    const file = path.join(folder, 'constellate-groups.csv');
    expect(r.stdout).toContain(`wrote 5 images in 2 groups to ${file}\n`);
    expect(r.stdout).toContain(`note: ${folder} is a folder`);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(6);
    expect(readdirSync(fx.dir).sort()).toEqual(['db', 'f1', 'photos']); // no "f1 (2)"
  });
});
