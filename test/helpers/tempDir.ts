/**
 * Temp folders the tests remove themselves, so runs leave nothing under os.tmpdir(). Removal
 * restores write permission first: a folder a test made read-only could not be emptied by a
 * non-root user.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, onTestFinished } from 'vitest';

/** Removes `dir` and everything in it; a folder already gone is fine. */
export function removeDir(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    makeWritable(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

function makeWritable(dir: string): void {
  try {
    chmodSync(dir, 0o755);
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) makeWritable(path.join(dir, e.name));
  } catch {
    // Not a folder, or gone: rmSync says what is left.
  }
}

/** A new temp folder removed when the running test ends (call it in a test or a beforeEach). */
export function testTempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  onTestFinished(() => removeDir(dir));
  return dir;
}

/**
 * The path of a temp folder for the file or describe block being collected (call it at module
 * or describe level): the folder is made in a beforeAll registered now, so before the block's
 * own hooks, and removed after them. Vitest runs neither hook for a block whose tests are all
 * skipped, so the folder is only made when something will remove it.
 */
export function suiteTempDir(prefix: string): string {
  const dir = path.join(tmpdir(), `${prefix}${randomBytes(6).toString('hex')}`);
  beforeAll(() => {
    mkdirSync(dir, { mode: 0o700 });
  });
  afterAll(() => removeDir(dir));
  return dir;
}
