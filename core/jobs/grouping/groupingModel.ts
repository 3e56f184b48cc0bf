/** The model whose features a grouping was made from (runs.model): its head, map and neighbours read those. */
import { BACKBONE } from '../../embed/backboneInfo.js';
import type { Store } from '../../store/index.js';

export function groupingModelId(store: Store, runId: number | null = store.runs.activeRunId()): string {
  return (runId === null ? null : store.runs.get(runId)?.model) ?? BACKBONE.id;
}
