/** Text search and suggested group names: what a CLIP-like grouping model's text encoder makes possible. */
import type { ApiHandlers, Outputs } from '../../shared/contract.js';
import { groupNameSuggestions, searchByText } from '../../jobs/search/modelSearch.js';
import { shownGroupId } from '../../store/unsorted.js';
import { requireIdle, type ServiceContext } from '../context.js';
import { asApiError } from './models.js';

export type TextSearchHandlers = Pick<ApiHandlers, 'searchByText' | 'suggestGroupNames'>;

export function textSearchHandlers(ctx: ServiceContext): TextSearchHandlers {
  const { store, registry, jobs } = ctx;
  return {
    async searchByText({ text, groupId, limit }) {
      // The query is encoded in the model worker: not while a job runs ONNX Runtime in its own.
      requireIdle(jobs, 'text search is back when the running job ends');
      ctx.requireRun();
      let allowed: Set<number> | undefined;
      const t = ctx.threshold();
      if (groupId === 'unsorted')
        allowed = new Set(store.browse.unsortedImages({ threshold: t, offset: 0, limit: 1_000_000 }).items.map((r) => r.id));
      else if (groupId !== undefined)
        allowed = new Set(store.browse.groupImages(groupId, { threshold: t, offset: 0, limit: 1_000_000 }).items.map((r) => r.id));
      try {
        const { modelId, results } = await searchByText({ store, registry, client: ctx.models, rows: ctx.active }, text, {
          limit,
          allowed,
        });
        const items = results.flatMap((r) => searchHit(ctx, r, t));
        return { items, model: modelId };
      } catch (err) {
        return asApiError(err);
      }
    },
    async suggestGroupNames() {
      if (store.runs.activeRunId() === null) return { suggestions: [], model: null };
      const { modelId, suggestions } = await groupNameSuggestions({ store, registry, rows: ctx.active });
      return {
        model: modelId,
        suggestions: suggestions.map((s) => ({ groupId: s.groupId, name: s.name, score: s.score, margin: s.margin })),
      };
    },
  };
}

/** A search result as listed, or none for an image no longer decoded. */
function searchHit(ctx: ServiceContext, r: { imageId: number; score: number }, threshold: number): Outputs['searchByText']['items'] {
  const d = ctx.store.images.detail(r.imageId);
  if (!d || d.status !== 'ok') return [];
  return [
    {
      id: d.id,
      name: d.name,
      groupId: shownGroupId(d.assignment, threshold),
      confidence: d.assignment?.confidence ?? null,
      pinned: d.assignment?.pinned ?? false,
      width: d.displayWidth,
      height: d.displayHeight,
      takenAt: d.takenAt === null ? null : new Date(d.takenAt).toISOString(),
      score: r.score,
    },
  ];
}
