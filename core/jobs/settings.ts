/** Small user settings kept in the database's app_state. */
import type { Database } from '../store/database.js';

const UNSORTED_KEY = 'unsorted_threshold';
/**
 * Images whose assignment confidence (max_c phi_ic) is below this go to Unsorted. The
 * default keeps images the head splits between 3+ groups out of the groups.
 */
export const DEFAULT_UNSORTED_THRESHOLD = 0.3;

export function getUnsortedThreshold(db: Database): number {
  const v = Number(db.getState(UNSORTED_KEY));
  return db.getState(UNSORTED_KEY) !== null && Number.isFinite(v) ? v : DEFAULT_UNSORTED_THRESHOLD;
}

export function setUnsortedThreshold(db: Database, threshold: number): void {
  db.setState(UNSORTED_KEY, String(threshold));
}
