/**
 * Runs one long job at a time (cluster, re-cluster, split) for the UI, publishing its state as
 * events. The heavy parts run in worker threads; this class only orchestrates.
 */
import { randomUUID } from 'node:crypto';
import type { JobState } from '../shared/contract.js';

export type JobKind = JobState['kind'];

export class JobRunner {
  private current: { state: JobState; controller: AbortController; done: Promise<void> } | null = null;

  constructor(private readonly publish: (job: JobState) => void) {}

  get state(): JobState | null {
    return this.current?.state ?? null;
  }

  get busy(): boolean {
    return this.current?.state.status === 'running';
  }

  /**
   * Starts `work` unless a job is running. `work` reports progress through `update` and
   * resolves to what it did (a run's summary, a placement's), or null.
   */
  start(
    kind: JobKind,
    work: (
      signal: AbortSignal,
      update: (patch: Partial<Pick<JobState, 'phase' | 'phases'>>) => void,
    ) => Promise<Pick<JobState, 'summary' | 'placed' | 'model'> | null>,
  ): JobState {
    if (this.busy) throw new Error('another job is running');
    const controller = new AbortController();
    const state: JobState = { id: randomUUID(), kind, status: 'running', phase: null, phases: [], startedAt: new Date().toISOString() };
    let lastPublish = 0;
    const update = (patch: Partial<Pick<JobState, 'phase' | 'phases'>>) => {
      Object.assign(state, patch);
      // Progress can tick thousands of times a second: at most ~10 events a second.
      const now = Date.now();
      if (now - lastPublish > 100 || patch.phase !== undefined) {
        lastPublish = now;
        this.publish({ ...state });
      }
    };
    const done = work(controller.signal, update)
      .then(
        (outcome) => {
          state.status = 'done';
          if (outcome) Object.assign(state, outcome);
        },
        (err: unknown) => {
          const aborted = controller.signal.aborted || (err as { name?: string })?.name === 'AbortError';
          state.status = aborted ? 'cancelled' : 'failed';
          if (!aborted) state.error = err instanceof Error ? err.message : String(err);
        },
      )
      .finally(() => this.publish({ ...state }));
    this.current = { state, controller, done };
    this.publish({ ...state });
    return { ...state };
  }

  cancel(jobId: string): boolean {
    if (!this.current || this.current.state.id !== jobId || !this.busy) return false;
    this.current.controller.abort();
    return true;
  }

  /** Resolves when the current job (if any) has ended. */
  async idle(): Promise<void> {
    await this.current?.done;
  }
}
