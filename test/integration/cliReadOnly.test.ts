/**
 * `constellate export` only reads: it must work on a database it may not write, such as one on
 * a mounted backup or in a read-only folder (SQLite cannot create the WAL's -shm file there, and
 * opening it for writing failed with "read-only ... Nothing was changed"). Permissions mean
 * nothing to root, so as root (CI) the CLI runs as the unprivileged user nobody (setpriv).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, constants, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildExportDb } from '../fixtures/exportDb.js';
import { repoRoot } from '../helpers/cli.js';

const isRoot = process.getuid?.() === 0;
const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
const NOBODY = 65534;

/** Whether every folder above the checkout lets others through (a clone in a 0700 temp folder does not). */
function othersCanEnter(dir: string): boolean {
  for (let d = dir; ; d = path.dirname(d)) {
    if ((statSync(d).mode & constants.S_IXOTH) === 0) return false;
    if (path.dirname(d) === d) return true;
  }
}

/**
 * Where nobody can run the CLI from: the checkout itself, or else a world-readable copy of what
 * the CLI needs (bin/, dist/, package.json, node_modules/), made once and removed at the end.
 */
let cliCopy: string | null = null;
function cliRoot(): string {
  if (!isRoot || othersCanEnter(repoRoot)) return repoRoot;
  if (cliCopy) return cliCopy;
  const copy = mkdtempSync(path.join(tmpdir(), 'constellate-cli-'));
  for (const part of ['bin', 'dist', 'package.json', 'node_modules'])
    cpSync(path.join(repoRoot, part), path.join(copy, part), { recursive: true });
  chmodSync(copy, 0o755);
  cliCopy = copy;
  return copy;
}
afterAll(() => {
  if (cliCopy) rmSync(cliCopy, { recursive: true, force: true });
});

/** The CLI as a user without write access to the fixture (nobody when we are root). */
function runCliUnprivileged(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const cli = [path.join(cliRoot(), 'bin', 'constellate.js'), ...args];
  const [cmd, argv] = isRoot
    ? [setpriv!, [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, ...cli]]
    : [process.execPath, cli];
  const r = spawnSync(cmd, argv, { cwd: tmpdir(), encoding: 'utf8', env: { ...process.env, HOME: tmpdir() }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const lockedDirs: string[] = [];
afterEach(() => {
  for (const d of lockedDirs.splice(0)) chmodSync(d, 0o755);
});

describe.skipIf(isRoot && !setpriv)('constellate export from a read-only database', () => {
  it('exports from a database in a read-only folder, leaving the database exactly as it was', async () => {
    const fx = buildExportDb();
    // A clean close leaves no -wal/-shm; a read-only folder then keeps SQLite from making them.
    expect(readdirSync(path.dirname(fx.db)).filter((f) => f.includes('-shm'))).toEqual([]);
    const before = sha(fx.db);
    const out = path.join(fx.dir, 'out');
    mkdirSync(out, { mode: 0o777 });
    chmodSync(out, 0o777);
    chmodSync(fx.db, 0o444);
    chmodSync(path.dirname(fx.db), 0o555);
    lockedDirs.push(path.dirname(fx.db));
    chmodSync(fx.dir, 0o755); // mkdtemp's 0700 would hide everything from nobody

    const copies = () => readdirSync(tmpdir()).filter((f) => f.startsWith('constellate-read-')).length;
    const copiesBefore = copies();
    const csv = path.join(out, 'groups.csv');
    const r = runCliUnprivileged(['export', '--db', fx.db, '--format', 'csv', '--out', csv]);
    expect(r.stderr).not.toMatch(/read-only/);
    expect(r.code, r.stderr).toBe(0);
    const rows = readFileSync(csv, 'utf8').trim().split('\n');
    expect(rows).toHaveLength(6);
    expect(
      rows
        .slice(1)
        .map((l) => l.split(',')[2])
        .sort(),
    ).toEqual(['Cats', 'Cats', 'Cats', 'Dogs', 'Dogs']);
    expect(sha(fx.db)).toBe(before);
    expect(readdirSync(path.dirname(fx.db))).toEqual([path.basename(fx.db)]);
    expect(copies()).toBe(copiesBefore); // the private copy is gone
  });

  it('a database whose file alone is read-only is read in place', async () => {
    const fx = buildExportDb();
    chmodSync(fx.db, 0o444);
    chmodSync(fx.dir, 0o777);
    chmodSync(path.dirname(fx.db), 0o777);
    const before = sha(fx.db);
    const out = path.join(fx.dir, 'o.json');
    const r = runCliUnprivileged(['export', '--db', fx.db, '--format', 'json', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toHaveLength(5);
    expect(sha(fx.db)).toBe(before);
  });

  it('a read-only database file in a writable folder: cluster and serve refuse it before writing anything, leaving nothing beside it', async () => {
    const fx = buildExportDb();
    chmodSync(fx.db, 0o444);
    chmodSync(path.dirname(fx.db), 0o777);
    chmodSync(fx.dir, 0o755);
    chmodSync(fx.library, 0o755);
    const before = sha(fx.db);
    const around = () => readdirSync(path.dirname(fx.db)).sort();
    const was = around();
    for (const args of [
      ['cluster', fx.library, '--db', fx.db],
      ['serve', '--db', fx.db, '--port', '0'],
    ]) {
      const r = runCliUnprivileged(args);
      expect(r.code, args[0]).toBe(1);
      expect(r.stderr.trim().split('\n').at(-1)).toBe(
        `constellate: The library database at ${fx.db} is read-only (or its folder is), so changes cannot be saved. Nothing was changed. Check the file permissions or choose another location.`,
      );
      expect(sha(fx.db)).toBe(before);
      expect(around()).toEqual(was); // no lock, no -wal or -shm, no thumbnails left beside it
    }
  });

  it('a command that writes still refuses a read-only database with a clear message', async () => {
    const fx = buildExportDb();
    chmodSync(fx.db, 0o444);
    chmodSync(path.dirname(fx.db), 0o555);
    lockedDirs.push(path.dirname(fx.db));
    chmodSync(fx.dir, 0o755);
    const r = runCliUnprivileged(['serve', '--db', fx.db, '--port', '0']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/read-only|permission denied/i);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
