/**
 * `constellate export --format folders` (the real, built CLI: `npm run build:core` first) on a
 * real database and real files: per group what was written, already there and removed; the
 * dry run's counts and lists; a re-export after an edit.
 */
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../core/store/index.js';
import { buildExportDb, type ExportFixture } from '../fixtures/exportDb.js';
import { runCli } from '../helpers/cli.js';

/** Moves `file`'s image into group `to`, as the app does (an undoable user edit). */
function move(fx: ExportFixture, file: string, to: string): void {
  const store = openStore(fx.db);
  try {
    const image = store.db.stmt<{ id: number }>('SELECT id FROM images WHERE name = ?').get(file)!.id;
    const group = store.db.stmt<{ id: number }>('SELECT id FROM groups WHERE name = ?').get(to)!.id;
    store.edits.moveImages([image], group);
  } finally {
    store.close();
  }
}

const folders = (fx: ExportFixture, out: string, ...more: string[]) =>
  runCli(['export', '--db', fx.db, '--format', 'folders', '--out', out, ...more]);

describe('constellate export --format folders', () => {
  it('a re-export says per group what it wrote, found already there and removed, and lists each removal', async () => {
    const fx = buildExportDb();
    const out = path.join(fx.dir, 'export');
    const first = await folders(fx, out);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.split('\n')).toEqual(
      expect.arrayContaining([
        `${path.join(out, 'Cats')}: 3 written, 0 already there`,
        `${path.join(out, 'Dogs')}: 2 written, 0 already there`,
      ]),
    );

    const again = await folders(fx, out);
    expect(again.stdout.split('\n')).toEqual(expect.arrayContaining([`${path.join(out, 'Cats')}: 0 written, 3 already there`]));
    expect(again.stdout).not.toMatch(/wrote|[1-9] written/);

    move(fx, 'dog1.jpg', 'Cats');
    const stale = path.join(out, 'Dogs', 'dog1.jpg');
    const dry = await folders(fx, out, '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout.split('\n')).toEqual(
      expect.arrayContaining([
        `${path.join(out, 'Cats')}: 1 to write, 3 already there`,
        `${path.join(out, 'Dogs')}: 0 to write, 1 already there, 1 to remove`,
        `would remove: ${stale}`,
      ]),
    );
    expect(dry.stderr).toContain('dry run: nothing written; 4 already there; 0 name conflicts; 1 would be removed');
    expect(existsSync(stale)).toBe(true);

    const r = await folders(fx, out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')).toEqual(
      expect.arrayContaining([`${path.join(out, 'Dogs')}: 0 written, 1 already there, 1 removed`, `removed: ${stale}`]),
    );
    expect(r.stderr.trim()).toBe('1 written; 4 already there; 0 name conflicts; 1 removed');
    expect(existsSync(stale)).toBe(false);
  });

  it('a folder that is no longer a group (a renamed group) is reported on its own line', async () => {
    const fx = buildExportDb();
    const out = path.join(fx.dir, 'export');
    await folders(fx, out);
    const store = openStore(fx.db);
    try {
      store.edits.renameGroup(store.db.stmt<{ id: number }>("SELECT id FROM groups WHERE name = 'Dogs'").get()!.id, 'Hounds');
    } finally {
      store.close();
    }
    const r = await folders(fx, out);
    expect(r.stdout.split('\n')).toEqual(
      expect.arrayContaining([
        `${path.join(out, 'Hounds')}: 2 written, 0 already there`,
        `${path.join(out, 'Dogs')}: 2 removed (no longer a group folder)`,
      ]),
    );
    expect(existsSync(path.join(out, 'Dogs'))).toBe(false);
  });

  it("the dry run counts only what it would write: an original that is gone is not in its group's count", async () => {
    const fx = buildExportDb();
    rmSync(fx.files['cat2.jpg']!);
    const out = path.join(fx.dir, 'export');
    const dry = await folders(fx, out, '--dry-run');
    expect(dry.code).toBe(2);
    expect(dry.stdout.split('\n')).toContain(`${path.join(out, 'Cats')}: 2 to write, 0 already there, 1 cannot be exported`);
    expect(dry.stderr).toContain(`  ${fx.files['cat2.jpg']}: not found`);
  });

  it("--dry-run's help says what it lists", async () => {
    const r = await runCli(['export', '--help']);
    expect(r.stdout.replace(/\s+/g, ' ')).toMatch(
      /--dry-run .*per group.*written, already there, removed.*renamed, removed and skipped file/,
    );
  });
});
