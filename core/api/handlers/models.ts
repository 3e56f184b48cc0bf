/**
 * Models: the registered image encoders, adding one from a folder or downloading a known one,
 * switching the library to one (a regroup that embeds what is missing first), and, with a
 * CLIP-like grouping model, text search and suggested group names.
 */
import type { ApiHandlers, CatalogModel, ModelInfo, ModelsState } from '../../shared/contract.js';
import { ApiError } from '../../shared/client.js';
import { BACKBONE } from '../../embed/backboneInfo.js';
import { catalogBaseUrl, DownloadError, downloadModel, fileUrl, MODEL_CATALOG } from '../../embed/models/download.js';
import { addModelFolder, describeModel, resolveModel, UnknownModelError } from '../../embed/models/manage.js';
import { ModelRegistry } from '../../embed/models/registry.js';
import { ModelFolderError, type ModelSpec } from '../../embed/models/spec.js';
import { runClusterJob } from '../../jobs/grouping/clusterJob.js';
import { groupingModelId } from '../../jobs/grouping/groupingModel.js';
import { getLibraryModelId, setLibraryModelId } from '../../jobs/indexing/modelChoice.js';
import { groupNameSuggestions, searchByText, TextSearchUnavailableError } from '../../jobs/search/modelSearch.js';
import { shownGroupId } from '../../store/unsorted.js';
import { requireIdle, type ServiceContext } from '../context.js';

export type ModelHandlers = Pick<
  ApiHandlers,
  'listModels' | 'addModel' | 'removeModel' | 'useModel' | 'downloadModel' | 'searchByText' | 'suggestGroupNames'
>;

/** What "NN% sure" means for the grouping's model: the calibration was fitted on MobileNetV2's features. */
export function calibrationNote(groupingModel: string | null): string {
  if (groupingModel === null || groupingModel === BACKBONE.id)
    return 'Confidence is calibrated for this model (fitted on labelled sets: "70% sure" groups are about 70% right).';
  return 'Confidence uses the calibration fitted for the built-in MobileNetV2: with this model it orders images from least to most certain, but "70% sure" is not a measured 70% (a refit needs labelled images; bench/icon-calibrate.ts does it for the built-in model).';
}

function info(spec: ModelSpec | null, missing = false): ModelInfo {
  const d = describeModel(spec);
  return { ...d, builtIn: spec === null, missing };
}

function asApiError(err: unknown): never {
  if (err instanceof ModelFolderError || err instanceof UnknownModelError || err instanceof DownloadError)
    throw new ApiError('invalid-input', err.message);
  if (err instanceof TextSearchUnavailableError) throw new ApiError('conflict', err.message);
  throw err;
}

