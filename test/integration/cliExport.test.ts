/**
 * `constellate export` (the real, built CLI) on a real database and real files
 * (test/fixtures/exportDb.ts): what it prints and its exit code when originals are gone,
 * when --out is a folder for a CSV, and when it exports into the same folder twice.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

  it('refuses a link named like a group folder, naming it: nothing is written through it, and a dangling one blames no original (issue 22, cases 2 and 6)', async () => {
    const fx = buildExportDb();
    const out = path.join(fx.dir, 'export');
    const elsewhere = path.join(fx.dir, 'elsewhere');
    mkdirSync(out);
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, path.join(out, 'Cats'));
    const r = await runCli(['export', '--db', fx.db, '--format', 'folders', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `constellate: ${path.join(out, 'Cats')} is a link (to ${elsewhere}), not a folder: an export writes only into folders of its own, never through a link. Remove the link, or export to another folder`,
    );
    expect(readdirSync(elsewhere)).toEqual([]);
    expect(readdirSync(out)).toEqual(['Cats']);

    rmSync(path.join(out, 'Cats'));
    symlinkSync(path.join(fx.dir, 'unplugged'), path.join(out, 'Cats'));
    const dangling = await runCli(['export', '--db', fx.db, '--format', 'folders', '--out', out]);
    expect(dangling.code).toBe(1);
    expect(dangling.stderr).toContain(`${path.join(out, 'Cats')} is a link (to ${path.join(fx.dir, 'unplugged')}), not a folder`);
    expect(dangling.stderr).not.toMatch(/deleted or moved|not found/);
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

/**
 * A small real filesystem (64 KB of tmpfs) to fill up: mounting needs root and a system that
 * allows it (a container may not). Where it cannot be had, the unit test's injected ENOSPC
 * (test/jobs/export.test.ts) still checks what the export does and says.
 */
function smallDisk(): { dir: string; unmount(): void } | null {
  const dir = mkdtempSync(path.join(tmpdir(), 'cs-small-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    rmdirSync(dir);
    return null;
  }
  return {
    dir,
    unmount() {
      execFileSync('umount', [dir]);
      rmdirSync(dir);
    },
  };
}

const probe = process.getuid?.() === 0 ? smallDisk() : null;
probe?.unmount();

describe.skipIf(probe === null)('constellate export onto a full disk (a real 64 KB tmpfs; needs root and mount)', () => {
  it('CSV and JSON: nothing is left behind, the message says the disk is full and how much is needed, and the next export takes the name (issue 22, case 5)', async () => {
    const fx = buildExportDb();
    const disk = smallDisk()!;
    try {
      // Fill it: the filler keeps what fitted.
      const filler = path.join(disk.dir, 'filler');
      try {
        writeFileSync(filler, Buffer.alloc(1 << 20, 1));
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
      }
      for (const format of ['csv', 'json']) {
        const out = path.join(disk.dir, `groups.${format}`);
        const r = await runCli(['export', '--db', fx.db, '--format', format, '--out', out]);
        expect(r.code).toBe(1);
        expect(r.stderr.trim()).toBe(
          `constellate: cannot write ${out}: the disk is full (0.1 MB needed). Nothing was written; free some space and export again`,
        );
        expect(readdirSync(disk.dir)).toEqual(['filler']);
      }
      rmSync(filler);
      for (const format of ['csv', 'json']) {
        const out = path.join(disk.dir, `groups.${format}`);
        const r = await runCli(['export', '--db', fx.db, '--format', format, '--out', out]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout.trim()).toBe(`wrote 5 images in 2 groups to ${out}`);
      }
      expect(readdirSync(disk.dir).sort()).toEqual(['groups.csv', 'groups.json']);
    } finally {
      disk.unmount();
    }
  });
});
