/**
 * Places images that arrived since the last clustering into the current groups with the
 * run's trained head, without retraining (fast: one small matmul per image). The groups,
 * names and the user's edits stay exactly as they are.
 */
import { BACKBONE } from '../embed/backboneInfo.js';
import { initTf } from '../embed/backend.js';
import { DebiasedInfoNCEClustering } from '../icon/clustering.js';
import type { Store } from '../store/index.js';
import { decodeRunModel } from './runModel.js';

export interface AssignNewResult {
  assigned: number;
  /** New images whose best cluster's group no longer exists (merged away): left Unsorted. */
  unplaced: number;
  seconds: number;
}

export async function assignNewImages(store: Store): Promise<AssignNewResult | null> {
  const t0 = performance.now();
  const runId = store.runs.activeRunId();
  const blob = runId === null ? null : store.runs.loadModel(runId);
  if (runId === null || !blob) return null;
  const ids: number[] = [];
  for (let after = 0; ; ) {
    const batch = store.groups.imagesWithoutAssignment(runId, { afterImageId: after, limit: 5000 });
    if (batch.length === 0) break;
    ids.push(...batch);
    after = batch[batch.length - 1]!;
  }
  if (ids.length === 0) return { assigned: 0, unplaced: 0, seconds: (performance.now() - t0) / 1000 };
  const m = store.embeddings.loadAll(BACKBONE.id, { imageIds: ids });
  await initTf();
  const { head } = decodeRunModel(blob);
  const model = new DebiasedInfoNCEClustering({ nClusters: head.shape[1] });
  model.importHead(head);
  const { labels, confidence } = model.predict(m.vectors, m.count);
  const groupOf = store.groups.groupIdsByCluster(runId);
  const rows = Array.from(m.imageIds, (imageId, i) => ({ imageId, groupId: groupOf.get(labels[i]!) ?? null, confidence: confidence[i]! }));
  store.groups.writeAssignments(runId, rows);
  return { assigned: rows.length, unplaced: rows.filter((r) => r.groupId === null).length, seconds: (performance.now() - t0) / 1000 };
}
