/** The current grouping as export records (one per usable image of the active run). */
import path from 'node:path';
import type { BrowseRepository, Store } from '../../store/index.js';
import { formatTakenAt } from '../../library/dates.js';
import { UNSORTED_NAME, type ExportFilters, type ExportRecord } from './types.js';
import { getUnsortedThreshold, isBelowThreshold } from '../../store/unsorted.js';

type ExportRow = ReturnType<BrowseRepository['exportRows']>[number];

/**
 * The records, less what `filters` leave out. `keeperOf`: each duplicate copy's keeper (the
 * caller's duplicate index; core/store/duplicates.ts), for `duplicate_of` and skipDuplicates.
 */
export function exportRecordsFromStore(
  store: Store,
  options: { keeperOf?: ReadonlyMap<number, number>; filters?: ExportFilters } = {},
): ExportRecord[] {
  const runId = store.runs.activeRunId();
  if (runId === null) return [];
  const threshold = getUnsortedThreshold(store.db);
  const records = store.browse.exportRows(runId).map((r) => toRecord(r, threshold, options.keeperOf));
  return filterRecords(records, options.filters ?? {});
}

/** Leaves out what the filters say: copies (keepers stay), Unsorted, the unconfirmed, the less sure. */
export function filterRecords(records: readonly ExportRecord[], f: ExportFilters): ExportRecord[] {
  return records.filter((r) => {
    if (f.skipDuplicates && r.duplicateOf != null) return false;
    if (f.skipUnsorted && r.groupId === null) return false;
    if (f.confirmedOnly && !r.userConfirmed) return false;
    if (f.minConfidence !== undefined && !r.userConfirmed && (r.confidence ?? 0) < f.minConfidence) return false;
    return true;
  });
}

function toRecord(r: ExportRow, threshold: number, keeperOf?: ReadonlyMap<number, number>): ExportRecord {
  // In Unsorted: never assigned or removed by the user (no group), or the model unsure of an
  // image the user did not pin. Only the last has a group the model would put it in; an image
  // the user removed must not get back, as a suggestion, the group they took it out of.
  const belowThreshold = isBelowThreshold(r, threshold);
  const unsorted = r.groupId === null || belowThreshold;
  const name = r.groupName || `Group ${r.groupId}`;
  return {
    imageId: r.imageId,
    absPath: path.join(r.root, r.relPath),
    groupId: unsorted ? null : r.groupId,
    groupName: unsorted ? UNSORTED_NAME : name,
    confidence: r.groupId === null ? null : r.confidence,
    userConfirmed: r.pinned,
    suggestedGroupId: belowThreshold ? r.groupId : null,
    suggestedGroupName: belowThreshold ? name : null,
    library: r.root,
    // `/` on every system: a dataset made on Windows reads the same elsewhere.
    relativePath: r.relPath.split(path.sep).join('/'),
    contentHash: r.contentHash,
    takenAt: r.takenAt === null ? null : formatTakenAt(r.takenAt, r.takenOffset),
    duplicateOf: keeperOf?.get(r.imageId) ?? null,
  };
}
