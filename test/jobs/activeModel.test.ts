/**
 * The UI's per-image model (suggestions, neighbours, predictions, map placement) answered by the
 * model worker over a real SQLite store: the test's own thread (the app's main thread) never
 * loads tfjs.
 */
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
const active = new ActiveModel(store);
afterAll(async () => {
  await active.close();
  store.close();
  tmp.cleanup();
});

describe('ActiveModel', () => {
  const { imageIds } = seedImages(store, `${tmp.dir}/photos`, 12, DIM);
  // the backbone's rows: the same vectors as the fixture's model 'm'
  store.embeddings.putMany(
    BACKBONE.id,
    imageIds.map((_, i) => ({ contentHash: hashOf(`img-${i}`), vector: vec(i + 1, DIM) })),
  );
  const { runId, groupIds } = seedRun(store, imageIds, K);
  // a head that scores cluster c by feature c (identity preprocessing)
  const weights = new Float32Array(DIM * K);
  for (let c = 0; c < K; c++) weights[c * K + c] = 5;
  const enc = encodeRunModel({
    head: {
      preprocessor: { options: { l2normalize: false, pcaDims: null, renormalize: false, seed: 0 }, pca: null, dIn: DIM, dOut: DIM },
      weights,
      bias: new Float32Array(K),
      shape: [DIM, K],
    },
    // the map has the first 10 images; the last 2 came later
    imageIds: Uint32Array.from(imageIds.slice(0, 10)),
    map: Float32Array.from({ length: 20 }, (_, i) => i),
    graph: null,
  });
  store.runs.saveModel(runId, enc);
  setActiveRunId(store.db, runId);
  const best = (i: number) => {
    const v = vec(i + 1, DIM);
    return [0, 1, 2].reduce((a, c) => (v[c]! > v[a]! ? c : a), 0);
  };

  it('answers overlapping questions in the worker; the main thread loads no tfjs and reads no embeddings', async () => {
    const loadAll = vi.spyOn(store.embeddings, 'loadAll');
    const [s0, s1, nb] = await Promise.all([
      active.suggestions(imageIds[0]!),
      active.suggestions(imageIds[1]!),
      active.neighbours(imageIds[0]!, 3),
    ]);
    // suggestions: every group, ranked by the cosine to its centroid (images j % 3; the head's
    // features here are the unit embeddings)
    const uvec = (v: Float32Array) => v.map((x) => x / Math.hypot(...v));
    const centroid = (c: number) =>
      uvec(
        imageIds
          .map((_, j) => uvec(vec(j + 1, DIM)))
          .filter((_, j) => j % K === c)
          .reduce((a, v) => a.map((x, t) => x + v[t]!), new Float32Array(DIM)),
      );
    const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, t) => s + x * b[t]!, 0);
    for (const [s, i] of [
      [s0, 0],
      [s1, 1],
    ] as const) {
      expect(s.map((x) => x.groupId).sort()).toEqual([...groupIds].sort());
      const v = uvec(vec(i + 1, DIM));
      const ranked = [0, 1, 2].sort((a, b) => dot(v, centroid(b)) - dot(v, centroid(a)));
      expect(s.map((x) => x.groupId)).toEqual(ranked.map((c) => groupIds[c]));
      expect(s.reduce((a, x) => a + x.probability, 0)).toBeCloseTo(1, 5);
    }
    // neighbours: the most similar by cosine, the image itself left out
    const unit = (i: number) => {
      const v = vec(i + 1, DIM);
      const s = Math.hypot(...v);
      return Array.from(v, (x) => x / s);
    };
    const cos = (i: number) => unit(0).reduce((a, x, j) => a + x * unit(i)[j]!, 0);
    const expected = imageIds
      .map((id, i) => ({ id, s: i === 0 ? -Infinity : cos(i) }))
      .sort((a, b) => b.s - a.s)
      .slice(0, 3)
      .map((x) => x.id);
    expect(nb).toEqual(expected);
    expect(loadAll).not.toHaveBeenCalled();
    expect((globalThis as { _tfengine?: unknown })._tfengine).toBeUndefined();
  });

  it('predicts clusters for placing images, and places images the map lacks beside a mapped one', async () => {
    const p = await active.predict(runId, [imageIds[10]!, imageIds[11]!, 999999]);
    expect(p.imageIds).toEqual([imageIds[10], imageIds[11]]);
    expect(Array.from(p.labels)).toEqual([best(10), best(11)]);
    for (const c of p.confidence) expect(c).toBeGreaterThan(0);
    const at = await active.placeOnMap(runId, [imageIds[10]!, imageIds[11]!]);
    expect([...at.keys()].sort()).toEqual([imageIds[10], imageIds[11]].sort());
    for (const [x, y] of at.values()) {
      // beside one of the 10 mapped points (a small offset of its own)
      const near = Array.from({ length: 10 }, (_, i) => Math.hypot(x - 2 * i, y - (2 * i + 1)));
      expect(Math.min(...near)).toBeLessThan(0.5);
    }
  });

  it('images added after the index was built are in it: their neighbours, and they as neighbours', async () => {
    await active.neighbours(imageIds[0]!, 3); // indexed
    // a second library holding copies of images 0 and 1: new ids, the same embeddings
    const more = seedImages(store, `${tmp.dir}/more`, 2, DIM);
    const loadAll = vi.spyOn(store.embeddings, 'loadAll');
    expect(await active.neighbours(more.imageIds[0]!, 1)).toEqual([imageIds[0]]);
    expect(await active.neighbours(imageIds[1]!, 1)).toEqual([more.imageIds[1]]);
    expect(loadAll).not.toHaveBeenCalled(); // by the worker, with its own connection
  });

  it('warms: builds the index suggestions and neighbours read, before any is asked', async () => {
    const fresh = new ActiveModel(store);
    try {
      const embedded = store.embeddings.embeddedImageIds(BACKBONE.id).length;
      expect(embedded).toBeGreaterThan(0);
      expect(await fresh.warm()).toBe(embedded);
    } finally {
      await fresh.close();
    }
  });

  it('a closed worker is started again by the next question', async () => {
    const before = await active.suggestions(imageIds[2]!);
    await active.close();
    expect(await active.suggestions(imageIds[2]!)).toEqual(before);
  });

  it('ranks the parts a Split made and the groups the user made with the others (issue 21, defect 3)', async () => {
    const active = new ActiveModel(store);
    // group 0 (images 0, 3, 6, 9) split in two: 6 and 9 make a new group, which the head does not know
    const { groupIds: parts } = store.edits.splitGroup(groupIds[0]!, [
      {
        images: [
          { imageId: imageIds[0]!, confidence: 0.9 },
          { imageId: imageIds[3]!, confidence: 0.9 },
        ],
      },
      {
        name: 'Part 2',
        images: [
          { imageId: imageIds[6]!, confidence: 0.51 },
          { imageId: imageIds[9]!, confidence: 0.51 },
        ],
      },
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
