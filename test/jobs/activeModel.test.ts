/**
 * The UI's per-image model (suggestions, neighbours) over a real SQLite store and the real
 * tfjs backend. Its own file: tfjs starts uninitialised, as in the app's main process.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { BACKBONE } from '../../core/embed/backboneInfo.js';
import { ActiveModel } from '../../core/jobs/grouping/activeModel.js';
import { encodeRunModel } from '../../core/jobs/grouping/runModel.js';
import { openStore } from '../../core/store/index.js';
import { setActiveRunId } from '../../core/store/runs.js';
import { hashOf, seedImages, seedRun, tempDir, vec } from '../store/helpers.js';

const DIM = 8;
const K = 3;
const tmp = tempDir('cs-active-');
const store = openStore(`${tmp.dir}/db/c.db`);
afterAll(() => {
  store.close();
  tmp.cleanup();
});

describe('ActiveModel', () => {
  const { imageIds } = seedImages(store, `${tmp.dir}/photos`, 12, DIM);
  // the backbone's rows: the same vectors as the fixture's model 'm'
  store.embeddings.putMany(BACKBONE.id, imageIds.map((_, i) => ({ contentHash: hashOf(`img-${i}`), vector: vec(i + 1, DIM) })));
  const { runId, groupIds } = seedRun(store, imageIds, K);
  // a head that scores cluster c by feature c (identity preprocessing)
  const weights = new Float32Array(DIM * K);
  for (let c = 0; c < K; c++) weights[c * K + c] = 5;
  const enc = encodeRunModel({
    head: { preprocessor: { options: { l2normalize: false, pcaDims: null, renormalize: false, seed: 0 }, pca: null, dIn: DIM, dOut: DIM }, weights, bias: new Float32Array(K), shape: [DIM, K] },
    imageIds: Uint32Array.from(imageIds),
    map: null,
    graph: null,
  });
  store.runs.saveModel(runId, enc);
  setActiveRunId(store.db, runId);

  it('loads once for overlapping requests, on the one backend, and answers each', async () => {
    const active = new ActiveModel(store);
    const loads = vi.spyOn(store.runs, 'loadModel');
    const [s0, s1, nb] = await Promise.all([active.suggestions(imageIds[0]!), active.suggestions(imageIds[1]!), active.neighbours(imageIds[0]!, 3)]);
    expect(loads).toHaveBeenCalledTimes(1);
    expect(tf.getBackend()).not.toBe('cpu');
    // suggestions: every group, ranked by the cosine to its centroid (images j % 3, unit vectors)
    const unit = (v: Float32Array) => v.map((x) => x / Math.hypot(...v));
    const centroid = (c: number) => unit(imageIds.map((_, j) => unit(vec(j + 1, DIM))).filter((_, j) => j % K === c).reduce((a, v) => a.map((x, t) => x + v[t]!), new Float32Array(DIM)));
    const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, x, t) => s + x * b[t]!, 0);
    for (const [s, i] of [[s0, 0], [s1, 1]] as const) {
      expect(s.map((x) => x.groupId).sort()).toEqual([...groupIds].sort());
      const v = unit(vec(i + 1, DIM));
      const ranked = [0, 1, 2].sort((a, b) => cos(v, centroid(b)) - cos(v, centroid(a)));
      expect(s.map((x) => x.groupId)).toEqual(ranked.map((c) => groupIds[c]));
      expect(s.reduce((a, x) => a + x.probability, 0)).toBeCloseTo(1, 5);
    }
    expect(nb).toHaveLength(3);
    expect(nb).not.toContain(imageIds[0]);
    // loaded: no further loads until the active run changes or the model is invalidated
    await active.suggestions(imageIds[2]!);
    expect(loads).toHaveBeenCalledTimes(1);
    active.invalidate();
    await active.suggestions(imageIds[2]!);
    expect(loads).toHaveBeenCalledTimes(2);
  });

  it('ranks the parts a Split made and the groups the user made with the others (issue 21, defect 3)', async () => {
    const active = new ActiveModel(store);
    // group 0 (images 0, 3, 6, 9) split in two: 6 and 9 make a new group, which the head does not know
    const { groupIds: parts } = store.edits.splitGroup(groupIds[0]!, [
      { images: [{ imageId: imageIds[0]!, confidence: 0.9 }, { imageId: imageIds[3]!, confidence: 0.9 }] },
      { name: 'Part 2', images: [{ imageId: imageIds[6]!, confidence: 0.51 }, { imageId: imageIds[9]!, confidence: 0.51 }] },
    ]);
    const made = store.edits.moveImagesToNewGroup([imageIds[1]!], 'Mine').groupId;
    const s = await active.suggestions(imageIds[6]!);
    expect(s.map((x) => x.groupId)).toEqual(expect.arrayContaining([parts[1]!, made, ...groupIds]));
    // its own part's centroid is itself and its twin: ranked above the part it left
    expect(s.findIndex((x) => x.groupId === parts[1])).toBeLessThan(s.findIndex((x) => x.groupId === parts[0]));
    store.edits.undo();
    store.edits.undo();
  });
});
