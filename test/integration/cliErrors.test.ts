/** The CLI refuses clearly, and changes nothing, when the database cannot be used. */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireInstanceLock, openStore } from '../../core/store/index.js';
import { demoImages, runCli } from '../helpers/cli.js';

function folderWithTwoImages(dir: string): string {
  const photos = path.join(dir, 'photos');
  mkdirSync(photos, { recursive: true });
  for (const f of readdirSync(path.join(demoImages, 'space_planets')).slice(0, 2)) cpSync(path.join(demoImages, 'space_planets', f), path.join(photos, f));
  return photos;
}

describe('CLI errors', () => {
  it('refuses a database written by a newer version and leaves it byte-identical', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cs-newer-'));
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

  it('refuses a second instance on the same database with a clear message', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cs-lock-'));
    const db = path.join(dir, 'c.db');
    const lock = acquireInstanceLock(db);
    try {
      const r = await runCli(['cluster', folderWithTwoImages(dir), '--db', db]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/already|in use|another/i);
      expect(r.stderr).toContain(String(process.pid));
    } finally {
      lock.release();
    }
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
