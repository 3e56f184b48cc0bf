/**
 * Which images are Unsorted: the one rule, for every query, screen and export.
 *
 * An image of the active run is in Unsorted when it has no assignment row (indexed after the
 * grouping was made), its group is NULL (the user removed it from its group; the row is kept,
 * pinned, so that re-clustering does not put it back), or it is not pinned and the model's
 * confidence in its group is below the threshold. Otherwise it is shown in its group.
 */
import type { Database } from './database.js';

const UNSORTED_KEY = 'unsorted_threshold';
/**
 * Images less likely than this to be in the right group (their calibrated confidence,
 * core/icon/calibration.ts) go to Unsorted: a small pile of the images the model is least sure
 * of, most of them misgrouped. `constellate eval` prints its "Unsorted" line: at 0.35 about 5% of
 * tuxpaint300 and 6% of fashion-mnist-1k (ACC of those 0.38 and 0.25, of the grouped 0.56 and
 * 0.67); 0.43 (the old 0.6 on the head's own scale) sent 13% of both (docs/clustering.md).
 */
export const DEFAULT_UNSORTED_THRESHOLD = 0.35;

export function getUnsortedThreshold(db: Database): number {
  const v = Number(db.getState(UNSORTED_KEY));
  return db.getState(UNSORTED_KEY) !== null && Number.isFinite(v) ? v : DEFAULT_UNSORTED_THRESHOLD;
}

export function setUnsortedThreshold(db: Database, threshold: number): void {
  db.setState(UNSORTED_KEY, String(threshold));
}

/** Images shown in groups: decoded (or being re-decoded after a change); not missing or skipped. */
export const VISIBLE = `i.status IN ('ok', 'pending')`;

/**
 * SQL: the assignment row `a` (of image `i`) keeps its image in its group. One `?` parameter:
 * the threshold.
 */
export const IN_GROUP = `${VISIBLE} AND (a.pinned = 1 OR a.confidence >= ?)`;

/**
 * SQL: image `i`, LEFT JOINed with its row `a` in the run, is in Unsorted. One `?` parameter:
 * the threshold.
 */
export const UNSORTED = `i.status = 'ok' AND (a.image_id IS NULL OR a.group_id IS NULL OR (a.pinned = 0 AND a.confidence < ?))`;

/** An image's assignment in the run, as far as the rule needs it (null: no row). */
export interface Placement {
  groupId: number | null;
  confidence: number;
  pinned: boolean;
}

/** The group an image is shown in, or null: Unsorted. */
export function shownGroupId(a: Placement | null, threshold: number): number | null {
  if (a === null || a.groupId === null) return null;
  return a.pinned || a.confidence >= threshold ? a.groupId : null;
}

/** In Unsorted only because the model is unsure (it has a group the model would put it in). */
export function isBelowThreshold(a: Placement, threshold: number): boolean {
  return a.groupId !== null && !a.pinned && a.confidence < threshold;
}
