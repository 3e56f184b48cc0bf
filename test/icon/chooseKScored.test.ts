/**
 * Choosing K on every row reduces and searches them all: it hands those rows and their graph,
 * in the source's order, to the fit (ChooseKResult.scored), which then groups as it would have
 * by reducing and searching them itself.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { chooseK } from '../../core/icon/choosek.js';
import { DebiasedInfoNCEClustering } from '../../core/icon/clustering.js';
import { knnGraph } from '../../core/icon/knn.js';
import { applyPreprocessSource, arraySource } from '../../core/icon/preprocess.js';
import { Rng } from '../../core/icon/rng.js';
import { blobs, setupTf } from './helpers.js';

beforeAll(setupTf);

/** 4 blobs of 150 rows in 300 dims (so the PCA to 256 runs), rows in a shuffled order. */
function shuffledBlobs(): { x: Float32Array; n: number; d: number } {
  const d = 300;
  const { x, n } = blobs(4, 150, d, 3, 7);
  const perm = new Rng(3).permutation(n);
  const out = new Float32Array(n * d);
  perm.forEach((from, to) => out.set(x.subarray(from * d, from * d + d), to * d));
  return { x: out, n, d };
}

describe("chooseK's rows and graph", () => {
  it('are the rows through its PCA and their exact kNN graph, in the source order', () => {
    const { x, n, d } = shuffledBlobs();
    const r = chooseK(x, n, d, undefined, { seed: 2 });
    expect(r.k).toBe(4);
    const own = applyPreprocessSource(r.preprocessor, arraySource(x, n, d));
    const scored = r.scored!;
    expect(scored.reduced.length).toBe(own.length);
    let differing = 0;
    for (let i = 0; i < own.length; i++) if (scored.reduced[i] !== own[i]) differing++;
    expect(differing).toBe(0);
    const dd = r.preprocessor.dOut;
    const searched = knnGraph(own, n, dd, scored.graph.k, { normalize: true });
    expect(scored.graph.n).toBe(n);
    expect(scored.graph.k).toBe(10);
    expect(Array.from(scored.graph.indices)).toEqual(Array.from(searched.indices));
    expect(Array.from(scored.graph.sims)).toEqual(Array.from(searched.sims));
  });

  it('are not given where K is chosen on a sample of the rows', () => {
    const { x, n, d } = shuffledBlobs();
    expect(chooseK(x, n, d, undefined, { seed: 2, sample: n - 1 }).scored).toBeUndefined();
  });

  it('give the fit the groups it makes when it reduces and searches the rows itself', () => {
    const { x, n, d } = shuffledBlobs();
    const r = chooseK(x, n, d, undefined, { seed: 2 });
    const fit = (given: boolean) =>
      new DebiasedInfoNCEClustering({ nClusters: r.k, seed: 2, epochs: 3 }).fitSource(arraySource(x, n, d), {
        preprocessor: r.preprocessor,
        ...(given ? { reduced: r.scored!.reduced, graph: r.scored!.graph } : {}),
      });
    const taken = fit(true);
    const own = fit(false);
    expect(taken.timings.knnMs).toBe(0);
    expect(own.timings.knnMs).toBeGreaterThan(0);
    expect(Array.from(taken.labels)).toEqual(Array.from(own.labels));
    expect(Array.from(taken.confidence)).toEqual(Array.from(own.confidence));
    expect(Array.from(taken.graph.indices.subarray(0, 100))).toEqual(Array.from(own.graph.indices.subarray(0, 100)));
  });
});
