/**
 * Folders too small or too uniform to split (the real CLI, model, sharp and SQLite): a single
 * image, two images, and copies of one image each end as one group, nothing Unsorted (not a
 * failed run for two images, not twelve copies of one image split in two and all sent to
 * Unsorted). Then the user splits the group (the service):
 * two images part, copies of one image cannot, and the user is told why.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../core/api/host.js';
import { createService } from '../../core/api/service.js';
import { openStore } from '../../core/store/index.js';
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
    [
      'two different images',
      [
        [first('vehicles'), 'a.png'],
        [first('food_fruit'), 'b.png'],
      ],
    ],
    ['twelve copies of one image', Array.from({ length: 12 }, (_, i): [string, string] => [first('space_planets'), `copy-${i}.png`])],
  ];
  const splits: Record<string, RegExp | number[]> = {
    'one image': /cannot be split/,
    'two different images': [1, 1],
    'twelve copies of one image': /look the same/,
  };
  for (const [name, files] of cases) {
    it(`${name}: one group with every image; splitting it`, async () => {
      const dir = folder(name.replace(/ /g, '-'), files);
      const db = path.join(work, `${path.basename(dir)}.db`);
      const r = await runCli(['cluster', dir, '--db', db, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const s = JSON.parse(r.stdout) as { images: number; k: number; groups: Array<{ id: number; size: number }>; unsorted: number };
      expect(s).toMatchObject({ images: files.length, k: 1, unsorted: 0 });
      expect(s.groups.map((g) => g.size)).toEqual([files.length]);

      const store = openStore(db);
      const host = createService({ store });
      try {
        const split = dispatch(host, 'splitGroup', { groupId: s.groups[0]!.id, parts: 2 });
        const want = splits[name]!;
        if (want instanceof RegExp) await expect(split).rejects.toThrow(want);
        else {
          await split;
          const groups = (await dispatch(host, 'listGroups', {})) as { groups: Array<{ count: number }> };
          expect(groups.groups.map((g) => g.count)).toEqual(want);
        }
      } finally {
        await host.close();
        store.close();
      }
    }, 120_000);
  }
});
