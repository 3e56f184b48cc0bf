/** Small user settings kept in the database's app_state. */
import type { Database } from './database.js';

const UNSORTED_KEY = 'unsorted_threshold';
/**
 * Images whose assignment confidence (max_c phi_ic) is below this go to Unsorted: a small pile
 * of the images the head is least sure of, most of them misgrouped. Measured with `constellate
 * eval` (5 seeds, its "Unsorted" line): at 0.6, tuxpaint300 3.0% of images (ACC of those 0.23,
 * of the grouped 0.52), fashion-mnist-1k 4.5% (0.33 vs 0.59), the 60-image demo 1.7%. The head's
 * start sharpens phi (initScale), so lower thresholds barely fire: 0.3 sent no image of either
 * set to Unsorted; 0.7 sends 14% / 10%, 0.8 32% / 19%.
 */
export const DEFAULT_UNSORTED_THRESHOLD = 0.6;

export function getUnsortedThreshold(db: Database): number {
  const v = Number(db.getState(UNSORTED_KEY));
  return db.getState(UNSORTED_KEY) !== null && Number.isFinite(v) ? v : DEFAULT_UNSORTED_THRESHOLD;
}

export function setUnsortedThreshold(db: Database, threshold: number): void {
  db.setState(UNSORTED_KEY, String(threshold));
}
