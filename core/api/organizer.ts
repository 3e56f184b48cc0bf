/**
 * The photo organizer's shared rules for the handlers: the duplicate threshold the user set,
 * the duplicate index under it, dates as the UI filters them, and what a search query means.
 */
import { BACKBONE } from '../embed/backboneInfo.js';
import { DUPLICATE_DEFAULTS, SAFE_MAX_DISTANCE, type DuplicateOptions } from '../library/duplicates.js';
import type { DuplicateIndex, Store } from '../store/index.js';

const THRESHOLD_KEY = 'duplicate_max_distance';

export function duplicateOptions(store: Store): DuplicateOptions {
  const v = Number(store.db.getState(THRESHOLD_KEY));
  return { ...DUPLICATE_DEFAULTS, ...(store.db.getState(THRESHOLD_KEY) !== null && Number.isInteger(v) ? { maxDistance: v } : {}) };
}

export function setDuplicateMaxDistance(store: Store, maxDistance: number): void {
  store.db.setState(THRESHOLD_KEY, String(maxDistance));
}

export const safeMaxDistance = (): [number, number] => [SAFE_MAX_DISTANCE[0], SAFE_MAX_DISTANCE[1]];

/** The duplicate sets as the user's threshold makes them (the backbone's embeddings confirm). */
export function duplicateIndex(store: Store): DuplicateIndex {
  return store.duplicates.find(BACKBONE.id, duplicateOptions(store));
}

/**
 * An ISO date (or a year, a month) as the start of that period, and the end of it: "2019" is
 * [2019-01-01, 2020-01-01). Times as the store keeps them: the photo's wall clock as if UTC.
 */
export function periodOf(iso: string): { start: number; end: number } | null {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(iso.trim());
  if (m) {
    const y = Number(m[1]);
    if (m[3]) {
      const start = Date.UTC(y, Number(m[2]) - 1, Number(m[3]));
      return { start, end: start + 86_400_000 };
    }
    if (m[2]) return { start: Date.UTC(y, Number(m[2]) - 1, 1), end: Date.UTC(y, Number(m[2]), 1) };
    return { start: Date.UTC(y, 0, 1), end: Date.UTC(y + 1, 0, 1) };
  }
  const t = Date.parse(iso);
  return Number.isFinite(t) ? { start: t, end: t + 1 } : null;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/**
 * A search query: words to find in a path (file name or folder), and a period from the words
 * that are a date: "2019", "2019-06", "2019-06-12", or a month name with a year ("June 2019").
 */
export function parseSearch(query: string): { words: string[]; from?: number; to?: number } {
  const tokens = query.trim().split(/\s+/).filter(Boolean);
  const words: string[] = [];
  let period: { start: number; end: number } | null = null;
  let month: number | null = null;
  for (const t of tokens) {
    const mi = MONTHS.indexOf(t.slice(0, 3).toLowerCase());
    if (/^\d{4}(-\d{2}(-\d{2})?)?$/.test(t)) period = periodOf(t);
    else if (
      mi >= 0 &&
      /^[a-z]+$/i.test(t) &&
      t.length >= 3 &&
      t.length <= 9 &&
      'january february march april may june july august september october november december sept'.includes(t.toLowerCase())
    )
      month = mi;
    else words.push(t);
  }
  if (period && month !== null) {
    const y = new Date(period.start).getUTCFullYear();
    period = { start: Date.UTC(y, month, 1), end: Date.UTC(y, month + 1, 1) };
  } else if (month !== null && !period) words.push(MONTHS[month]!);
  return { words, ...(period ? { from: period.start, to: period.end } : {}) };
}
