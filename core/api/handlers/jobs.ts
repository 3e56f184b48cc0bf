/** Jobs: grouping, regrouping and placing new images, one at a time, and the app's status. */
import type { ApiHandlers, JobState } from '../../shared/contract.js';
import { packageVersion } from '../../app/paths.js';
import { deviceOf } from '../../embed/backendNames.js';
import { runClusterJob } from '../../jobs/grouping/clusterJob.js';
import { placeNewImages } from '../../jobs/grouping/placeNew.js';
import { requireIdle, type ServiceContext } from '../context.js';

export type JobHandlers = Pick<ApiHandlers, 'getStatus' | 'startClustering' | 'recluster' | 'placeNewImages' | 'cancelJob' | 'getJob'>;

export function jobHandlers(ctx: ServiceContext): JobHandlers {
  const { store, jobs } = ctx;
  const startCluster = (kind: 'cluster' | 'recluster', input: { libraryIds?: number[]; groups?: number | null; seed?: number }): JobState => {
    requireIdle(jobs);
    return jobs.start(kind, async (signal, update) => {
      const summary = await runClusterJob({
        store,
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
        backend: ctx.lastBackend ?? (run?.backend ? { choice: run.backend, device: typeof run.params.device === 'string' ? run.params.device : deviceOf(run.backend) } : null),
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
      return jobs.start('place-new', async (signal, update) => {
        const placed = await placeNewImages({ store, model: ctx.active, workers: ctx.workers, signal, onProgress: (phases, phase) => update({ phases, phase }) });
        return { placed };
      });
    },
    async cancelJob({ jobId }) {
      return { ok: jobs.cancel(jobId) };
    },
    async getJob() {
      return jobs.state;
    },
  };
}
