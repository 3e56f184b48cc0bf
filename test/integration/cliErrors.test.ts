/** The CLI refuses clearly, and changes nothing, when the database cannot be used. */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireInstanceLock, openStore } from '../../core/store/index.js';
import { damageTable } from '../fixtures/damage.js';
import { demoImages, runCli } from '../helpers/cli.js';
import { testTempDir } from '../helpers/tempDir.js';

function folderWithTwoImages(dir: string): string {
  const photos = path.join(dir, 'photos');
  mkdirSync(photos, { recursive: true });
  for (const f of readdirSync(path.join(demoImages, 'space_planets')).slice(0, 2))
    cpSync(path.join(demoImages, 'space_planets', f), path.join(photos, f));
  return photos;
}

describe('CLI errors', () => {
  it('refuses a database written by a newer version and leaves it byte-identical', async () => {
    const dir = testTempDir('cs-newer-');
    const db = path.join(dir, 'c.db');
    openStore(db).close();
    const raw = new Database(db);
    raw.pragma('journal_mode = DELETE');
    raw.pragma('user_version = 99');
    raw.close();
    const hash = () => createHash('sha256').update(readFileSync(db)).digest('hex');
    const before = hash();
    const r = await runCli(['cluster', folderWithTwoImages(dir), '--db', db]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/newer/i);
    expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(hash()).toBe(before);
  });

  it('refuses a damaged database before writing anything, says what to do, and names no backup that does not exist; export refuses it too (issue 22, case 4)', async () => {
    const dir = testTempDir('cs-damaged-');
    const db = path.join(dir, 'c.db');
    openStore(db).close();
    damageTable(db, 'embeddings');
    const hash = () => createHash('sha256').update(readFileSync(db)).digest('hex');
    const before = hash();
    const photos = folderWithTwoImages(path.join(dir, 'in'));
    const expected =
      `constellate: The library database at ${db} is damaged or is not a Constellate database. Nothing was written to it. ` +
      'Constellate made no backup of it. Move it aside (rename it), and Constellate starts a new database: your photos are not affected, but the groups, names and edits kept in it are lost.';
    const r = await runCli(['cluster', photos, '--db', db]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').at(-1)).toBe(expected);
    expect(hash()).toBe(before);
    expect(readdirSync(dir).sort()).toEqual(['c.db', 'in']);
    const e = await runCli(['export', '--db', db, '--format', 'csv']);
    expect([e.code, e.stdout]).toEqual([1, '']);
    expect(e.stderr.trim()).toBe(expected);
    expect(hash()).toBe(before);
  });

  it('refuses a second instance on the same database with a clear message that fits any holder', async () => {
    const dir = testTempDir('cs-lock-');
    const db = path.join(dir, 'c.db');
    const lock = acquireInstanceLock(db);
    try {
      const r = await runCli(['cluster', folderWithTwoImages(dir), '--db', db]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/already|in use|another/i);
      expect(r.stderr).toContain(String(process.pid));
      // the holder may be the app, `constellate serve` or a `constellate cluster` run, not only a window
      expect(r.stderr).not.toMatch(/window/);
      expect(r.stderr).toMatch(/constellate serve.*constellate cluster/);
    } finally {
      lock.release();
    }
  });

  it('export refuses a missing database and creates nothing', async () => {
    const dir = testTempDir('cs-nodb-');
    const db = path.join(dir, 'sub', 'nonexist.db');
    const r = await runCli(['export', '--db', db, '--format', 'csv']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toMatch(new RegExp(`^constellate: no database at ${db}\\b[^\\n]*$`));
    expect(readdirSync(dir)).toEqual([]); // neither the file nor its folder
  });

  it('export --format folders refuses an --out that is a file, before writing anything', async () => {
    const dir = testTempDir('cs-outfile-');
    const db = path.join(dir, 'c.db');
    openStore(db).close();
    const out = path.join(dir, 'a-file');
    writeFileSync(out, 'keep me');
    const r = await runCli(['export', '--db', db, '--format', 'folders', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`constellate: ${out} is a file, not a folder (--out)`);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
  });

  it('eval on a missing folder says "not a folder", like cluster', async () => {
    const r = await runCli(['eval', '/nonexistent-folder-xyz', '--db', path.join(testTempDir('cs-eval-'), 'e.db')]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('constellate: not a folder: /nonexistent-folder-xyz');
  });

  it('eval refuses a folder without 2 labelled subfolders before embedding anything', async () => {
    const dir = testTempDir('cs-eval-');
    const photos = folderWithTwoImages(dir); // two images in the root: no labels
    cpSync(path.join(demoImages, 'vehicles'), path.join(photos, 'vehicles'), { recursive: true }); // one label only
    const db = path.join(dir, 'eval.db');
    const r = await runCli(['eval', photos, '--db', db]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^constellate: \S+ needs at least 2 subfolders with images/);
    expect(r.stderr).not.toMatch(/embed/);
    expect(existsSync(db)).toBe(false);
  });

  it('a --db under a file (no folder can hold it) says where files cannot be made, not a raw ENOENT of the lock', async () => {
    const dir = testTempDir('cs-nodir-');
    writeFileSync(path.join(dir, 'afile'), 'x');
    const r = await runCli(['serve', '--db', path.join(dir, 'afile', 'x.db'), '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/ENOENT|ENOTDIR|\.tmp|\n\s+at /);
    expect(r.stderr).toMatch(/afile/);
  });

  it('cluster on a folder without images says so (a finished run: exit 0)', async () => {
    const dir = testTempDir('cs-empty-');
    const empty = path.join(dir, 'empty');
    mkdirSync(empty);
    const r = await runCli(['cluster', empty, '--db', path.join(dir, 'c.db')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`No images found in ${empty}`);
  });

  it('serve on a port in use says so and what to do', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const db = path.join(testTempDir('cs-port-'), 'c.db');
      const r = await runCli(['serve', '--port', String(port), '--db', db, '--demo'], { timeoutMs: 60_000 });
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n').at(-1)).toBe(
        `constellate: port ${port} is in use: choose another with --port N, or omit --port to use a free one`,
      );
      // --demo did not add its library (nor start clustering) before the port was refused
      const store = openStore(db);
      try {
        expect(store.libraries.list()).toEqual([]);
      } finally {
        store.close();
      }
    } finally {
      blocker.close();
    }
  });

  it('serve --help shows one default for --port', async () => {
    const r = await runCli(['serve', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--port <N>\s+port \(default: a free one\)\n/);
  });

  it('rejects bad arguments with usage help', async () => {
    const r = await runCli(['cluster', '/nonexistent-folder-xyz']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not a folder/);
    const bad = await runCli(['cluster', '.', '--groups', '1']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/integer from 2/);
  });
});
