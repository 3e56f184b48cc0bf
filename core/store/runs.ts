/**
 * Runs: one clustering run (parameters, backend, timings, metrics, status) and
 * its trained head weights (so new images can be assigned without retraining).
 * The "active run" is the one whose groups the UI shows; it changes only via
 * EditsRepository.recluster() so that switching is undoable.
 */
import type { Database } from './database.js';
import { StoreNotFoundError, StoreUsageError } from './errors.js';

export type RunStatus = 'running' | 'done' | 'failed' | 'cancelled';

export interface Run {
  id: number;
  kind: string;
  libraryId: number | null;
  model: string | null;
  k: number | null;
  params: Record<string, unknown>;
  backend: string | null;
  timings: Record<string, unknown>;
  metrics: Record<string, unknown>;
  status: RunStatus;
  error: string | null;
  startedAt: number;
  finishedAt: number | null;
}

export interface NewRun {
  kind?: string;
  libraryId?: number | null;
  model?: string | null;
  k?: number | null;
  params?: Record<string, unknown>;
  backend?: string | null;
}

export interface RunModel {
  format: string;
  meta: Record<string, unknown>;
  data: Buffer;
}

interface RunRow {
  id: number;
  kind: string;
  libraryId: number | null;
  model: string | null;
  k: number | null;
  params: string;
  backend: string | null;
  timings: string;
  metrics: string;
  status: RunStatus;
  error: string | null;
  startedAt: number;
  finishedAt: number | null;
}

const COLUMNS = `id, kind, library_id AS libraryId, model, k, params_json AS params, backend, timings_json AS timings,
  metrics_json AS metrics, status, error, started_at AS startedAt, finished_at AS finishedAt`;

const ACTIVE_RUN_KEY = 'active_run_id';

function parse(r: RunRow): Run {
  return {
    ...r,
    params: JSON.parse(r.params) as Record<string, unknown>,
    timings: JSON.parse(r.timings) as Record<string, unknown>,
    metrics: JSON.parse(r.metrics) as Record<string, unknown>,
  };
}

export function getActiveRunId(db: Database): number | null {
  const v = db.getState(ACTIVE_RUN_KEY);
  return v === null ? null : Number(v);
}

/** Internal: only EditsRepository switches the active run (as an undoable edit). */
export function setActiveRunId(db: Database, runId: number | null): void {
  db.setState(ACTIVE_RUN_KEY, runId === null ? null : String(runId));
}

export class RunsRepository {
  constructor(private readonly db: Database) {}

  create(run: NewRun = {}): Run {
    return this.db.write(() => {
      const r = this.db
        .stmt(
          `INSERT INTO runs (kind, library_id, model, k, params_json, backend, status, started_at)
           VALUES (?, ?, ?, ?, ?, ?, 'running', ?)`,
        )
        .run(
          run.kind ?? 'cluster',
          run.libraryId ?? null,
          run.model ?? null,
          run.k ?? null,
          JSON.stringify(run.params ?? {}),
          run.backend ?? null,
          Date.now(),
        );
      return this.get(Number(r.lastInsertRowid))!;
    });
  }

  get(id: number): Run | null {
    const r = this.db.stmt<RunRow>(`SELECT ${COLUMNS} FROM runs WHERE id = ?`).get(id);
    return r ? parse(r) : null;
  }

  /** Newest first. */
  list(options: { limit?: number; status?: RunStatus } = {}): Run[] {
    return this.db
      .stmt<RunRow>(`SELECT ${COLUMNS} FROM runs WHERE (? IS NULL OR status = ?) ORDER BY id DESC LIMIT ?`)
      .all(options.status ?? null, options.status ?? null, options.limit ?? 100)
      .map(parse);
  }

  /** Replace the given JSON fields / backend while the run is going (progressive timings). */
  update(
    id: number,
    fields: {
      timings?: Record<string, unknown>;
      metrics?: Record<string, unknown>;
      backend?: string | null;
      params?: Record<string, unknown>;
    },
  ): void {
    this.db.write(() => {
      const cur = this.get(id);
      if (!cur) throw new StoreNotFoundError(`No run ${id}`);
      this.db
        .stmt('UPDATE runs SET timings_json = ?, metrics_json = ?, backend = ?, params_json = ? WHERE id = ?')
        .run(
          JSON.stringify(fields.timings ?? cur.timings),
          JSON.stringify(fields.metrics ?? cur.metrics),
          fields.backend === undefined ? cur.backend : fields.backend,
          JSON.stringify(fields.params ?? cur.params),
          id,
        );
    });
  }

  finish(
    id: number,
    result: {
      status: Exclude<RunStatus, 'running'>;
      error?: string | null;
      timings?: Record<string, unknown>;
      metrics?: Record<string, unknown>;
    },
  ): void {
    this.db.write(() => {
      if (result.timings || result.metrics) this.update(id, { timings: result.timings, metrics: result.metrics });
      const r = this.db
        .stmt('UPDATE runs SET status = ?, error = ?, finished_at = ? WHERE id = ?')
        .run(result.status, result.error ?? null, Date.now(), id);
      if (r.changes === 0) throw new StoreNotFoundError(`No run ${id}`);
    });
  }

  /**
   * Runs left 'running' by a killed process become 'failed' ('interrupted').
   * Call at startup while holding the instance lock.
   */
  markInterrupted(): number {
    return this.db.write(
      () =>
        this.db.stmt(`UPDATE runs SET status = 'failed', error = 'interrupted', finished_at = ? WHERE status = 'running'`).run(Date.now())
          .changes,
    );
  }

  /** Store the trained head (weights etc.) of a run. */
  saveModel(runId: number, model: { format: string; meta?: Record<string, unknown>; data: Uint8Array }): void {
    this.db.write(() => {
      this.db
        .stmt(
          `INSERT INTO run_models (run_id, format, meta_json, data, created_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (run_id) DO UPDATE SET format = excluded.format, meta_json = excluded.meta_json,
             data = excluded.data, created_at = excluded.created_at`,
        )
        .run(
          runId,
          model.format,
          JSON.stringify(model.meta ?? {}),
          Buffer.from(model.data.buffer, model.data.byteOffset, model.data.byteLength),
          Date.now(),
        );
    });
  }

  loadModel(runId: number): RunModel | null {
    const r = this.db
      .stmt<{ format: string; meta: string; data: Buffer }>('SELECT format, meta_json AS meta, data FROM run_models WHERE run_id = ?')
      .get(runId);
    return r ? { format: r.format, meta: JSON.parse(r.meta) as Record<string, unknown>, data: r.data } : null;
  }

  /** Whether the run has a saved model (without reading its blob). */
  hasModel(runId: number): boolean {
    return this.db.stmt('SELECT 1 FROM run_models WHERE run_id = ?').get(runId) !== undefined;
  }

  activeRunId(): number | null {
    return getActiveRunId(this.db);
  }

  activeRun(): Run | null {
    const id = this.activeRunId();
    return id === null ? null : this.get(id);
  }

  /**
   * Delete a run with its groups, assignments and model. Refuses the active run
   * and runs referenced by the edit history (their undo would break).
   */
  delete(id: number): void {
    this.db.write(() => {
      if (this.activeRunId() === id) throw new StoreUsageError('The active run cannot be deleted');
      const referenced = this.db.stmt('SELECT 1 FROM edits WHERE run_id = ? OR ref_run_id = ? LIMIT 1').get(id, id);
      if (referenced) throw new StoreUsageError(`Run ${id} is referenced by the edit history`);
      this.db.stmt('DELETE FROM runs WHERE id = ?').run(id);
    });
  }
}
