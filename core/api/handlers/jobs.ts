/** Jobs: grouping, regrouping and placing new images, one at a time, and the app's status. */
import type { ApiHandlers, JobState } from '../../shared/contract.js';
import { packageVersion } from '../../app/paths.js';
import { deviceOf } from '../../embed/backendNames.js';
import { ApiError } from '../../shared/client.js';
import { resolveModel as resolve, UnknownModelError } from '../../embed/models/manage.js';
import { runClusterJob } from '../../jobs/grouping/clusterJob.js';
import { groupingModelId } from '../../jobs/grouping/groupingModel.js';
import { getLibraryModelId } from '../../jobs/indexing/modelChoice.js';
import { placeNewImages } from '../../jobs/grouping/placeNew.js';
import { requireIdle, type ServiceContext } from '../context.js';

/** The model a job embeds with; a model no longer registered is the user's to fix, with the reason. */
function resolveModel(...args: Parameters<typeof resolve>): ReturnType<typeof resolve> {
  try {
    return resolve(...args);
  } catch (err) {
    if (err instanceof UnknownModelError) throw new ApiError('conflict', err.message);
    throw err;
  }
}

export type JobHandlers = Pick<ApiHandlers, 'getStatus' | 'startClustering' | 'recluster' | 'placeNewImages' | 'cancelJob' | 'getJob'>;

/** Places what is new in the libraries in the current groups (the job behind Place new images and watched folders). */
export function startPlaceNew(ctx: ServiceContext): JobState {
  const model = resolveModel(ctx.registry, groupingModelId(ctx.store));
  return ctx.jobs.start('place-new', async (signal, update) => {
    await ctx.models.close();
    const placed = await placeNewImages({
      store: ctx.store,
      model,
      active: ctx.active,
      workers: ctx.workers,
      signal,
      onProgress: (phases, phase) => update({ phases, phase }),
    });
    return { placed };
  });
}

export function jobHandlers(ctx: ServiceContext): JobHandlers {
  const { store, jobs } = ctx;
  const startCluster = (
    kind: 'cluster' | 'recluster',
    input: { libraryIds?: number[]; groups?: number | null; seed?: number },
  ): JobState => {
    requireIdle(jobs);
    // A new grouping embeds with the library's model; a regroup of the current one keeps its model.
    const model = resolveModel(ctx.registry, kind === 'cluster' ? getLibraryModelId(store.db) : groupingModelId(store));
    return jobs.start(kind, async (signal, update) => {
      await ctx.models.close();
      const summary = await runClusterJob({
        store,
        model,
        index: kind === 'cluster',
        libraryIds: input.libraryIds,
        k: input.groups ?? null,
        seed: input.seed ?? 0,
        workers: ctx.workers,
        signal,
        onProgress: (phases, phase) => update({ phases, phase }),
      });
      if (summary.backend.choice !== 'none') ctx.lastBackend = summary.backend;
      return { summary };
    });
  };
  return {
    async getStatus() {
      const run = store.runs.activeRun();
      return {
        version: packageVersion(),
        dbPath: store.db.file,
        // before this process has run a job: the backend of the run on screen, and its device
        backend:
          ctx.lastBackend ??
          (run?.backend
            ? { choice: run.backend, device: typeof run.params.device === 'string' ? run.params.device : deviceOf(run.backend) }
            : null),
        job: jobs.state,
        unsortedThreshold: ctx.threshold(),
        hasRun: run !== null,
      };
    },
    async startClustering(input) {
      return startCluster('cluster', input);
    },
    async recluster(input) {
      ctx.requireRun();
      return startCluster('recluster', input);
    },
    async placeNewImages() {
      ctx.requireRun();
      requireIdle(jobs);
      return startPlaceNew(ctx);
    },
    async cancelJob({ jobId }) {
      return { ok: jobs.cancel(jobId) };
    },
    async getJob() {
      return jobs.state;
    },
  };
}
