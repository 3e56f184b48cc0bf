/**
 * The core service (the API contract's implementation) on a real database built from real
 * images: every UI action through `dispatch`, as both transports call it.
 */
import { cpSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent } from '../../core/shared/contract.js';
import { dispatch, type ApiHost } from '../../core/api/host.js';
import { createService } from '../../core/api/service.js';
import { openStore, type Store } from '../../core/store/index.js';
import { demoImages } from '../helpers/cli.js';
import { serviceCaller } from '../helpers/service.js';
import { suiteTempDir } from '../helpers/tempDir.js';

const work = suiteTempDir('cs-service-');
const photos = path.join(work, 'photos');
let store: Store;
let host: ApiHost;
const events: ApiEvent[] = [];

const { call, finished: waitForJob } = serviceCaller(() => host);

beforeAll(async () => {
  // 4 classes x 6 images.
  for (const cls of ['animals_fish', 'food_fruit', 'space_planets', 'vehicles']) {
    const files = readdirSync(path.join(demoImages, cls)).sort().slice(0, 6);
    for (const f of files) cpSync(path.join(demoImages, cls, f), path.join(photos, cls, f));
  }
  store = openStore(path.join(work, 'db', 'c.db'));
  host = createService({ store });
  host.onEvent((e) => events.push(e));
}, 60_000);

afterAll(async () => {
  await host.close();
  store.close();
});

