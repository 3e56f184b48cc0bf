/**
 * Models: the registered image encoders, adding one from a folder or downloading a known one,
 * and switching the library to one (a regroup that embeds what is missing first). Text search
 * and suggested names, with a CLIP-like model, are in ./textSearch.ts.
 */
import type { ApiHandlers, CatalogModel, JobState, ModelInfo, ModelsState } from '../../shared/contract.js';
import { ApiError } from '../../shared/client.js';
import { BACKBONE } from '../../embed/backboneInfo.js';
import { catalogBaseUrl, DownloadError, downloadModel, fileUrl, MODEL_CATALOG } from '../../embed/models/download.js';
import { addModelFolder, describeModel, resolveModel, UnknownModelError } from '../../embed/models/manage.js';
import { ModelRegistry } from '../../embed/models/registry.js';
import { ModelFolderError, type ModelSpec } from '../../embed/models/spec.js';
import { runClusterJob } from '../../jobs/grouping/clusterJob.js';
import { groupingModelId } from '../../jobs/grouping/groupingModel.js';
import { getLibraryModelId, setLibraryModelId } from '../../jobs/indexing/modelChoice.js';
import { TextSearchUnavailableError } from '../../jobs/search/modelSearch.js';
import { requireIdle, type ServiceContext } from '../context.js';

export type ModelHandlers = Pick<ApiHandlers, 'listModels' | 'addModel' | 'removeModel' | 'useModel' | 'downloadModel'>;

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

/** The models' errors a user can act on, as the API's. */
export function asApiError(err: unknown): never {
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
      return modelsState(ctx);
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
          onProgress: (p) => update(downloadProgress(p, started)),
        });
        update({ phase: 'verify', phases: [{ name: 'verify', done: 0, total: 1, rate: null, etaSeconds: null }] });
        const added = await addModelFolder(folder, { registry, client: ctx.models, source: { kind: 'download', catalogId: entry.id } });
        changed();
        return { model: info(added.spec) };
      });
    },
  };
}

/** The registered models (the built-in first), which the library and its grouping use, and the catalogue. */
function modelsState({ store, registry }: ServiceContext): ModelsState {
  const registered = registry.list();
  const grouping = store.runs.activeRunId() === null ? null : groupingModelId(store);
  const catalog = catalogModels(registered);
  const state: ModelsState = {
    models: [info(null), ...registered.map((r) => info(r.spec, !ModelRegistry.present(r)))],
    libraryModel: getLibraryModelId(store.db),
    groupingModel: grouping,
    catalog,
    modelsDir: registry.dir,
    calibrationNote: calibrationNote(grouping),
  };
  return state;
}

/** The catalogue of downloadable models, marking those already downloaded. */
function catalogModels(registered: ReturnType<ModelRegistry['list']>): CatalogModel[] {
  return MODEL_CATALOG.map((e) => ({
    id: e.id,
    name: e.name,
    licence: e.licence,
    approxBytes: e.approxBytes,
    text: e.text,
    about: e.about,
    urls: e.files.map((f) => fileUrl(e, f, catalogBaseUrl())),
    installed: registered.some((r) => r.source.kind === 'download' && r.source.catalogId === e.id),
  }));
}

/** A download's progress, with its rate and time left from the bytes so far since `started` (ms). */
function downloadProgress(p: { done: number; total: number }, started: number): Pick<JobState, 'phase' | 'phases'> {
  const seconds = (Date.now() - started) / 1000;
  const rate = seconds > 0 ? p.done / seconds : null;
  return {
    phase: 'download',
    phases: [{ name: 'download', done: p.done, total: p.total, rate, etaSeconds: rate ? (p.total - p.done) / rate : null }],
  };
}
