/**
 * A clustering run as the app runs it, over a real SQLite database of embedded images (synthetic
 * embeddings and views, no pictures): the training worker reads the embeddings itself, so the
 * main thread reads none; a regroup with another K reuses the PCA, the kNN graph and the map; a
 * few images added later extend the graph and the map instead of recomputing them; a `cluster`
 * run with nothing new trains nothing.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runClusterJob } from '../../core/jobs/grouping/clusterJob.js';
import { copyFileSync, existsSync, statSync, truncateSync } from 'node:fs';
import { reducedCacheFile } from '../../core/jobs/grouping/reducedCache.js';
import { decodeRunModel } from '../../core/jobs/grouping/runModel.js';
import { BACKBONE } from '../../core/embed/backboneInfo.js';
import { chooseKSource } from '../../core/icon/choosek.js';
import { hungarianAccuracy } from '../../core/icon/metrics.js';
import { openStore } from '../../core/store/index.js';
import { addEmbeddedLibrary } from '../fixtures/embeddedLibrary.js';
import { setupTf } from '../icon/helpers.js';
import { tempDir } from '../store/helpers.js';

const tmp = tempDir('cs-stream-');
const store = openStore(`${tmp.dir}/c.db`);
afterAll(() => {
  store.close();
  tmp.cleanup();
});
// 300 dims: more than the trainer's 256 PCA dims, so there is a PCA to keep
const shape = { clusters: 4, views: 2, dim: 300, seed: 3 };
const lib = addEmbeddedLibrary(store, `${tmp.dir}/photos`, { n: 400, ...shape });
store.db.setState('views_per_image', '2');

/** Image id -> group of the active run. */
function groupsNow(): Map<number, number | null> {
  return new Map(store.groups.listAssignments(store.runs.activeRunId()!).map((a) => [a.imageId, a.groupId]));
}
const truthOf = new Map(lib.imageIds.map((id, i) => [id, lib.clusters[i]!]));
function acc(): number {
  const g = groupsNow();
  const ids = [...g.keys()];
  return hungarianAccuracy(
    Int32Array.from(ids, (id) => truthOf.get(id)!),
    Int32Array.from(ids, (id) => g.get(id) ?? -1),
  );
}

