/**
 * What every handler module of the service shares: the store, the one-job-at-a-time runner, the
 * active run's model, the event stream, and the small rules they all apply (a grouping must
 * exist, an edit answers with the history and tells the UI).
 */
import { EventEmitter } from 'node:events';
import type { ApiEvent, BackendInfo, HistoryState } from '../shared/contract.js';
import { ApiError } from '../shared/client.js';
import { ModelWorkerClient } from '../embed/models/modelClient.js';
import { ModelRegistry } from '../embed/models/registry.js';
import { ActiveModel } from '../jobs/grouping/activeModel.js';
import { JobRunner } from '../runtime/jobRunner.js';
import type { Store } from '../store/index.js';
import { getUnsortedThreshold } from '../store/unsorted.js';

export interface ServiceOptions {
  store: Store;
  /** Worker threads for decode+embed (default: one per core). */
  workers?: number;
  /** The registered models' folder (core/embed/models/registry.ts; default: in the app-data folder). */
  modelsDir?: string;
}

export interface ServiceContext {
  readonly store: Store;
  readonly workers: number | undefined;
  readonly events: EventEmitter;
  readonly jobs: JobRunner;
  readonly active: ActiveModel;
  /** Registered models and the worker that opens their graphs outside jobs (checks, encoding text queries). */
  readonly registry: ModelRegistry;
  readonly models: ModelWorkerClient;
  /** The backend of the last job this process ran (null before the first). */
  lastBackend: BackendInfo | null;
  emit(event: ApiEvent): void;
  /** Runs `listener` whenever a job ends (its results change what caches hold). */
  onJobEnded(listener: () => void): void;
  threshold(): number;
  /** The active run's id; not-found (with what to do) when nothing was grouped yet. */
  requireRun(): number;
  history(): HistoryState;
  /** After an edit: the UI refetches groups and history; the answer carries the history. */
  edited<T extends object>(value: T): T & HistoryState;
}

export function notFound(what: string): never {
  throw new ApiError('not-found', `${what} not found`);
}

export function requireIdle(jobs: JobRunner, message = 'a job is already running'): void {
  if (jobs.busy) throw new ApiError('busy', message);
}

export function createContext(options: ServiceOptions): ServiceContext {
  const { store } = options;
  const events = new EventEmitter();
  const emit = (e: ApiEvent) => events.emit('event', e);
  const active = new ActiveModel(store);
  const jobEnded: Array<() => void> = [];
  const jobs = new JobRunner((job) => {
    if (job.status !== 'running') {
      active.invalidate();
      for (const listener of jobEnded) listener();
      emit({ type: 'changed', what: 'groups' });
      emit({ type: 'changed', what: 'libraries' });
    }
    emit({ type: 'job', job });
  });
  const history = (): HistoryState => {
    const u = store.edits.nextUndo();
    const r = store.edits.nextRedo();
    return { canUndo: u !== null, canRedo: r !== null, undoId: u?.id ?? null, undoLabel: u?.label ?? null, redoLabel: r?.label ?? null };
  };
  return {
    store,
    workers: options.workers,
    events,
    jobs,
    active,
    registry: new ModelRegistry(options.modelsDir),
    models: new ModelWorkerClient(),
    lastBackend: null,
    emit,
    onJobEnded: (listener) => void jobEnded.push(listener),
    threshold: () => getUnsortedThreshold(store.db),
    requireRun: () => store.runs.activeRunId() ?? notFound('a grouping (run "Scan and cluster" first)'),
    history,
    edited(value) {
      emit({ type: 'changed', what: 'groups' });
      emit({ type: 'changed', what: 'history' });
      return { ...value, ...history() };
    },
  };
}
