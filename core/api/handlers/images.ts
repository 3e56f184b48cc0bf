/** Images: one image with its neighbours and suggestions, the review queue, and the edits of images (with undo). */
import type { ApiHandlers } from '../../shared/contract.js';
import { ApiError } from '../../shared/client.js';
import { GROUP_GONE } from '../../store/errors.js';
import { shownGroupId } from '../../store/unsorted.js';
import { notFound, type ServiceContext } from '../context.js';
import { requireFreeName } from '../groupNames.js';
import { neighbourSummary, takenIso, toImageSummary } from '../views.js';

export type ImageHandlers = Pick<ApiHandlers, 'getImage' | 'reviewQueue' | 'moveImages' | 'removeFromGroup' | 'pinImages'>;

export function imageHandlers(ctx: ServiceContext): ImageHandlers {
  const { store, active } = ctx;
  const groupNames = () => new Map(store.groups.list().map((g) => [g.id, g.name]));
  return {
    async getImage({ id }) {
      const d = store.images.detail(id) ?? notFound(`image ${id}`);
      const names = groupNames();
      const a = d.assignment;
      const groupId = shownGroupId(a, ctx.threshold());
      const neighbourIds = await active.neighbours(id, 12);
      const neighbours = neighbourIds
        .map((nid) => store.images.detail(nid))
        .filter((x) => x !== null)
        .map(neighbourSummary);
      const suggestions = (await active.suggestions(id)).map((s) => ({ ...s, name: names.get(s.groupId) ?? '' }));
      return {
        id: d.id,
        name: d.name,
        path: d.absPath,
        size: d.size,
        mtime: new Date(d.mtimeMs).toISOString(),
        width: d.displayWidth,
        height: d.displayHeight,
        takenAt: takenIso(d.takenAt, d.takenOffset),
        fileTime: new Date(d.mtimeMs).toISOString(),
        camera: d.camera,
        groupId,
        groupName: groupId === null ? null : (names.get(groupId) ?? null),
        confidence: a?.confidence ?? null,
        pinned: a?.pinned ?? false,
        neighbours,
        suggestions,
      };
    },
    async reviewQueue({ limit }) {
      ctx.requireRun();
      const page = store.browse.leastCertain({ limit });
      const names = groupNames();
      const sugg = await active.suggestionsMany(
        page.map((r) => r.id),
        9,
      );
      const t = ctx.threshold();
      return {
        items: page.map((r) => ({
          // below the threshold the image is in Unsorted, here as on every other screen
          ...toImageSummary(r, shownGroupId(r, t)),
          assignedGroupId: r.groupId,
          suggestions: (sugg.get(r.id) ?? []).map((s) => ({ ...s, name: names.get(s.groupId) ?? '' })),
        })),
      };
    },
    async moveImages({ imageIds, to }) {
      ctx.requireRun();
      if ('groupId' in to) {
        if (!store.groups.get(to.groupId)) throw new ApiError('not-found', GROUP_GONE);
        store.edits.moveImages(imageIds, to.groupId);
        return ctx.edited({ groupId: to.groupId });
      }
      requireFreeName(store, to.newGroupName, [], 'choose it in the list to move the images there');
      const r = store.edits.moveImagesToNewGroup(imageIds, to.newGroupName);
      return ctx.edited({ groupId: r.groupId });
    },
    async removeFromGroup({ imageIds }) {
      ctx.requireRun();
      store.edits.removeFromGroup(imageIds);
      return ctx.edited({});
    },
    async pinImages({ imageIds, pinned }) {
      ctx.requireRun();
      store.edits.pinImages(imageIds, pinned);
      return ctx.edited({});
    },
  };
}
