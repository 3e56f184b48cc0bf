/**
 * Regrouping into another number of groups keeps the user's names with their images (issue 21,
 * defect 5; and 10: an emptied group is not reported as dropped): a name follows the majority of
 * its images or is offered back, and never lands on a group where its images are a minority; a
 * generated "Group N" is not handed to other images.
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../core/store/index.js';
import { seedImages, seedRun, tempDir } from './helpers.js';

let cleanup: () => void;
let store: Store;
let imageIds: number[];

beforeEach(() => {
  let dir: string;
  ({ dir, cleanup } = tempDir());
  store = openStore(path.join(dir, 'c.db'));
  ({ imageIds } = seedImages(store, path.join(dir, 'photos'), 40));
});
afterEach(() => {
  store.close();
  cleanup();
});

/** A finished run putting image j in group labels[j]; the groups named as a cluster job names them. */
function runWith(labels: number[]) {
  const k = Math.max(...labels) + 1;
  return seedRun(store, imageIds, k, 0, { names: true, groupOf: (j) => labels[j]! });
}
const nameOf = (imageIndex: number) => store.groups.get(store.groups.assignment(imageIds[imageIndex]!)!.groupId!)!.name;
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('regroup into another number of groups: names stay with their images', () => {
  // Before: windmills 0-17 (named "Windmills"), solar panels 18-27 ("Solar panels", 18 and 19
  // pinned), dams 28-33 ("Group 1", generated), pliers 34-39 ("Group 2", generated).
  function before() {
    // (clusters in the order that numbers the dams' group 1 and the pliers' 2)
    const labels = imageIds.map((_, j) => (j < 18 ? 2 : j < 28 ? 3 : j < 34 ? 0 : 1));
    const first = runWith(labels);
    store.edits.recluster(first.runId);
    expect(nameOf(30)).toBe('Group 1');
    expect(nameOf(36)).toBe('Group 2');
    store.edits.renameGroup(first.groupIds[2]!, 'Windmills');
    store.edits.renameGroup(first.groupIds[3]!, 'Solar panels');
    store.edits.pinImages([imageIds[18]!, imageIds[19]!]);
    return first;
  }

  it('Windmills keeps its windmills, the pinned Solar panels do not take them, "Group 1" does not go to the pliers', () => {
    before();
    // After: c0 = 12 windmills + the 2 pinned solar panels + 2 dams; c1 = 8 solar panels + 6
    // windmills + 2 dams; c2 = 3 pliers + 2 dams; c3 = 3 pliers. The trainer was told the
    // Solar panels pins are its cluster 0 (lineage), where they are 2 of 16.
    const where = (j: number) =>
      j < 12 ? 0 : j < 18 ? 1 : j < 20 ? 0 : j < 28 ? 1 : j < 30 ? 0 : j < 32 ? 1 : j < 34 ? 2 : j < 37 ? 2 : 3;
    const next = runWith(imageIds.map((_, j) => where(j)));
    const solar = store.groups.list().find((g) => g.name === 'Solar panels')!.id;
    const res = store.edits.recluster(next.runId, { lineage: new Map([[solar, 0]]) }).summary;

    expect(store.groups.get(next.groupIds[0]!)).toMatchObject({ name: 'Windmills', userNamed: true });
    expect(store.groups.get(next.groupIds[1]!)).toMatchObject({ name: 'Solar panels', userNamed: true });
    // the pins go with their name, to the group of the other solar panels
    expect(nameOf(18)).toBe('Solar panels');
    expect(nameOf(19)).toBe('Solar panels');
    for (const j of range(0, 11)) expect(nameOf(j)).toBe('Windmills');
    // no group is mostly dams now: "Group 1" is nobody's, and the pliers are not called it
    expect(store.groups.list().map((g) => g.name)).not.toContain('Group 1');
    expect(nameOf(34)).not.toBe('Group 1');
    expect(nameOf(37)).toBe('Group 2');
    expect(res).toMatchObject({ droppedNames: [], nameOffers: [] });
    expect(new Set(res.keptNames)).toEqual(new Set(['Windmills', 'Solar panels']));
  });

  it('a name whose images are a minority everywhere is not kept, and is offered to the group most of them went to', () => {
    before();
    // c0 = 12 windmills + all 10 solar panels + 6 dams (28 images: the windmills are 12 of 28);
    // c1 = 6 windmills + 6 pliers.
    const next = runWith(imageIds.map((_, j) => (j < 12 ? 0 : j < 18 ? 1 : j < 34 ? 0 : 1)));
    const res = store.edits.recluster(next.runId).summary;
    const names = store.groups.list().map((g) => g.name);
    expect(names).not.toContain('Windmills');
    expect(res.droppedNames).toContain('Windmills');
    const offer = res.nameOffers.find((o) => o.name === 'Windmills')!;
    expect(offer).toMatchObject({ groupId: next.groupIds[0]!, count: 12, of: 18 });
    expect(offer.groupName).toBe(store.groups.get(next.groupIds[0]!)!.name);
  });

  it('a group the user emptied before regrouping is not reported as dropped', () => {
    const first = before();
    // every windmill moved to the solar panels: "Windmills" is gone from every screen
    store.edits.moveImages(
      range(0, 17).map((j) => imageIds[j]!),
      first.groupIds[3]!,
    );
    const next = runWith(imageIds.map((_, j) => j % 3));
    const res = store.edits.recluster(next.runId).summary;
    expect(res.droppedNames).not.toContain('Windmills');
    expect(res.nameOffers.map((o) => o.name)).not.toContain('Windmills');
  });
});

describe('merge: a user-given name wins over a generated one', () => {
  it('merging "Group 3" (larger, generated) with "Tools" (the user’s) keeps "Tools"', () => {
    const first = runWith(imageIds.map((_, j) => (j < 30 ? 0 : 1)));
    store.edits.recluster(first.runId);
    store.edits.renameGroup(first.groupIds[1]!, 'Tools');
    store.edits.mergeGroups(first.groupIds[0]!, [first.groupIds[1]!]);
    expect(store.groups.get(first.groupIds[0]!)).toMatchObject({ name: 'Tools', userNamed: true });
  });
});
