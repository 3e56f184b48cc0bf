/**
 * The engine's streaming paths give what the in-memory ones give: choosing K, the map and the
 * copies found over rows read a block at a time (a source that hands out copies and counts what
 * it reads), training with the views read per step instead of held, extending a kNN graph to
 * rows added since, and the head's plain-JS inference against tfjs's predict.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { chooseK, chooseKSource } from '../../core/icon/choosek.js';
import { DebiasedInfoNCEClustering } from '../../core/icon/clustering.js';
import { headPredict, headProba, preprocessRows } from '../../core/icon/headInference.js';
import { identicalRows, identicalRowsSource } from '../../core/icon/identicalRows.js';
import { extendKnnGraph, knnGraph } from '../../core/icon/knn.js';
import { arraySource, type RowSource } from '../../core/icon/preprocess.js';
import { tsneMapDetailed, tsneMapSource } from '../../core/icon/tsne.js';
import { blobs, setupTf } from './helpers.js';

beforeAll(setupTf);

/** A source that copies what it hands out and counts the rows read. */
function counted(x: Float32Array, n: number, d: number): RowSource & { reads: number } {
  const inner = arraySource(x, n, d);
  const src = {
    n,
    d,
    reads: 0,
    read: (start: number, count: number) => ((src.reads += Math.min(count, n - start)), Float32Array.from(inner.read(start, count))),
    readRows: (rows: ArrayLike<number>) => ((src.reads += rows.length), inner.readRows(rows)),
  };
  return src;
}

describe('streaming paths', () => {
  it('identicalRowsSource finds the copies identicalRows finds, across blocks', () => {
    const d = 6;
    const { x, n } = blobs(3, 3000, d, 4);
    // copies: row 5000 of row 3, row 8999 of row 7000 (another block), rows 10..12 of row 9
    for (const [to, from] of [
      [5000, 3],
      [8999, 7000],
      [10, 9],
      [11, 9],
      [12, 9],
    ] as const)
      x.copyWithin(to * d, from * d, (from + 1) * d);
    const a = identicalRows(x, n, d);
    const b = identicalRowsSource(counted(x, n, d));
    expect(Array.from(b.unique)).toEqual(Array.from(a.unique));
    expect(Array.from(b.of)).toEqual(Array.from(a.of));
    expect(b.unique.length).toBe(n - 5);
  });

  it('chooseKSource reads each row once plus the samples, and chooses as chooseK does', () => {
    const d = 24;
    const { x, n } = blobs(4, 150, d, 5);
    const src = counted(x, n, d);
    const streamed = chooseKSource(src, [2, 3, 4, 5, 6], { seed: 1, sample: 300 });
    const inMemory = chooseK(x, n, d, [2, 3, 4, 5, 6], { seed: 1, sample: 300 });
    expect(streamed.k).toBe(inMemory.k);
    expect(streamed.k).toBe(4);
    streamed.scores.forEach((s, i) => expect(s.score).toBeCloseTo(inMemory.scores[i]!.score, 4));
    // one pass, then the 300 scored rows (no PCA: its 256 dims are more than these 24)
    expect(src.reads).toBe(n + 300);
  });

  it('tsneMapSource maps rows read a block at a time as tsneMapDetailed maps the matrix', () => {
    const d = 20;
    const { x, n } = blobs(3, 200, d, 4);
    const a = tsneMapDetailed(x, n, d, { seed: 3, iterations: 50 });
    const b = tsneMapSource(counted(x, n, d), { seed: 3, iterations: 50 });
    expect(b.method).toBe(a.method);
    for (let i = 0; i < a.points.length; i++) expect(b.points[i]!).toBeCloseTo(a.points[i]!, 3);
  });

  it('training with the views read per step gives the labels of training with them in memory', () => {
    const d = 16;
    const V = 3;
    const { x, labels, n } = blobs(4, 80, d, 4, 7);
    const views = new Float32Array(n * V * d);
    for (let i = 0; i < n; i++)
      for (let v = 0; v < V; v++)
        for (let j = 0; j < d; j++) views[(i * V + v) * d + j] = x[i * d + j]! + 0.3 * Math.sin(i * 31 + v * 7 + j);
    const opts = { nClusters: 4, seed: 5, epochs: 4, minStepsPerEpoch: 5, preprocess: { pcaDims: 8 } };
    const held = new DebiasedInfoNCEClustering(opts).fitSource(arraySource(x, n, d), { views: arraySource(views, n * V, d) });
    const viewSrc = counted(views, n * V, d);
    const onDemand = new DebiasedInfoNCEClustering(opts).fitSource(arraySource(x, n, d), { views: viewSrc, viewsInMemoryUpTo: 0 });
    expect(Array.from(onDemand.labels)).toEqual(Array.from(held.labels));
    // only the anchors' views of each step were read: steps x anchors, not n x V
    expect(viewSrc.reads).toBe(onDemand.timings.steps * Math.min(n, 512));
    expect(new Set(labels).size).toBe(4);
  });

  it('extendKnnGraph: rows added and removed give the exact graph of the new rows', () => {
    const d = 12;
    const k = 5;
    const { x } = blobs(4, 100, d, 3, 11); // 400 rows
    const old = x.subarray(0, 380 * d);
    const prev = knnGraph(old, 380, d, k + 2);
    // the new set: old rows 0..379 without 10..29, then rows 380..399 (added)
    const keep = Array.from({ length: 380 }, (_, i) => i).filter((i) => i < 10 || i >= 30);
    const rows = [...keep, ...Array.from({ length: 20 }, (_, i) => 380 + i)];
    const xs = new Float32Array(rows.length * d);
    rows.forEach((r, i) => xs.set(x.subarray(r * d, (r + 1) * d), i * d));
    const prevRow = Int32Array.from(rows, (r) => (r < 380 ? r : -1));
    const ext = extendKnnGraph(prev, prevRow, xs, rows.length, d, k)!;
    const exact = knnGraph(xs, rows.length, d, k);
    let same = 0;
    for (let i = 0; i < rows.length; i++) {
      const want = new Set(exact.indices.subarray(i * k, (i + 1) * k));
      for (const j of ext.indices.subarray(i * k, (i + 1) * k)) if (want.has(j)) same++;
    }
    expect(same / (rows.length * k)).toBeGreaterThan(0.999);
    expect(extendKnnGraph(prev, prevRow, xs, rows.length, d, k + 3)).toBeNull(); // fewer neighbours than asked
  });

  it('the plain-JS head gives the tfjs predict: same clusters, same confidences', () => {
    const d = 30;
    const { x, n } = blobs(3, 60, d, 4, 2);
    const model = new DebiasedInfoNCEClustering({ nClusters: 3, seed: 1, epochs: 3, preprocess: { pcaDims: 10 } });
    model.fit(x, n, d);
    const head = model.exportHead();
    const tf = model.predict(x, n);
    const js = headPredict(head, x, n);
    expect(Array.from(js.labels)).toEqual(Array.from(tf.labels));
    for (let i = 0; i < n; i++) expect(js.confidence[i]!).toBeCloseTo(tf.confidence[i]!, 4);
    const pTf = model.predictProba(x, n);
    const pJs = headProba(head, preprocessRows(head.preprocessor, x, n), n);
    for (let i = 0; i < pTf.length; i++) expect(pJs[i]!).toBeCloseTo(pTf[i]!, 4);
  });
});
