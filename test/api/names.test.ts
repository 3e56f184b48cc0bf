/**
 * Group names through the service (SQLite, the contract's schemas as both transports apply
 * them): one line, never "Unsorted", never the name of another group whatever the case.
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiHost } from '../../core/api/host.js';
import { createService } from '../../core/api/service.js';
import { openStore, type Store } from '../../core/store/index.js';
import { serviceCaller } from '../helpers/service.js';
import { seedImages, seedRun, tempDir } from '../store/helpers.js';

let cleanup: () => void;
let store: Store;
let host: ApiHost;
let groupIds: number[];
let imageIds: number[];
const { call } = serviceCaller(() => host);

beforeEach(() => {
  let dir: string;
  ({ dir, cleanup } = tempDir());
  store = openStore(path.join(dir, 'c.db'));
  ({ imageIds } = seedImages(store, path.join(dir, 'photos'), 12));
  const run = seedRun(store, imageIds, 3, 0, { names: true });
  groupIds = run.groupIds;
  store.edits.recluster(run.runId);
  host = createService({ store });
});
afterEach(async () => {
  await host.close();
  store.close();
  cleanup();
});

const nameOf = (id: number) => store.groups.get(id)!.name;

describe('group names', () => {
  it('are one line: newlines, tabs and runs of spaces become one space', async () => {
    await call('renameGroup', { groupId: groupIds[0], name: ' line1\n\tline2   end ' });
    expect(nameOf(groupIds[0]!)).toBe('line1 line2 end');
  });

  it('refuse an empty or whitespace-only name and "Unsorted"', async () => {
    await expect(call('renameGroup', { groupId: groupIds[0], name: ' \n ' })).rejects.toThrow(/^A group needs a name$/);
    await expect(call('renameGroup', { groupId: groupIds[0], name: 'unsorted' })).rejects.toThrow(
      /^“Unsorted” is the name of the images in no group: choose another$/,
    );
    await expect(call('moveImages', { imageIds: [imageIds[0]], to: { newGroupName: 'Unsorted' } })).rejects.toThrow(/images in no group/);
    expect(nameOf(groupIds[0]!)).toBe('Group 1');
  });

  it('are never shared by two groups, whatever the case; a group may change the case of its own', async () => {
    await call('renameGroup', { groupId: groupIds[0], name: 'Birds' });
    await expect(call('renameGroup', { groupId: groupIds[1], name: 'birds' })).rejects.toThrow(/already called “Birds”.*Merge/);
    await expect(call('moveImages', { imageIds: [imageIds[1]], to: { newGroupName: 'BIRDS' } })).rejects.toThrow(/already called “Birds”/);
    await expect(call('mergeGroups', { groupIds: [groupIds[1], groupIds[2]], name: 'Birds' })).rejects.toThrow(/already called/);
    await call('renameGroup', { groupId: groupIds[0], name: 'birds' });
    expect(nameOf(groupIds[0]!)).toBe('birds');
    // merging a group into one keeps its name free for the merged group
    await call('mergeGroups', { groupIds: [groupIds[1], groupIds[0]], name: 'Birds' });
    expect(nameOf(groupIds[1]!)).toBe('Birds');
  });
});
