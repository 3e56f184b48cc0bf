/**
 * Adding a folder (or Place new images) once there are groups, through the service on real images
 * (demo pictures, the real model, SQLite): the new images go into the user's groups, and the
 * groups, their names and the user's merge stay as they were. Before, it regrouped from
 * scratch with a freshly chosen K and scattered a merged group over three others.
 */
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiHost } from '../../core/api/host.js';
import { createService } from '../../core/api/service.js';
import { openStore, type Store } from '../../core/store/index.js';
import { demoImages } from '../helpers/cli.js';
import { serviceCaller } from '../helpers/service.js';
import { suiteTempDir } from '../helpers/tempDir.js';

const work = suiteTempDir('cs-place-');
const first = path.join(work, 'first');
const later = path.join(work, 'later');
let store: Store;
let host: ApiHost;

const { call, finished } = serviceCaller(() => host);

/** Each class's first 8 images in `first`, its other 2 in `later` (added afterwards). */
function splitDemo(): void {
  for (const cls of readdirSync(demoImages, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)) {
    const files = readdirSync(path.join(demoImages, cls)).sort();
    for (const [dir, part] of [
      [first, files.slice(0, 8)],
      [later, files.slice(8)],
    ] as const) {
      mkdirSync(path.join(dir, cls), { recursive: true });
      for (const f of part) cpSync(path.join(demoImages, cls, f), path.join(dir, cls, `${cls}-${f}`));
    }
  }
}

const classOf = (relPath: string) => relPath.split(/[\\/]/)[0]!;

/** image id -> [class, group] of the current grouping (null: no assignment). */
function grouping(): Map<number, { cls: string; group: number | null }> {
  const run = store.runs.activeRunId()!;
  const assigned = new Map(store.groups.listAssignments(run).map((a) => [a.imageId, a.groupId]));
  const out = new Map<number, { cls: string; group: number | null }>();
  for (const lib of store.libraries.list()) {
    for (const r of store.images.listUsable(lib.id)) out.set(r.id, { cls: classOf(r.relPath), group: assigned.get(r.id) ?? null });
  }
  return out;
}

beforeAll(async () => {
  splitDemo();
  store = openStore(path.join(work, 'c.db'));
  host = createService({ store });
}, 60_000);

afterAll(async () => {
  await host.close();
  store.close();
});

describe('adding a folder once there are groups', () => {
  it('places its images in the current groups, keeping the groups, their names and a merge', async () => {
    await call('addLibrary', { path: first });
    await call('startClustering', { groups: 6, seed: 0 });
    expect((await finished()).status).toBe('done');
    const before = grouping();
    expect(before.size).toBe(48);

    // The user merges every group holding birds into the fish's ("Animals") and names another group.
    const majority = (cls: string, not: ReadonlySet<number> = new Set()) => {
      const n = new Map<number, number>();
      for (const v of before.values())
        if (v.cls === cls && v.group !== null && !not.has(v.group)) n.set(v.group, (n.get(v.group) ?? 0) + 1);
      return [...n].sort((a, b) => b[1] - a[1])[0]![0];
    };
    const fish = majority('animals_fish');
    const birdGroups = new Set(
      [...before.values()].filter((v) => v.cls === 'animals_birds' && v.group !== null && v.group !== fish).map((v) => v.group!),
    );
    expect(birdGroups.size).toBeGreaterThan(0);
    await call('mergeGroups', { groupIds: [fish, ...birdGroups], name: 'Animals' });
    const planets = majority('space_planets', new Set([fish, ...birdGroups]));
    await call('renameGroup', { groupId: planets, name: 'Planets' });
    const groupsBefore = store.groups
      .list()
      .map((g) => `${g.id}:${g.name}`)
      .sort();
    const edited = grouping();
    const runsBefore = store.runs.list().length;

    await call('addLibrary', { path: later });
    await call('placeNewImages', {});
    const job = await finished();
    expect(job.status, job.error).toBe('done');
    expect(job.kind).toBe('place-new');
    expect(job.placed).toMatchObject({ placed: 12, moved: 0, missing: 0 });

    // No new run; the same groups with the same names; every earlier image where it was.
    expect(store.runs.list().length).toBe(runsBefore);
    expect(
      store.groups
        .list()
        .map((g) => `${g.id}:${g.name}`)
        .sort(),
    ).toEqual(groupsBefore);
    const after = grouping();
    for (const [id, v] of edited) expect(after.get(id)).toEqual(v);

    // The 12 new images all have a group: the birds the head puts in a cluster of the birds go
    // to "Animals", where that cluster's images went (its group is gone: they were left
    // Unsorted), and most new images join their class's group.
    const added = [...after].filter(([id]) => !edited.has(id)).map(([, v]) => v);
    expect(added).toHaveLength(12);
    expect(added.filter((v) => v.group === null)).toEqual([]);
    expect(added.filter((x) => x.cls === 'animals_birds').map((x) => x.group)).toEqual([fish, fish]);
    const agree = added.filter((v) => {
      const n = new Map<number, number>();
      for (const e of edited.values()) if (e.cls === v.cls && e.group !== null) n.set(e.group, (n.get(e.group) ?? 0) + 1);
      return v.group === [...n].sort((a, b) => b[1] - a[1])[0]![0];
    }).length;
    expect(agree).toBeGreaterThanOrEqual(9);
    expect((await call('listGroups', {})).ungroupedCount).toBe(0);
    // and on the map, each beside an image of its own group (the map was made before they came)
    const map = await call('getMap', {});
    expect(map.imageIds).toHaveLength(60);
    const positions = (m: typeof map) => new Map(m.imageIds.map((id, i) => [id, [m.xy[2 * i]!, m.xy[2 * i + 1]!] as const]));
    const nearestOld = (at: ReturnType<typeof positions>, id: number) => {
      const [x, y] = at.get(id)!;
      const d = (o: number) => Math.hypot(at.get(o)![0] - x, at.get(o)![1] - y);
      return [...edited.keys()].reduce((b, o) => (d(o) < d(b) ? o : b));
    };
    const at = positions(map);
    const newOnes = [...after].filter(([i]) => !edited.has(i));
    expect(newOnes.filter(([id, v]) => after.get(nearestOld(at, id))!.group === v.group).length).toBeGreaterThanOrEqual(10);
    // moved by the user into another group, it is placed again beside that group's images
    const [movedId] = newOnes.find(([, v]) => v.group !== planets)!;
    await call('moveImages', { imageIds: [movedId], to: { groupId: planets } });
    expect(after.get(nearestOld(positions(await call('getMap', {})), movedId))!.group).toBe(planets);

    // Placing new images again finds nothing new; one that finds a file gone lists it as missing.
    await call('placeNewImages', {});
    expect((await finished()).placed).toMatchObject({ placed: 0, missing: 0 });
    const gone = path.join(later, 'vehicles', readdirSync(path.join(later, 'vehicles')).sort()[0]!);
    rmSync(gone);
    await call('placeNewImages', {});
    expect((await finished()).placed).toMatchObject({ placed: 0, missing: 1 });
    expect((await call('listMissing', {})).items.map((m) => m.path)).toEqual([gone]);
  }, 240_000);

  it('is refused before there are groups', async () => {
    const fresh = openStore(path.join(work, 'fresh.db'));
    const other = createService({ store: fresh });
    try {
      await expect(serviceCaller(() => other).call('placeNewImages', {})).rejects.toThrow(/a grouping/);
    } finally {
      await other.close();
      fresh.close();
    }
  });
});
