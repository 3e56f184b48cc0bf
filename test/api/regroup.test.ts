/**
 * Regrouping after the user fixed the groups, through the service on real images (the demo's
 * 60 pictures in 6 labelled folders, the real model, SQLite): the fixes are kept, the groups
 * keep their contents and names, and the grouping gets better, not worse.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiHost } from '../../core/api/host.js';
import { createService } from '../../core/api/service.js';
import { hungarianAccuracy, hungarianMatch } from '../../core/icon/metrics.js';
import { openStore, type Store } from '../../core/store/index.js';
import { demoImages } from '../helpers/cli.js';
import { serviceCaller } from '../helpers/service.js';
import { suiteTempDir } from '../helpers/tempDir.js';

const work = suiteTempDir('cs-regroup-');
let store: Store;
let host: ApiHost;
let libraryId = 0;

const { call, finished } = serviceCaller(() => host);

/** The current grouping: image id -> group id, and each image's class (its folder). */
function grouping(): { ids: number[]; classOf: number[]; groupOf: number[]; pinned: Set<number> } {
  const folder = new Map(store.images.listUsable(libraryId).map((r) => [r.id, r.relPath.split(/[\\/]/)[0]!]));
  const classes = [...new Set(folder.values())].sort();
  const rows = store.groups.listAssignments(store.runs.activeRunId()!).filter((a) => a.groupId !== null);
  return {
    ids: rows.map((a) => a.imageId),
    classOf: rows.map((a) => classes.indexOf(folder.get(a.imageId)!)),
    groupOf: rows.map((a) => a.groupId!),
    pinned: new Set(rows.filter((a) => a.pinned).map((a) => a.imageId)),
  };
}

beforeAll(async () => {
  store = openStore(path.join(work, 'c.db'));
  host = createService({ store });
  libraryId = (await call('addLibrary', { path: demoImages })).id;
}, 60_000);

afterAll(async () => {
  await host.close();
  store.close();
});

describe('regrouping after the user fixed the groups', () => {
  it('keeps the fixes, the groups and their names, and groups the rest better', async () => {
    await call('startClustering', { groups: 6, seed: 0 });
    const first = await finished();
    expect(first.status, first.error).toBe('done');
    const before = grouping();
    expect(before.ids).toHaveLength(60);
    // Name each group after the class it holds most of, as a user would.
    const classToGroup = new Map([...hungarianMatch(before.classOf, before.groupOf)].map(([g, c]) => [c, g]));
    const classNames = ['class 0', 'class 1', 'class 2', 'class 3', 'class 4', 'class 5'];
    for (const [c, g] of classToGroup) await call('renameGroup', { groupId: g, name: classNames[c] });
    // The user's fixes: up to 3 misplaced images per class moved to their class's group.
    const moved = new Map<number, number>();
    for (const [c, g] of classToGroup) {
      const misplaced = before.ids.filter((_, i) => before.classOf[i] === c && before.groupOf[i] !== g).slice(0, 3);
      if (misplaced.length) await call('moveImages', { imageIds: misplaced, to: { groupId: g } });
      for (const id of misplaced) moved.set(id, g);
    }
    expect(moved.size).toBeGreaterThanOrEqual(6);
    const edited = grouping();
    const accEdited = hungarianAccuracy(edited.classOf, edited.groupOf);

    // "Regroup everything" with as many groups as there are.
    await call('recluster', { groups: 6 });
    const again = await finished();
    expect(again.status, again.error).toBe('done');
    const after = grouping();
    const accAfter = hungarianAccuracy(after.classOf, after.groupOf);
    console.log(
      `regroup after ${moved.size} fixes: ACC ${hungarianAccuracy(before.classOf, before.groupOf).toFixed(3)} -> edited ${accEdited.toFixed(3)} -> regrouped ${accAfter.toFixed(3)}`,
    );
    // It keeps what the fixes gained, to within one image of 60 (on average over seeds it adds to
    // them: 71.7 -> 77.2 on these images, docs/clustering.md), far above the first grouping.
    expect(accAfter).toBeGreaterThanOrEqual(accEdited - 1.5 / 60);
    expect(accAfter).toBeGreaterThan(hungarianAccuracy(before.classOf, before.groupOf) + 0.15);

    // every fix is still there, pinned, in the group of the name the user gave
    const nameOf = new Map(store.groups.list().map((g) => [g.id, g.name]));
    const oldName = new Map([...classToGroup].map(([c, g]) => [g, classNames[c]!]));
    for (const [id, g] of moved) {
      const i = after.ids.indexOf(id);
      expect(after.pinned.has(id)).toBe(true);
      expect(nameOf.get(after.groupOf[i]!)).toBe(oldName.get(g));
    }
    // and each named group still holds most of its class: the names stayed with the contents
    const newClassToGroup = new Map([...hungarianMatch(after.classOf, after.groupOf)].map(([g, c]) => [c, g]));
    for (const [c] of classToGroup) expect(nameOf.get(newClassToGroup.get(c)!)).toBe(classNames[c]);
  }, 240_000);

  it('into fewer groups than hold pinned images: one group for each, with its name and pins', async () => {
    const before = grouping();
    const nameOf = new Map(store.groups.list().map((g) => [g.id, g.name]));
    const pinnedName = new Map([...before.pinned].map((id) => [id, nameOf.get(before.groupOf[before.ids.indexOf(id)]!)!]));
    const pinnedNames = new Set(pinnedName.values());
    expect(pinnedNames.size).toBeGreaterThan(2);
    await call('recluster', { groups: 2 });
    const job = await finished();
    expect(job.status, job.error).toBe('done');
    expect(job.summary).toMatchObject({ k: pinnedNames.size, kRequested: 2, pinnedGroups: pinnedNames.size });
    expect(new Set(job.summary!.names!.kept)).toEqual(pinnedNames);
    const after = grouping();
    const nameNow = new Map(store.groups.list().map((g) => [g.id, g.name]));
    for (const [id, name] of pinnedName) expect(nameNow.get(after.groupOf[after.ids.indexOf(id)]!)).toBe(name);
  }, 240_000);

  it('"Group N" names stay with their images when regrouping into as many groups', async () => {
    await call('recluster', { groups: 9 });
    expect((await finished()).status).toBe('done');
    const nameOfImage = (): Map<number, string> => {
      const nameOf = new Map(store.groups.list().map((g) => [g.id, g.name]));
      const g = grouping();
      return new Map(g.ids.map((id, i) => [id, nameOf.get(g.groupOf[i]!)!]));
    };
    const colorByName = () => new Map(store.groups.list().map((g) => [g.name, g.color]));
    const before = nameOfImage();
    const colorsBefore = colorByName();
    const unnamed = new Set([...before.values()].filter((n) => /^Group \d+$/.test(n)));
    expect(unnamed.size).toBeGreaterThan(0);
    await call('recluster', { groups: 9 });
    expect((await finished()).status).toBe('done');
    const after = nameOfImage();
    // and its colour on the map (the groups are new rows with new ids)
    expect(colorByName()).toEqual(colorsBefore);
    // each "Group N" now holds mostly the images that were in "Group N"
    for (const name of unnamed) {
      const now = [...after].filter(([, n]) => n === name).map(([id]) => id);
      expect(now.length).toBeGreaterThan(0);
      expect(now.filter((id) => before.get(id) === name).length * 2).toBeGreaterThanOrEqual(now.length);
    }
  }, 240_000);
});
