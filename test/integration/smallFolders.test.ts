/**
 * Folders too small or too uniform to split (the real CLI, model, sharp and SQLite): a single
 * image, two images, and copies of one image each end as one group, nothing Unsorted. Two
 * images used to fail the run ("chooseK: no valid candidate"); twelve copies of one image were
 * split in two and every one sent to Unsorted.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { demoImages, runCli } from '../helpers/cli.js';

const work = mkdtempSync(path.join(tmpdir(), 'cs-small-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function folder(name: string, files: Array<[string, string]>): string {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const [src, dst] of files) cpSync(src, path.join(dir, dst));
  return dir;
}
const first = (cls: string) => path.join(demoImages, cls, readdirSync(path.join(demoImages, cls)).sort()[0]!);

describe('small folders', () => {
  const cases: Array<[string, Array<[string, string]>]> = [
    ['one image', [[first('vehicles'), 'a.png']]],
    ['two different images', [[first('vehicles'), 'a.png'], [first('food_fruit'), 'b.png']]],
    ['twelve copies of one image', Array.from({ length: 12 }, (_, i): [string, string] => [first('space_planets'), `copy-${i}.png`])],
  ];
  for (const [name, files] of cases) {
    it(`${name}: one group with every image`, async () => {
      const dir = folder(name.replace(/ /g, '-'), files);
      const r = await runCli(['cluster', dir, '--db', path.join(work, `${path.basename(dir)}.db`), '--json']);
      expect(r.code, r.stderr).toBe(0);
      const s = JSON.parse(r.stdout) as { images: number; k: number; groups: Array<{ size: number }>; unsorted: number };
      expect(s).toMatchObject({ images: files.length, k: 1, unsorted: 0 });
      expect(s.groups.map((g) => g.size)).toEqual([files.length]);
    }, 120_000);
  }
});
