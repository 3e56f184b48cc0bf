/**
 * The 'train' phase a run reports (the CLI's `Time:` line, `--json`'s secondsByPhase, the UI's
 * progress) covers the whole of training: choosing K, the PCA, the graph and the start come
 * before the first epoch and are part of it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { runClusterJob } from '../../core/jobs/grouping/clusterJob.js';
import { openStore } from '../../core/store/index.js';
import { addEmbeddedLibrary } from '../fixtures/embeddedLibrary.js';
import { tempDir } from '../store/helpers.js';

const tmp = tempDir('cs-trainprogress-');
const store = openStore(`${tmp.dir}/c.db`);
afterAll(() => {
  store.close();
  tmp.cleanup();
});
addEmbeddedLibrary(store, `${tmp.dir}/photos`, { n: 400, clusters: 4, views: 0, dim: 300, seed: 5 });

describe("a run's training time", () => {
  it('runs from the worker starting to the map, K chosen before the first epoch included', async () => {
    let trainSeen: number | null = null;
    let firstEpoch: number | null = null;
    let mapSeen: number | null = null;
    const s = await runClusterJob({
      store,
      index: false,
      k: null,
      seed: 1,
      onProgress: (phases, phase) => {
        const now = performance.now();
        if (phase === 'train' && trainSeen === null) trainSeen = now;
        if (phase === 'train' && firstEpoch === null && (phases.find((p) => p.name === 'train')?.done ?? 0) > 0) firstEpoch = now;
        if (phase === 'map' && mapSeen === null) mapSeen = now;
      },
    });
    expect(s.groups.length).toBeGreaterThan(1);
    expect(trainSeen).not.toBeNull();
    expect(firstEpoch).not.toBeNull();
    expect(mapSeen).not.toBeNull();
    // Choosing K and building the start take a while before the first epoch...
    expect(firstEpoch! - trainSeen!).toBeGreaterThan(50);
    // ...and the reported seconds hold them (rounded to 10 ms), not only the epochs.
    expect(s.secondsByPhase.train! * 1000).toBeGreaterThanOrEqual(mapSeen! - trainSeen! - 15);
    expect(s.secondsByPhase.train! * 1000).toBeLessThanOrEqual(mapSeen! - trainSeen! + 15);
  });
});