export function modelHandlers(ctx: ServiceContext): ModelHandlers {
  const { store, registry, jobs } = ctx;
  const spec = (id: string) => {
    try {
      return resolveModel(registry, id);
    } catch (err) {
      return asApiError(err);
    }
  };
  const changed = () => ctx.emit({ type: 'changed', what: 'models' });

  return {
    async listModels() {
      const registered = registry.list();
      const grouping = store.runs.activeRunId() === null ? null : groupingModelId(store);
      const catalog: CatalogModel[] = MODEL_CATALOG.map((e) => ({
        id: e.id,
        name: e.name,
        licence: e.licence,
        approxBytes: e.approxBytes,
        text: e.text,
        about: e.about,
        urls: e.files.map((f) => fileUrl(e, f, catalogBaseUrl())),
        installed: registered.some((r) => r.source.kind === 'download' && r.source.catalogId === e.id),
      }));
      const state: ModelsState = {
        models: [info(null), ...registered.map((r) => info(r.spec, !ModelRegistry.present(r)))],
        libraryModel: getLibraryModelId(store.db),
        groupingModel: grouping,
        catalog,
        modelsDir: registry.dir,
        calibrationNote: calibrationNote(grouping),
      };
      return state;
    },
    async addModel({ path }) {
      // The checks open the model's graphs: not while a job holds ONNX Runtime in its own worker.
      requireIdle(jobs, 'wait for the running job to finish before adding a model');
      try {
        const entry = await addModelFolder(path, { registry, client: ctx.models });
        changed();
        return info(entry.spec);
      } catch (err) {
        return asApiError(err);
      }
    },
    async removeModel({ id }) {
      requireIdle(jobs, 'wait for the running job to finish');
      if (id === BACKBONE.id) throw new ApiError('invalid-input', 'the built-in model cannot be removed');
      if (getLibraryModelId(store.db) === id || (store.runs.activeRunId() !== null && groupingModelId(store) === id)) {
        throw new ApiError('conflict', 'this library uses that model: switch to another one first');
      }
      if (!registry.remove(id)) throw new ApiError('not-found', `model ${id} not found`);
      changed();
      return { ok: true };
    },
    async useModel({ id, groups }) {
      requireIdle(jobs);
      const model = spec(id);
      const modelId = model?.id ?? BACKBONE.id;
      setLibraryModelId(store.db, modelId);
      changed();
      // Embeds what this model lacks (per batch: a cancelled switch resumes where it stopped),
      // then groups with its features; the grouping on screen stays until the new one is made.
      return jobs.start('switch-model', async (signal, update) => {
        await ctx.models.close();
        const summary = await runClusterJob({
          store,
          model,
          index: true,
          k: groups ?? null,
          workers: ctx.workers,
          signal,
          onProgress: (phases, phase) => update({ phases, phase }),
        });
        if (summary.backend.choice !== 'none') ctx.lastBackend = summary.backend;
        return { summary };
      });
    },
    async downloadModel({ catalogId }) {
      requireIdle(jobs);
      const entry = MODEL_CATALOG.find((e) => e.id === catalogId);
      if (!entry) throw new ApiError('not-found', `no model "${catalogId}" in the catalogue`);
      return jobs.start('download-model', async (signal, update) => {
        const started = Date.now();
        const folder = await downloadModel(entry, {
          modelsDir: registry.dir,
          signal,
          onProgress: (p) => {
            const seconds = (Date.now() - started) / 1000;
            const rate = seconds > 0 ? p.done / seconds : null;
            update({
              phase: 'download',
              phases: [{ name: 'download', done: p.done, total: p.total, rate, etaSeconds: rate ? (p.total - p.done) / rate : null }],
            });
          },
        });
        update({ phase: 'verify', phases: [{ name: 'verify', done: 0, total: 1, rate: null, etaSeconds: null }] });
        const added = await addModelFolder(folder, { registry, client: ctx.models, source: { kind: 'download', catalogId: entry.id } });
        changed();
        return { model: info(added.spec) };
      });
    },
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
        const { modelId, results } = await searchByText({ store, registry, client: ctx.models, index: ctx.search }, text, {
          limit,
          allowed,
        });
        const items = results.flatMap((r) => {
          const d = store.images.detail(r.imageId);
          if (!d || d.status !== 'ok') return [];
          return [
            {
              id: d.id,
              name: d.name,
              groupId: shownGroupId(d.assignment, t),
              confidence: d.assignment?.confidence ?? null,
              pinned: d.assignment?.pinned ?? false,
              width: d.displayWidth,
              height: d.displayHeight,
              takenAt: d.takenAt === null ? null : new Date(d.takenAt).toISOString(),
              score: r.score,
            },
          ];
        });
        return { items, model: modelId };
      } catch (err) {
        return asApiError(err);
      }
    },
    async suggestGroupNames() {
      if (store.runs.activeRunId() === null) return { suggestions: [], model: null };
      const { modelId, suggestions } = groupNameSuggestions({ store, registry, index: ctx.search });
      return {
        model: modelId,
        suggestions: suggestions.map((s) => ({ groupId: s.groupId, name: s.name, score: s.score, margin: s.margin })),
      };
    },
  };
}
