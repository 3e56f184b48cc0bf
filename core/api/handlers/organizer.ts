/** The photo organizer: duplicates, the timeline of a group, search by name, folder and date. */
import type { ApiHandlers, DuplicateImage, Timeline } from '../../shared/contract.js';
import { MIN_SIDE, SAFE_MAX_DISTANCE } from '../../library/duplicates.js';
import type { Store } from '../../store/index.js';
import { shownGroupId } from '../../store/unsorted.js';
import type { ServiceContext } from '../context.js';
import { duplicateIndex, duplicateOptions, parseSearch, setDuplicateMaxDistance } from '../organizer.js';
import { toImageSummary } from '../views.js';

export type OrganizerHandlers = Pick<ApiHandlers, 'listDuplicates' | 'setDuplicateThreshold' | 'groupTimeline' | 'searchImages'>;

/** Images as the duplicate and search lists show them: where they are shown, their path, size and group's name. */
function imageViews(store: Store, ids: readonly number[], threshold: number): Map<number, DuplicateImage> {
  const run = store.runs.activeRunId() ?? -1;
  const names = new Map(store.groups.list().map((g) => [g.id, g.name]));
  const out = new Map<number, DuplicateImage>();
  for (const r of store.browse.rowsByIds(run, ids)) {
    const shown =
      r.groupId === null || r.confidence === null
        ? null
        : shownGroupId({ groupId: r.groupId, confidence: r.confidence, pinned: r.pinned }, threshold);
    const d = store.images.detail(r.id);
    out.set(r.id, {
      ...toImageSummary(r, shown),
      path: d?.absPath ?? r.relPath,
      bytes: d?.size ?? 0,
      groupName: shown === null ? null : (names.get(shown) ?? null),
    });
  }
  return out;
}

export function organizerHandlers(ctx: ServiceContext): OrganizerHandlers {
  const { store } = ctx;
  return {
    async listDuplicates() {
      const options = duplicateOptions(store);
      const index = duplicateIndex(store);
      const views = imageViews(
        store,
        index.sets.flatMap((s) => [s.keeper, ...s.members.map((m) => m.id)]),
        ctx.threshold(),
      );
      const sets = index.sets.flatMap((s) => {
        const keeper = views.get(s.keeper);
        if (!keeper) return [];
        return [
          {
            keeper,
            reason: s.reason,
            members: s.members.flatMap((m) =>
              views.has(m.id) ? [{ ...views.get(m.id)!, kind: m.kind, distance: m.distance, cosine: m.cosine }] : [],
            ),
          },
        ];
      });
      const unfingerprinted = store.db.raw
        .prepare(`SELECT count(*) FROM images WHERE status = 'ok' AND phash IS NULL`)
        .pluck()
        .get() as number;
      return {
        sets,
        copies: sets.reduce((n, s) => n + s.members.length, 0),
        maxDistance: options.maxDistance,
        safeRange: [SAFE_MAX_DISTANCE[0], SAFE_MAX_DISTANCE[1]],
        minCosine: options.minCosine,
        unfingerprinted,
        tooSmall: store.db.raw
          .prepare(
            `SELECT count(*) FROM images WHERE status = 'ok' AND min(COALESCE(display_width, width, 0), COALESCE(display_height, height, 0)) < ?`,
          )
          .pluck()
          .get(MIN_SIDE) as number,
      };
    },
    async setDuplicateThreshold({ maxDistance }) {
      setDuplicateMaxDistance(store, maxDistance);
      ctx.emit({ type: 'changed', what: 'groups' });
      return { ok: true };
    },
    async groupTimeline({ groupId }) {
      const { ids } = store.browse.orderedIds(groupId, { threshold: ctx.threshold() });
      const dates = store.browse.imageDates();
      const list = Array.from(ids, (id) => dates.get(id)).filter((d) => d !== undefined);
      return timeline(list);
    },
    async searchImages({ query, offset, limit }) {
      const q = parseSearch(query);
      if (q.words.length === 0 && q.from === undefined) return { items: [], total: 0, dateRange: null };
      const { ids, total } = store.browse.search({ words: q.words, from: q.from, to: q.to, offset, limit });
      const views = imageViews(store, ids, ctx.threshold());
      return {
        total,
        items: ids.flatMap((id) =>
          views.has(id) ? [{ ...views.get(id)!, path: views.get(id)!.path, groupName: views.get(id)!.groupName }] : [],
        ),
        dateRange: q.from === undefined ? null : { from: new Date(q.from).toISOString(), to: new Date(q.to!).toISOString() },
      };
    },
  };
}

/** Counts per day, month or year (whichever gives at most ~40 buckets over the span), empty ones included. */
export function timeline(dates: ReadonlyArray<{ date: number; taken: boolean }>): Timeline {
  const fileDated = dates.filter((d) => !d.taken).length;
  if (dates.length === 0) return { unit: 'month', buckets: [], fileDated };
  let min = Infinity;
  let max = -Infinity;
  for (const d of dates) {
    if (d.date < min) min = d.date;
    if (d.date > max) max = d.date;
  }
  const days = (max - min) / 86_400_000;
  const unit: Timeline['unit'] = days <= 45 ? 'day' : days <= 40 * 31 ? 'month' : 'year';
  const startOf = (t: number): Date => {
    const d = new Date(t);
    return unit === 'day'
      ? new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()))
      : unit === 'month'
        ? new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1))
        : new Date(Date.UTC(d.getUTCFullYear(), 0, 1));
  };
  const next = (d: Date): Date =>
    unit === 'day'
      ? new Date(d.getTime() + 86_400_000)
      : unit === 'month'
        ? new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1))
        : new Date(Date.UTC(d.getUTCFullYear() + 1, 0, 1));
  const counts = new Map<number, number>();
  for (const d of dates) {
    const k = startOf(d.date).getTime();
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const MONTH = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const buckets: Timeline['buckets'] = [];
  for (let d = startOf(min); d.getTime() <= max; d = next(d)) {
    const label =
      unit === 'year'
        ? String(d.getUTCFullYear())
        : unit === 'month'
          ? `${MONTH[d.getUTCMonth()]} ${d.getUTCFullYear()}`
          : `${d.getUTCDate()} ${MONTH[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
    buckets.push({ start: d.toISOString(), end: next(d).toISOString(), label, count: counts.get(d.getTime()) ?? 0 });
  }
  return { unit, buckets, fileDated };
}
