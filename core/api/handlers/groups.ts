/** Groups: listing and browsing them, the Unsorted threshold, and the edits of whole groups. */
import type { ApiHandlers, GroupRef, GroupSummary, Outputs, ParsedInput } from '../../shared/contract.js';
import { duplicateIndex, periodOf } from '../organizer.js';

type ImageSort = 'confidence-asc' | 'confidence-desc' | 'name' | 'date' | 'date-desc';
import { ApiError } from '../../shared/client.js';
import { splitGroupImages, SplitRefusedError } from '../../jobs/grouping/splitGroup.js';
import { GROUP_GONE } from '../../store/errors.js';
import { setUnsortedThreshold } from '../../store/unsorted.js';
import type { ServiceContext } from '../context.js';
import { partNames, requireFreeName } from '../groupNames.js';
import { toImageSummary } from '../views.js';

export type GroupHandlers = Pick<
  ApiHandlers,
  'listGroups' | 'listGroupImages' | 'locateImage' | 'setUnsortedThreshold' | 'renameGroup' | 'mergeGroups' | 'splitGroup'
>;

/**
 * A group's (or Unsorted's) images dated in [from, to), and with `stack` each duplicate set's
 * copies listed under their keeper when both are in the list (the keeper's `stacked` counts them).
 */
function filteredImages(
  ctx: ServiceContext,
  groupId: GroupRef,
  o: { sort: ImageSort; offset: number; limit: number; stack: boolean; from?: string; to?: string },
): Outputs['listGroupImages'] {
  const { store } = ctx;
  const { run, ids: all } = store.browse.orderedIds(groupId, { threshold: ctx.threshold(), sort: o.sort });
  let ids = Array.from(all);
  if (o.from !== undefined || o.to !== undefined) {
    const from = o.from === undefined ? -Infinity : (periodOf(o.from)?.start ?? -Infinity);
    const to = o.to === undefined ? Infinity : (periodOf(o.to)?.end ?? Infinity);
    const dates = store.browse.imageDates();
    ids = ids.filter((id) => {
      const d = dates.get(id)?.date;
      return d !== undefined && d >= from && d < to;
    });
  }
  const dup = duplicateIndex(store);
  const stacked = new Map<number, number[]>();
  if (o.stack) {
    const inList = new Set(ids);
    ids = ids.filter((id) => {
      const k = dup.keeperOf.get(id);
      if (k === undefined || !inList.has(k)) return true;
      stacked.set(k, [...(stacked.get(k) ?? []), id]);
      return false;
    });
  }
  const page = ids.slice(o.offset, o.offset + o.limit);
  const items = store.browse.rowsByIds(run, page).map((r) => {
    const shown = groupId === 'unsorted' ? r.groupId : groupId;
    const k = dup.keeperOf.get(r.id);
    return {
      ...toImageSummary(r, shown),
      ...(k !== undefined ? { duplicateOf: k } : {}),
      ...(stacked.has(r.id) ? { stacked: stacked.get(r.id)!.length, stackedIds: stacked.get(r.id)! } : {}),
    };
  });
  return { items, total: ids.length };
}

