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

  /** Groups ranked by the head's probability for this image (existing groups only). */
  async suggestions(imageId: number, limit = 9): Promise<Array<{ groupId: number; probability: number }>> {
    const l = await this.get();
    const row = l?.rowOf.get(imageId);
    if (!l || row === undefined) return [];
    const proba = l.model.predictProba(l.raw.subarray(row * l.dim, (row + 1) * l.dim), 1);
    return Array.from(proba, (p, c) => ({ c, p }))
      .sort((a, b) => b.p - a.p)
      .map(({ c, p }) => ({ groupId: l.groupOfCluster.get(c) ?? -1, probability: p }))
      .filter((s) => s.groupId > 0)
      .slice(0, limit);
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