describe('core service', () => {
  it('rejects invalid input with a typed error before any handler runs', async () => {
    await expect(dispatch(host, 'renameGroup', { groupId: -1, name: '' })).rejects.toMatchObject({ code: 'invalid-input' });
    await expect(dispatch(host, 'noSuchMethod', {})).rejects.toMatchObject({ code: 'not-found' });
    await expect(call('addLibrary', { path: path.join(work, 'nope') })).rejects.toMatchObject({ code: 'invalid-input' });
  });

  it('adds a library, scans and clusters it with progress events', async () => {
    const lib = await call('addLibrary', { path: photos });
    expect(lib.path).toBe(photos);
    const job = await call('startClustering', { groups: 4, seed: 0 });
    expect(job.status).toBe('running');
    await expect(call('startClustering', {})).rejects.toMatchObject({ code: 'busy' });
    const done = await waitForJob();
    expect(done.status, done.error).toBe('done');
    expect(done.summary?.images).toBe(24);
    expect(done.summary?.k).toBe(4);
    const phases = new Set(
      events.filter((e) => e.type === 'job').flatMap((e) => (e.type === 'job' ? e.job.phases.map((p) => p.name) : [])),
    );
    for (const p of ['scan', 'embed', 'train', 'write']) expect(phases).toContain(p);
    const libs = await call('listLibraries');
    expect(libs[0]).toMatchObject({ imageCount: 24, skippedCount: 0 });
    const status = await call('getStatus');
    expect(status.hasRun).toBe(true);
    expect(status.backend).toEqual({
      choice: 'onnx',
      device: expect.stringMatching(/^CPU \(ONNX Runtime, \d+ threads?\); views in 8 bits$/),
    });
    // A later launch, before it runs a job, names the run's backend and its device (it said
    // "wasm · wasm": the run stores the backend's name only)
    const later = createService({ store });
    try {
      const relaunched = (await dispatch(later, 'getStatus', {})) as typeof status;
      expect(relaunched.backend).toEqual({ choice: status.backend!.choice, device: status.backend!.device });
    } finally {
      await later.close();
    }
  });

  it('refuses a folder inside a library as a conflict naming the library; a link to it is that library', async () => {
    const inside = path.join(photos, 'vehicles');
    await expect(call('addLibrary', { path: inside })).rejects.toMatchObject({
      code: 'conflict',
      message: `${inside} is already part of the library ${photos}: its images are indexed there.`,
    });
    const link = path.join(work, 'photos-link');
    symlinkSync(photos, link);
    const libs = await call('listLibraries');
    expect((await call('addLibrary', { path: link })).id).toBe(libs[0]!.id);
    expect(await call('listLibraries')).toHaveLength(1);
  });

  it('lists groups with counts and typical images, and pages a group by offset', async () => {
    await call('setUnsortedThreshold', { threshold: 0 });
    const { groups, unsortedCount } = await call('listGroups', { sort: 'size' });
    expect(groups.reduce((a, g) => a + g.count, 0) + unsortedCount).toBe(24);
    expect(groups[0]!.typicalImageIds.length).toBeGreaterThan(0);
    const g = groups[0]!;
    const all = await call('listGroupImages', { groupId: g.id, sort: 'confidence-asc', offset: 0, limit: 100 });
    expect(all.total).toBe(g.count);
    const conf = all.items.map((i) => i.confidence!);
    expect([...conf].sort((a, b) => a - b)).toEqual(conf);
    const page2 = await call('listGroupImages', { groupId: g.id, sort: 'confidence-asc', offset: 1, limit: 2 });
    expect(page2.items.map((i) => i.id)).toEqual(all.items.slice(1, 3).map((i) => i.id));
  });

  it('moves low-confidence images to Unsorted with the threshold', async () => {
    await call('setUnsortedThreshold', { threshold: 1 });
    const { groups, unsortedCount } = await call('listGroups', {});
    expect(groups).toHaveLength(0);
    expect(unsortedCount).toBe(24);
    const uns = await call('listGroupImages', { groupId: 'unsorted', offset: 0, limit: 10 });
    expect(uns.total).toBe(24);
    // the review queue says so too, with the group pinning would keep each image in
    const queue = (await call('reviewQueue', { limit: 50 })).items;
    expect(queue.length).toBeGreaterThan(0);
    for (const item of queue) {
      expect(item.groupId).toBeNull();
      expect(item.assignedGroupId).not.toBeNull();
      expect((await call('getImage', { id: item.id })).groupId).toBeNull();
    }
    await call('setUnsortedThreshold', { threshold: 0 });
    for (const item of (await call('reviewQueue', { limit: 50 })).items) expect(item.groupId).toBe(item.assignedGroupId);
  });

  it('shows an image with metadata, neighbours and group suggestions; serves only registered files', async () => {
    const { groups } = await call('listGroups', {});
    const id = groups[0]!.typicalImageIds[0]!;
    const img = await call('getImage', { id });
    expect(img.path.startsWith(photos)).toBe(true);
    expect(img.size).toBe(statSync(img.path).size);
    expect(img.neighbours.length).toBeGreaterThan(3);
    expect(img.suggestions[0]!.groupId).toBe(img.groupId);
    expect(img.suggestions[0]!.probability).toBeGreaterThan(0);
    expect(host.mediaFile('image', id)).toBe(img.path);
    const thumb = host.mediaFile('thumbnail', id)!;
    expect(readFileSync(thumb).subarray(8, 12).toString()).toBe('WEBP');
    expect(host.mediaFile('image', 999_999)).toBeNull();
    await expect(call('getImage', { id: 999_999 })).rejects.toMatchObject({ code: 'not-found' });
  });

  it('renames, merges, splits, moves, removes and pins; undo and redo restore each', async () => {
    let { groups } = await call('listGroups', {});
    const [a, b] = groups;
    let h = await call('renameGroup', { groupId: a!.id, name: 'Planets' });
    expect(h.canUndo).toBe(true);
    expect((await call('listGroups', {})).groups.find((g) => g.id === a!.id)!.name).toBe('Planets');
    h = await call('undo');
    expect(h.canRedo).toBe(true);
    expect((await call('listGroups', {})).groups.find((g) => g.id === a!.id)!.name).not.toBe('Planets');
    await call('redo');
    expect((await call('listGroups', {})).groups.find((g) => g.id === a!.id)!.name).toBe('Planets');

    const merged = await call('mergeGroups', { groupIds: [a!.id, b!.id] });
    const afterMerge = await call('listGroups', {});
    expect(afterMerge.groups.find((g) => g.id === merged.groupId)!.count).toBe(a!.count + b!.count);
    await call('undo');
    expect((await call('listGroups', {})).groups).toHaveLength(groups.length);

    const split = await call('splitGroup', { groupId: a!.id, parts: 2 });
    expect(split.groupIds).toHaveLength(2);
    const afterSplit = await call('listGroups', {});
    const parts = split.groupIds.map((id) => afterSplit.groups.find((g) => g.id === id)?.count ?? 0);
    expect(parts.reduce((x, y) => x + y, 0)).toBe(a!.count);
    await call('undo');

    ({ groups } = await call('listGroups', {}));
    const moveIds = (await call('listGroupImages', { groupId: groups[0]!.id, limit: 2 })).items.map((i) => i.id);
    const moved = await call('moveImages', { imageIds: moveIds, to: { newGroupName: 'Hand-picked' } });
    const hand = (await call('listGroups', {})).groups.find((g) => g.id === moved.groupId)!;
    expect(hand).toMatchObject({ name: 'Hand-picked', count: 2 });
    await call('removeFromGroup', { imageIds: [moveIds[0]!] });
    expect((await call('listGroups', {})).unsortedCount).toBe(1);
    await call('undo');
    await call('undo');
    expect((await call('listGroups', {})).groups.find((g) => g.name === 'Hand-picked')).toBeUndefined();

    await call('pinImages', { imageIds: moveIds, pinned: true });
    const detail = await call('getImage', { id: moveIds[0]! });
    expect(detail.pinned).toBe(true);
  });

  it('re-clusters with another K keeping pins and user names, undoably', async () => {
    const { groups } = await call('listGroups', {});
    const pinnedImage = (await call('reviewQueue', { limit: 50 })).items.length; // queue excludes pinned
    expect(pinnedImage).toBeLessThan(24);
    const named = groups[0]!;
    await call('renameGroup', { groupId: named.id, name: 'Keep me' });
    const pinned = (await call('listGroupImages', { groupId: named.id, limit: 1 })).items[0]!;
    await call('pinImages', { imageIds: [pinned.id] });
    const job = await call('recluster', { groups: 3 });
    expect(job.kind).toBe('recluster');
    const done = await waitForJob();
    expect(done.status, done.error).toBe('done');
    expect(done.summary?.k).toBe(3);
    // Same images as the previous run: its kNN graph was reused, not searched again.
    expect(store.runs.activeRun()!.timings.knnMs).toBe(0);
    // ...and so was its 2-D map (it does not depend on K): no map was computed.
    expect(store.runs.activeRun()!.timings.mapMs).toBeUndefined();
    const after = await call('getImage', { id: pinned.id });
    expect(after.pinned).toBe(true);
    expect(after.groupName).toBe('Keep me');
    const map = await call('getMap');
    expect(map.imageIds).toHaveLength(24);
    expect(map.xy).toHaveLength(48);
    expect(map.xy.every(Number.isFinite)).toBe(true);
  });

  it('exports with a dry-run preview, then for real', async () => {
    const out = path.join(work, 'export');
    const plan = await call('exportGroups', { format: 'folders', out, mode: 'symlink', dryRun: true });
    expect(plan.total).toBe(24);
    expect(plan.written).toBe(0);
    const real = await call('exportGroups', { format: 'folders', out, mode: 'symlink' });
    expect(real.written).toBe(24);
    expect(readdirSync(out).length).toBe(real.groups.length + 1); // and the marker that keeps it out of scans
  });
});
