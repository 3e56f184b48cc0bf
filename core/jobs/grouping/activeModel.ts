/**
 * The current run's trained head and features, loaded on demand for the UI's per-image
 * questions: "which groups would this image fit?" (suggestions, from the head's soft
 * assignments phi) and "which images look like it?" (cosine nearest neighbours in backbone
 * space). Reloaded when the active run changes.
 */
import { initTf } from '../../embed/backend.js';
import { DebiasedInfoNCEClustering } from '../../icon/clustering.js';
import { l2normalize } from '../../icon/preprocess.js';
import type { Store } from '../../store/index.js';
import { VISIBLE } from '../../store/unsorted.js';
import { groupingModelId } from './groupingModel.js';
import { decodeRunModel, type RunArtifacts } from './runModel.js';

interface Loaded {
  runId: number;
  artifacts: RunArtifacts;
  model: DebiasedInfoNCEClustering;
  ids: Uint32Array;
  rowOf: Map<number, number>;
  unit: Float32Array;
  raw: Float32Array;
  dim: number;
  groupOfCluster: Map<number, number>;
}

/**
 * The softmax temperature of the suggestions over cosines to group centroids: backbone features
 * of one picture's group are some 0.1 closer to its centroid than to the next group's, which at
 * 0.03 makes the first about 30 times as likely: a clear first choice, the others in order.
 */
export const SUGGESTION_TEMPERATURE = 0.03;

export class ActiveModel {
  /** The active run's model, loading or loaded: concurrent requests share one load. */
  private current: { runId: number; model: Promise<Loaded | null> } | null = null;

  constructor(private readonly store: Store) {}

  invalidate(): void {
    this.current = null;
  }

  async get(): Promise<Loaded | null> {
    const runId = this.store.runs.activeRunId();
    if (runId === null) return null;
    if (this.current?.runId !== runId) {
      const current = { runId, model: this.load(runId) };
      this.current = current;
      // Nothing loaded (no model, or it failed) is not kept: the next request tries again.
      const forget = () => {
        if (this.current === current) this.current = null;
      };
      void current.model.then((l) => {
        if (l === null) forget();
      }, forget);
    }
    const l = await this.current.model;
    // Merges and splits change which group a cluster maps to: refresh that cheap map.
    if (l) l.groupOfCluster = this.store.groups.groupIdsByCluster(runId);
    return l;
  }

  private async load(runId: number): Promise<Loaded | null> {
    const blob = this.store.runs.loadModel(runId);
    if (!blob) return null;
    await initTf();
    const artifacts = decodeRunModel(blob);
    const model = new DebiasedInfoNCEClustering({ nClusters: artifacts.head.shape[1] });
    model.importHead(artifacts.head);
    const m = this.store.embeddings.loadAll(groupingModelId(this.store, runId));
    return {
      runId,
      artifacts,
      model,
      ids: m.imageIds,
      rowOf: new Map(Array.from(m.imageIds, (id, i) => [id, i])),
      raw: m.vectors,
      unit: l2normalize(m.vectors, m.count, m.dim),
      dim: m.dim,
      groupOfCluster: this.store.groups.groupIdsByCluster(runId),
    };
  }

  /**
   * Every group of the grouping as the user has it now, ranked for this image: the softmax
   * (temperature SUGGESTION_TEMPERATURE) of its cosine to each group's centroid (the mean of
   * the unit embeddings of its images, those below the Unsorted threshold too). One measure
   * for every group: the parts a Split made and the groups the user made, which the trained
   * head knows nothing of, are ranked with the others, and the user's moves count at once.
   */
  async suggestions(imageId: number, limit = 9): Promise<Array<{ groupId: number; probability: number }>> {
    const l = await this.get();
    const row = l?.rowOf.get(imageId);
    if (!l || row === undefined) return [];
    const { groups, unit } = this.centroids(l);
    if (groups.length === 0) return [];
    const d = l.dim;
    const q = l.unit.subarray(row * d, (row + 1) * d);
    const logits = groups.map((_, g) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += q[j]! * unit[g * d + j]!;
      return s / SUGGESTION_TEMPERATURE;
    });
    const top = Math.max(...logits);
    const e = logits.map((x) => Math.exp(x - top));
    const z = e.reduce((a, b) => a + b, 0);
    return groups
      .map((groupId, g) => ({ groupId, probability: e[g]! / z }))
      .sort((a, b) => b.probability - a.probability || a.groupId - b.groupId)
      .slice(0, limit);
  }

  private cache: { key: string; groups: number[]; unit: Float32Array } | null = null;

  /** Each shown group's unit centroid, cached until the database changes. */
  private centroids(l: Loaded): { groups: number[]; unit: Float32Array } {
    const db = this.store.db;
    const key = `${l.runId}:${String(db.raw.pragma('data_version', { simple: true }))}:${db.raw.prepare('SELECT total_changes()').pluck().get() as number}`;
    if (this.cache?.key === key) return this.cache;
    const rows = db.raw
      .prepare(
        `SELECT a.image_id AS imageId, a.group_id AS groupId FROM assignments a JOIN images i ON i.id = a.image_id
         WHERE a.run_id = ? AND a.group_id IS NOT NULL AND ${VISIBLE}`,
      )
      .all(l.runId) as Array<{ imageId: number; groupId: number }>;
    const d = l.dim;
    const index = new Map<number, number>();
    const sums: number[][] = [];
    for (const r of rows) {
      const i = l.rowOf.get(r.imageId);
      if (i === undefined) continue;
      let g = index.get(r.groupId);
      if (g === undefined) {
        g = index.size;
        index.set(r.groupId, g);
        sums.push(new Array<number>(d).fill(0));
      }
      const sum = sums[g]!;
      for (let j = 0; j < d; j++) sum[j]! += l.unit[i * d + j]!;
    }
    const unit = new Float32Array(index.size * d);
    sums.forEach((sum, g) => {
      const n = Math.hypot(...sum) || 1;
      for (let j = 0; j < d; j++) unit[g * d + j] = sum[j]! / n;
    });
    this.cache = { key, groups: [...index.keys()], unit };
    return this.cache;
  }

  /** Suggestions for many images at once (review queue). */
  async suggestionsMany(imageIds: number[], limit = 3): Promise<Map<number, Array<{ groupId: number; probability: number }>>> {
    const out = new Map<number, Array<{ groupId: number; probability: number }>>();
    for (const id of imageIds) out.set(id, await this.suggestions(id, limit));
    return out;
  }

  /** The `k` most similar images (cosine in backbone space), excluding the image itself. */
  async neighbours(imageId: number, k = 12): Promise<number[]> {
    const l = await this.get();
    const row = l?.rowOf.get(imageId);
    if (!l || row === undefined) return [];
    const d = l.dim;
    const q = l.unit.subarray(row * d, (row + 1) * d);
    const best: Array<{ i: number; s: number }> = [];
    for (let i = 0; i < l.ids.length; i++) {
      if (i === row) continue;
      let s = 0;
      const off = i * d;
      for (let j = 0; j < d; j++) s += q[j]! * l.unit[off + j]!;
      if (best.length < k || s > best[best.length - 1]!.s) {
        best.push({ i, s });
        best.sort((a, b) => b.s - a.s);
        if (best.length > k) best.pop();
      }
    }
    return best.map((b) => l.ids[b.i]!);
  }
}
