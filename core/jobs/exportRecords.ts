/** The current grouping as export records (one per usable image of the active run). */
import path from 'node:path';
import { BrowseRepository } from '../store/browse.js';
import type { Store } from '../store/index.js';
import { UNSORTED_NAME, type ExportRecord } from './export.js';
import { getUnsortedThreshold } from './settings.js';

export function exportRecordsFromStore(store: Store): ExportRecord[] {
  const runId = store.runs.activeRunId();
  if (runId === null) return [];
  const threshold = getUnsortedThreshold(store.db);
  const rows = new BrowseRepository(store.db).exportRows(runId);
  return rows.map((r) => {
    const unsorted = r.groupId === null || (!r.pinned && r.confidence < threshold);
    return {
      imageId: r.imageId,
      absPath: path.join(r.root, r.relPath),
      groupId: unsorted ? null : r.groupId,
      groupName: unsorted ? UNSORTED_NAME : r.groupName || `Group ${r.groupId}`,
      confidence: r.groupId === null ? null : r.confidence,
    };
  });
}
