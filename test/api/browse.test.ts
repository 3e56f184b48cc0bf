/**
 * The service's browsing queries on a seeded database (no model, no job): the order of the
 * group list, and where an image is in its group for the Image view's previous and next.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiHost } from '../../core/api/host.js';
import { createService } from '../../core/api/service.js';
import type { Store } from '../../core/store/index.js';
import { serviceCaller } from '../helpers/service.js';
import { openTemp, seedImages, seedRun, tempDir } from '../store/helpers.js';

const { dir, cleanup } = tempDir('cs-browse-');
let store: Store;
let host: ApiHost;
let groupIds: number[];

const { call } = serviceCaller(() => host);

beforeAll(async () => {
  store = openTemp(dir);
  const { imageIds } = seedImages(store, path.join(dir, 'photos'), 60);
  // 12 groups named as a run names them, "Group 1" to "Group 12"; image j in group j % 12.
  let runId: number;
  ({ runId, groupIds } = seedRun(store, imageIds, 12, 0, { names: true }));
  store.edits.recluster(runId);
  host = createService({ store });
  await call('setUnsortedThreshold', { threshold: 0 });
});

afterAll(async () => {
  await host.close();
  store.close();
  cleanup();
});

describe('listGroups', () => {
  it('sorts “Least certain first” by mean confidence, lowest first', async () => {
    const { groups } = await call('listGroups', { sort: 'confidence' });
    expect(groups).toHaveLength(12);
    const means = groups.map((g) => g.meanConfidence);
    expect(means[0]).toBeLessThan(means.at(-1)!);
    expect(means).toEqual([...means].sort((a, b) => a - b));
  });

  it('sorts by name in number order: Group 2 before Group 10', async () => {
    const names = (await call('listGroups', { sort: 'name' })).groups.map((g) => g.name);
    expect(names).toEqual(Array.from({ length: 12 }, (_, i) => `Group ${i + 1}`));
    // So does a search by name.
    expect(store.browse.groupSummaries({ threshold: -Infinity, sort: 'name', query: 'Group 1', typical: 0 }).map((g) => g.name)).toEqual([
      'Group 1',
      'Group 10',
      'Group 11',
      'Group 12',
    ]);
  });
});

describe('locateImage', () => {
  it('says where an image is in its group as listGroupImages orders it, or null when it is not there', async () => {
    const g = groupIds[3]!;
    for (const sort of ['confidence-desc', 'confidence-asc', 'name'] as const) {
      const { items, total } = await call('listGroupImages', { groupId: g, sort, limit: 100 });
      expect(total).toBe(5);
      for (const [i, item] of items.entries())
        expect(await call('locateImage', { groupId: g, imageId: item.id, sort })).toEqual({ index: i, total });
    }
    const other = (await call('listGroupImages', { groupId: groupIds[4]!, limit: 1 })).items[0]!.id;
    expect(await call('locateImage', { groupId: g, imageId: other })).toEqual({ index: null, total: 5 });
    await call('removeFromGroup', { imageIds: [other] });
    const unsorted = await call('listGroupImages', { groupId: 'unsorted', limit: 10 });
    expect(unsorted.items.map((i) => i.id)).toEqual([other]);
    expect(await call('locateImage', { groupId: 'unsorted', imageId: other })).toEqual({ index: 0, total: 1 });
    expect(await call('locateImage', { groupId: 'unsorted', imageId: unsorted.items[0]!.id + 1 })).toEqual({ index: null, total: 1 });
    await call('undo');
    await expect(call('locateImage', { groupId: 999_999, imageId: other })).rejects.toMatchObject({ code: 'not-found' });
  });
});
