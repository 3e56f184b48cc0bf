/**
 * One file, one image: the walkthrough's cases through the real CLI on real images, real
 * symlinks and SQLite. Folders overlapping a library are refused; links into another library
 * (or back up around one) and exports into a library are not indexed a second time.
 */
import Database from 'better-sqlite3';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPORT_MARKER } from '../../core/library/exportMarker.js';
import { demoImages, runCli } from '../helpers/cli.js';

const work = realpathSync(mkdtempSync(path.join(tmpdir(), 'cs-overlap-')));
const data = path.join(work, 'data');
const libX = path.join(data, 'libX');
const libY = path.join(data, 'libY');
const db = path.join(work, 'app', 'constellate.db');

function copyImages(cls: string, n: number, to: string): string[] {
  mkdirSync(to, { recursive: true });
  const files = readdirSync(path.join(demoImages, cls)).sort().slice(0, n);
  for (const f of files) cpSync(path.join(demoImages, cls, f), path.join(to, f));
  return files;
}

const libraries = (): string[] => {
  const sql = new Database(db, { readonly: true });
  try {
    return (sql.prepare('SELECT root_path AS p FROM libraries ORDER BY id').all() as Array<{ p: string }>).map((r) => r.p);
  } finally {
    sql.close();
  }
};

describe('overlapping folders through the CLI', () => {
  let first: Awaited<ReturnType<typeof runCli>>;
  beforeAll(async () => {
    // libX: 6 images (3 in animals/birds), and an export of Constellate holding copies of 3.
    const birds = copyImages('animals_birds', 3, path.join(libX, 'animals', 'birds'));
    copyImages('animals_fish', 3, libX);
    mkdirSync(path.join(libX, 'exported', 'Group 1'), { recursive: true });
    writeFileSync(path.join(libX, 'exported', EXPORT_MARKER), '{}');
    for (const f of birds) cpSync(path.join(libX, 'animals', 'birds', f), path.join(libX, 'exported', 'Group 1', f));
    // libY: 4 images, a file link and a folder link into libX, and loops.
    copyImages('space_planets', 2, libY);
    copyImages('vehicles', 2, libY);
    writeFileSync(path.join(libY, 'readme.txt'), 'not an image');
    symlinkSync(`../libX/animals/birds/${birds[0]!}`, path.join(libY, 'filelink.png'));
    symlinkSync('../libX', path.join(libY, 'xs'));
    symlinkSync('.', path.join(libY, 'loop'));
    symlinkSync('..', path.join(libY, 'loopup'));
    first = await runCli(['cluster', libX, libY, '--db', db, '--groups', '2', '--seed', '1']);
  }, 300_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('indexes each of the 10 distinct images once, and each skip once', () => {
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('Images clustered: 10');
    // readme.txt once (not again through loopup), the two links into libX, the two loops
    expect(first.stdout).toMatch(/^Skipped: 5 \(/m);
    expect(first.stdout).toMatch(/duplicate 2/);
    expect(first.stdout).toMatch(/symlink-loop 2/);
    expect(first.stdout).toMatch(/not-an-image 1/);
  });

  it('refuses a folder inside a library, or holding libraries, naming them, and adds nothing', async () => {
    const birds = path.join(libX, 'animals', 'birds');
    const inside = await runCli(['cluster', birds, '--db', db]);
    expect(inside.code).toBe(1);
    expect(inside.stderr.trim().split('\n').at(-1)).toBe(
      `constellate: ${birds} is already part of the library ${libX}: its images are indexed there.`,
    );
    const around = await runCli(['cluster', data, '--db', db]);
    expect(around.code).toBe(1);
    expect(around.stderr).toContain(
      `constellate: ${data} contains the libraries ${libX}, ${libY}: remove them first, or add the folders separately.`,
    );
    // All or none: a new folder named with a refused one is not added either.
    const fresh = path.join(work, 'fresh');
    copyImages('food_fruit', 1, fresh);
    const mixed = await runCli(['cluster', fresh, birds, '--db', db]);
    expect(mixed.code).toBe(1);
    expect(libraries()).toEqual([libX, libY]);
  }, 120_000);
});
