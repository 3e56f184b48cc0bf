/**
 * The map: the run's t-SNE points, coloured by the group each image is shown in, and points for
 * the images placed since the map was made (placed by the model worker).
 */
import type { ApiHandlers } from '../../shared/contract.js';
import { decodeRunModel } from '../../jobs/grouping/runModel.js';
import { shownGroupId } from '../../store/unsorted.js';
import type { ServiceContext } from '../context.js';

export type MapHandlers = Pick<ApiHandlers, 'getMap'>;

/**
 * Where getMap put the images placed after the run's map was made, with the group each was
 * placed by: the search costs new images x group size x dim, and the map is fetched after every
 * edit. An entry holds until its image's group changes; all go when a job ends (new images, a
 * new map).
 */
class PlacedOnMap {
  private runId: number | null = null;
  private readonly at = new Map<number, { group: number | null; xy: [number, number] }>();

  forRun(runId: number): Map<number, { group: number | null; xy: [number, number] }> {
    if (this.runId !== runId) this.clear();
    this.runId = runId;
    return this.at;
  }

  clear(): void {
    this.runId = null;
    this.at.clear();
  }
}

export function mapHandlers(ctx: ServiceContext): MapHandlers {
  const { store } = ctx;
  const placed = new PlacedOnMap();
  ctx.onJobEnded(() => placed.clear());
  return {
    async getMap() {
      const runId = ctx.requireRun();
      const blob = store.runs.loadModel(runId);
      const art = blob ? decodeRunModel(blob) : null;
      if (!art?.map) return { imageIds: [], xy: [], groupIds: [] };
      const map = { imageIds: art.imageIds, xy: art.map };
      const t = ctx.threshold();
      const groupOf = new Map<number, number | null>();
      const assigned = new Map<number, number | null>();
      for (const a of store.groups.listAssignments(runId)) {
        groupOf.set(a.imageId, shownGroupId(a, t));
        assigned.set(a.imageId, a.groupId);
      }
      const imageIds: number[] = [];
      const xy: number[] = [];
      const groupIds: Array<number | null> = [];
      const mapped = new Set<number>();
      map.imageIds.forEach((id, i) => {
        mapped.add(id);
        if (!groupOf.has(id)) return; // removed or missing since the run
        imageIds.push(id);
        xy.push(map.xy[2 * i]!, map.xy[2 * i + 1]!);
        groupIds.push(groupOf.get(id) ?? null);
      });
      // Images placed since the map was made (Place new images, an added folder): beside their most similar mapped image.
      const cache = placed.forRun(runId);
      const newIds = [...groupOf.keys()].filter((id) => !mapped.has(id));
      const todo = newIds.filter((id) => cache.get(id)?.group !== (assigned.get(id) ?? null));
      // the model worker reads the features and the groups itself
      const at = await ctx.active.placeOnMap(runId, todo);
      for (const [id, point] of at) cache.set(id, { group: assigned.get(id) ?? null, xy: point });
      for (const id of newIds) {
        const c = cache.get(id);
        if (!c) continue;
        imageIds.push(id);
        xy.push(c.xy[0], c.xy[1]);
        groupIds.push(groupOf.get(id) ?? null);
      }
      return { imageIds, xy, groupIds };
    },
  };
}