describe('a clustering run streamed from the database', () => {
  it('trains in the worker from its own connection: the main thread reads no embeddings', async () => {
    const reads = [vi.spyOn(store.embeddings, 'loadAll'), vi.spyOn(store.embeddings, 'rowSource'), vi.spyOn(store.embeddings, 'iterate')];
    const s = await runClusterJob({ store, index: false, k: 4, seed: 1 });
    for (const r of reads) expect(r).not.toHaveBeenCalled();
    for (const r of reads) r.mockRestore();
    expect(s.images).toBe(400);
    expect(s.groups.length).toBe(4);
    expect(acc()).toBeGreaterThan(0.95);
    const run = store.runs.get(s.runId)!;
    expect(run.params.views).toBe(true);
    expect(run.params.reused).toMatchObject({ rows: 'none', graph: 'new', map: 'new' });
    expect(decodeRunModel(store.runs.loadModel(s.runId)!).map).toHaveLength(800);
  });

  it('a regroup with another K keeps the PCA, the graph and the map', async () => {
    const before = decodeRunModel(store.runs.loadModel(store.runs.activeRunId()!)!);
    const s = await runClusterJob({ store, index: false, k: 3, seed: 1 });
    expect(s.groups.length).toBe(3);
    expect(store.runs.get(s.runId)!.params.reused).toMatchObject({ rows: 'same', pca: true, graph: 'same', map: 'same' });
    const after = decodeRunModel(store.runs.loadModel(s.runId)!);
    expect(Array.from(after.map!)).toEqual(Array.from(before.map!));
    expect(Array.from(after.head.preprocessor.pca!.components.subarray(0, 50))).toEqual(
      Array.from(before.head.preprocessor.pca!.components.subarray(0, 50)),
    );
  });

  it('images added since: the graph is extended and the new images are put on the map beside their neighbours', async () => {
    const before = decodeRunModel(store.runs.loadModel(store.runs.activeRunId()!)!);
    const added = addEmbeddedLibrary(store, `${tmp.dir}/photos`, { n: 20, first: 400, libraryId: lib.libraryId, ...shape });
    added.imageIds.forEach((id, i) => truthOf.set(id, added.clusters[i]!));
    const s = await runClusterJob({ store, index: false, k: 4, seed: 1 });
    expect(s.images).toBe(420);
    expect(store.runs.get(s.runId)!.params.reused).toMatchObject({ rows: 'extended', pca: true, graph: 'extended', map: 'extended' });
    expect(acc()).toBeGreaterThan(0.95);
    const after = decodeRunModel(store.runs.loadModel(s.runId)!);
    const pointOf = (a: typeof after, id: number) => {
      const i = a.imageIds.indexOf(id);
      return [a.map![2 * i]!, a.map![2 * i + 1]!];
    };
    // the images mapped before keep their points
    for (const id of before.imageIds.slice(0, 50)) expect(pointOf(after, id)).toEqual(pointOf(before, id));
    // a new image sits near images of its own cluster: its nearest old point is of its cluster
    let near = 0;
    for (const id of added.imageIds) {
      const [x, y] = pointOf(after, id);
      let best = -1,
        bestD = Infinity;
      for (const old of before.imageIds) {
        const [ox, oy] = pointOf(before, old);
        const dd = (ox! - x!) ** 2 + (oy! - y!) ** 2;
        if (dd < bestD) [best, bestD] = [old, dd];
      }
      if (truthOf.get(best) === truthOf.get(id)) near++;
    }
    expect(near).toBeGreaterThanOrEqual(19);
  });

  it('a cluster run with nothing new keeps the grouping and trains nothing; asking for another K does train', async () => {
    const active = store.runs.activeRunId()!;
    const runs = store.db.raw.prepare('SELECT count(*) AS n FROM runs').get() as { n: number };
    const s = await runClusterJob({ store, libraryIds: [], k: null, seed: 1 });
    expect(s.unchanged).toBe(true);
    expect(s.runId).toBe(active);
    expect(s.images).toBe(420);
    expect((store.db.raw.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n).toBe(runs.n);
    const t = await runClusterJob({ store, libraryIds: [], k: 5, seed: 1 });
    expect(t.unchanged).toBeUndefined();
    expect(t.runId).not.toBe(active);
  });
});

describe('helper threads', () => {
  it('choosing K and the map beside the fit give what one thread gives', async () => {
    const run = async (name: string, helpersFrom: number) => {
      const s = openStore(`${tmp.dir}/${name}.db`);
      try {
        addEmbeddedLibrary(s, `${tmp.dir}/${name}`, { n: 300, clusters: 3, views: 2, dim: 300, seed: 5 });
        s.db.setState('views_per_image', '2');
        const summary = await runClusterJob({ store: s, libraryIds: [], k: null, seed: 2, helpersFrom });
        const model = decodeRunModel(s.runs.loadModel(summary.runId)!);
        const groupOf = new Map(s.groups.listAssignments(summary.runId).map((a) => [a.imageId, a.groupId ?? -1]));
        return {
          k: summary.k,
          timings: s.runs.get(summary.runId)!.timings,
          ids: Array.from(model.imageIds),
          labels: Int32Array.from(model.imageIds, (id) => groupOf.get(id)!),
          map: model.map!,
        };
      } finally {
        s.close();
      }
    };
    const beside = await run('helpers', 0);
    const alone = await run('alone', Infinity);
    expect(beside.timings.chooseKWaitMs).toBeDefined();
    expect(alone.timings.chooseKWaitMs).toBeUndefined();
    expect(beside.k).toBe(alone.k);
    expect(beside.ids).toEqual(alone.ids);
    expect(hungarianAccuracy(alone.labels, beside.labels)).toBe(1);
    for (let i = 0; i < alone.map.length; i++) expect(beside.map[i]!).toBeCloseTo(alone.map[i]!, 3);
  });
});

describe("choosing K in the fit's own thread", () => {
  it("fits the PCA once: the head's is the one K was chosen on", async () => {
    await setupTf();
    const s = openStore(`${tmp.dir}/once.db`);
    try {
      const lib = addEmbeddedLibrary(s, `${tmp.dir}/once`, { n: 240, clusters: 3, views: 2, dim: 300, seed: 8 });
      s.db.setState('views_per_image', '2');
      const summary = await runClusterJob({ store: s, libraryIds: [], k: null, seed: 4, helpersFrom: Infinity });
      const head = decodeRunModel(s.runs.loadModel(summary.runId)!).head.preprocessor.pca!;
      // K's choice puts the rows in an order of their own before fitting, so any order gives its PCA
      const chosen = chooseKSource(s.embeddings.rowSource(BACKBONE.id, lib.imageIds), undefined, { seed: 4 }).preprocessor.pca!;
      const differing = (a: Float32Array, b: Float32Array) =>
        a.reduce((c, v, i) => c + (v === b[i] ? 0 : 1), a.length === b.length ? 0 : 1);
      expect(differing(head.components, chosen.components)).toBe(0);
      expect(differing(head.mean, chosen.mean)).toBe(0);
    } finally {
      s.close();
    }
  });

  it('searches the kNN graph once: the fit takes the rows and graph K was chosen on', async () => {
    await setupTf();
    const s = openStore(`${tmp.dir}/searchedOnce.db`);
    try {
      addEmbeddedLibrary(s, `${tmp.dir}/searchedOnce`, { n: 240, clusters: 3, views: 2, dim: 300, seed: 9 });
      s.db.setState('views_per_image', '2');
      // the default thresholds: at this size K is chosen in the fit's thread
      const auto = await runClusterJob({ store: s, libraryIds: [], k: null, seed: 4, refreshMap: true });
      expect(s.runs.get(auto.runId)!.timings.knnMs).toBe(0);
      // another K on the same images, the first run's graph reused: no search either
      const again = await runClusterJob({ store: s, libraryIds: [], k: 5, seed: 4, refreshMap: true });
      expect(s.runs.get(again.runId)!.timings.knnMs).toBe(0);
    } finally {
      s.close();
    }
    const asked = openStore(`${tmp.dir}/searchedAsked.db`);
    try {
      addEmbeddedLibrary(asked, `${tmp.dir}/searchedAsked`, { n: 240, clusters: 3, views: 2, dim: 300, seed: 9 });
      asked.db.setState('views_per_image', '2');
      // K given: nothing chose it, so the fit searches its own graph
      const given = await runClusterJob({ store: asked, libraryIds: [], k: 3, seed: 4 });
      expect(asked.runs.get(given.runId)!.timings.knnMs).toBeGreaterThan(0);
    } finally {
      asked.close();
    }
  });
});

describe('the reduced rows a run keeps', () => {
  it('in a library whose views are read per step, it keeps the rows alone, and a regroup takes them', async () => {
    const viewsInMemoryUpTo = 1; // as a library above 131,072 images: no view held
    const s = openStore(`${tmp.dir}/rowsonly.db`);
    addEmbeddedLibrary(s, `${tmp.dir}/rowsonly`, { n: 300, clusters: 3, views: 2, dim: 300, seed: 7 });
    s.db.setState('views_per_image', '2');
    const file = reducedCacheFile(s.db.file)!;
    try {
      const first = await runClusterJob({ store: s, index: false, k: 4, seed: 1, viewsInMemoryUpTo });
      expect(s.runs.get(first.runId)!.params.views).toBe(true);
      // the header, then 300 rows of 256 float32s: no views
      expect(statSync(file).size).toBe(4096 + 300 * 256 * 4);
      s.db.checkpoint();
      copyFileSync(s.db.file, `${tmp.dir}/rowsonly-again.db`);
      const regroup = async (st: typeof s) => {
        const summary = await runClusterJob({ store: st, index: false, k: 3, seed: 1, viewsInMemoryUpTo });
        const groupOf = new Map(st.groups.listAssignments(summary.runId).map((x) => [x.imageId, x.groupId ?? -1]));
        const ids = [...groupOf.keys()].sort((x, y) => x - y);
        return { timings: st.runs.get(summary.runId)!.timings, labels: Int32Array.from(ids, (id) => groupOf.get(id)!) };
      };
      const kept = await regroup(s);
      expect(kept.timings.reducedCached).toBe(1);
      const b = openStore(`${tmp.dir}/rowsonly-again.db`);
      try {
        const again = await regroup(b);
        expect(again.timings.reducedCached).toBe(0);
        expect(hungarianAccuracy(again.labels, kept.labels)).toBe(1);
      } finally {
        b.close();
      }
    } finally {
      s.close();
    }
  });

  it('a regroup takes the rows and views the run before reduced, and groups as it would reducing them again', async () => {
    const make = (name: string) => {
      const s = openStore(`${tmp.dir}/${name}.db`);
      addEmbeddedLibrary(s, `${tmp.dir}/${name}`, { n: 300, clusters: 3, views: 2, dim: 300, seed: 7 });
      s.db.setState('views_per_image', '2');
      return s;
    };
    const a = make('kept');
    const file = reducedCacheFile(a.db.file)!;
    try {
      await runClusterJob({ store: a, index: false, k: 4, seed: 1 });
      expect(existsSync(file)).toBe(true);
      a.db.checkpoint();
      copyFileSync(a.db.file, `${tmp.dir}/again.db`); // the same database, without the kept rows
      const regroup = async (s: typeof a) => {
        const summary = await runClusterJob({ store: s, index: false, k: 3, seed: 1 });
        const groupOf = new Map(s.groups.listAssignments(summary.runId).map((x) => [x.imageId, x.groupId ?? -1]));
        return {
          timings: s.runs.get(summary.runId)!.timings,
          labels: Int32Array.from(
            [...groupOf.keys()].sort((x, y) => x - y),
            (id) => groupOf.get(id)!,
          ),
        };
      };
      const kept = await regroup(a);
      const b = openStore(`${tmp.dir}/again.db`);
      try {
        const again = await regroup(b);
        expect(kept.timings.reducedCached).toBe(1);
        expect(again.timings.reducedCached).toBe(0);
        expect(Number(again.timings.preprocessMs)).toBeGreaterThan(Number(kept.timings.preprocessMs));
        expect(hungarianAccuracy(again.labels, kept.labels)).toBe(1);
        // a file cut short (a full disk, say) is no cache: reduced again, and kept again whole
        truncateSync(file, 5000);
        const cut = await runClusterJob({ store: a, index: false, k: 2, seed: 1 });
        expect(a.runs.get(cut.runId)!.timings.reducedCached).toBe(0);
        const whole = await runClusterJob({ store: a, index: false, k: 3, seed: 1 });
        expect(a.runs.get(whole.runId)!.timings.reducedCached).toBe(1);
      } finally {
        b.close();
      }
    } finally {
      a.close();
    }
  });
});