/** The groups' cards (four typical pictures, none a copy of another), sorted, and Unsorted's counts. */
function groupList(ctx: ServiceContext, sort: ParsedInput<'listGroups'>['sort'], search: string | undefined): Outputs['listGroups'] {
  const { store } = ctx;
  const { browse } = store;
  if (store.runs.activeRunId() === null) return { groups: [], unsortedCount: 0, ungroupedCount: 0, unsortedThreshold: ctx.threshold() };
  const t = ctx.threshold();
  const rows = browse.groupSummaries({ typical: 8, threshold: t, sort: sort === 'name' ? 'name' : 'size', query: search || undefined });
  // a card's pictures are four different ones: a copy gives way to the next image
  const copies = duplicateIndex(store).keeperOf;
  const groups: GroupSummary[] = rows.map((g) => ({
    id: g.id,
    name: g.name,
    userNamed: g.userNamed,
    color: g.color,
    count: g.count,
    meanConfidence: g.meanConfidence ?? 0,
    pinned: g.pinned,
    typicalImageIds: g.typicalImageIds.filter((id) => !copies.has(id)).slice(0, 4),
  }));
  // least certain first; a group the user placed entirely is as certain as it gets
  const certainty = (g: GroupSummary) => ((g.pinned ?? 0) >= g.count ? 1 : g.meanConfidence);
  if (sort === 'confidence') groups.sort((a, b) => certainty(a) - certainty(b));
  return {
    groups,
    unsortedCount: browse.countUnsorted({ threshold: t }),
    ungroupedCount: browse.countUngrouped(),
    unsortedThreshold: t,
  };
}

export function groupHandlers(ctx: ServiceContext): GroupHandlers {
  const { store } = ctx;
  const { browse } = store;
  // A group id from the screen: another edit (or another window) may have removed the group since.
  const requireGroup = (groupId: number) => {
    const group = store.groups.get(groupId);
    if (!group) throw new ApiError('not-found', GROUP_GONE);
    return group;
  };
  return {
    async listGroups({ sort, search }) {
      return groupList(ctx, sort, search);
    },
    async listGroupImages({ groupId, sort, offset, limit, stack, from, to }) {
      const t = ctx.threshold();
      if (groupId !== 'unsorted') requireGroup(groupId);
      if (stack || from !== undefined || to !== undefined)
        return filteredImages(ctx, groupId, { sort, offset, limit, stack: stack ?? false, from, to });
      if (groupId === 'unsorted') {
        const page = browse.unsortedImages({ threshold: t, sort, offset, limit });
        return { total: page.total, items: page.items.map((r) => toImageSummary(r, r.groupId)) };
      }
      const page = browse.groupImages(groupId, { sort, offset, limit, threshold: t });
      return { total: page.total, items: page.items.map((r) => toImageSummary(r, groupId)) };
    },
    async locateImage({ groupId, imageId, sort }) {
      const t = ctx.threshold();
      if (groupId === 'unsorted') return browse.unsortedImageIndex(imageId, { threshold: t, sort });
      requireGroup(groupId);
      return browse.groupImageIndex(groupId, imageId, { threshold: t, sort });
    },
    async setUnsortedThreshold({ threshold: t }) {
      setUnsortedThreshold(store.db, t);
      ctx.emit({ type: 'changed', what: 'groups' });
      return { ok: true };
    },
    async renameGroup({ groupId, name }) {
      requireGroup(groupId);
      requireFreeName(store, name, [groupId], 'to put them together, select both and Merge');
      store.edits.renameGroup(groupId, name);
      return ctx.edited({});
    },
    async mergeGroups({ groupIds, name }) {
      for (const g of groupIds) requireGroup(g);
      if (name !== undefined) requireFreeName(store, name, groupIds, 'choose another name for the merged group');
      const [target, ...sources] = groupIds;
      store.edits.mergeGroups(target!, sources, { name });
      return ctx.edited({ groupId: target! });
    },
    async splitGroup({ groupId, parts }) {
      requireGroup(groupId);
      let split;
      try {
        split = await splitGroupImages(store, groupId, parts);
      } catch (err) {
        if (err instanceof SplitRefusedError) throw new ApiError('invalid-input', err.message);
        throw err;
      }
      // The split was computed in a worker: other edits ran meanwhile. A group merged away is
      // not found; images moved out of it make the store refuse the split as stale (a conflict).
      const group = requireGroup(groupId);
      const names = partNames(store, group.name || 'Group', split.length - 1);
      const res = store.edits.splitGroup(
        groupId,
        split.map((images, i) => ({ name: i === 0 ? undefined : names[i - 1], images })),
      );
      return ctx.edited({ groupIds: res.groupIds });
    },
  };
}
