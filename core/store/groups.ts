/**
 * Groups and assignments.
 *
 * Every run owns its groups and its assignment rows (run_id, image_id) ->
 * (group_id | NULL, confidence, pinned). The UI shows the *active* run. The
 * engine writes a new run's groups/assignments here in per-batch transactions
 * while the UI keeps editing the active run; EditsRepository.recluster() then
 * switches over (carrying pins and user names). All user changes go through
 * EditsRepository (undoable); the writes here are engine/system writes.
 *
 * Browsing (group contents, Unsorted, summaries) is BrowseRepository's (browse.ts); which images
 * are Unsorted is unsorted.ts's rule.
 */
import type { Database } from './database.js';
import { getActiveRunId } from './runs.js';

export type GroupOrigin = 'run' | 'user';

export interface Group {
  id: number;
  runId: number;
  clusterIndex: number | null;
  name: string;
  origin: GroupOrigin;
  userNamed: boolean;
  /** Palette slot: the group's colour on the map, kept through re-clustering with its name. */
  color: number;
  createdAt: number;
}

export interface AssignmentInput {
  imageId: number;
  groupId: number | null;
  confidence: number;
}

export interface Assignment {
  runId: number;
  imageId: number;
  groupId: number | null;
  confidence: number;
  pinned: boolean;
}

export const GROUP_COLUMNS = `g.id, g.run_id AS runId, g.cluster_index AS clusterIndex, g.name, g.origin,
  g.user_named AS userNamed, COALESCE(g.color, g.id) AS color, g.created_at AS createdAt`;

type GroupDbRow = Omit<Group, 'userNamed'> & { userNamed: number };
const toGroup = (r: GroupDbRow): Group => ({ ...r, userNamed: r.userNamed === 1 });

export class GroupsRepository {
  constructor(private readonly db: Database) {}

  private runOrActive(runId: number | undefined): number | null {
    return runId ?? getActiveRunId(this.db);
  }

  // ---- engine / system writes -------------------------------------------------

  /** Create the groups of a (new) run; returns their ids in input order. One transaction. */
  createRunGroups(runId: number, clusters: ReadonlyArray<{ clusterIndex: number; name?: string }>): number[] {
    const ins = this.db.stmt(
      `INSERT INTO groups (run_id, cluster_index, name, origin, user_named, color, created_at) VALUES (?, ?, ?, 'run', 0, ?, ?)`,
    );
    return this.db.write(() => {
      const now = Date.now();
      // Slot = cluster index until EditsRepository.recluster() hands the old groups' colours on.
      return clusters.map((c) => Number(ins.run(runId, c.clusterIndex, c.name ?? '', c.clusterIndex, now).lastInsertRowid));
    });
  }

  /**
   * Write a batch of assignments of a run (one transaction). Rows the user
   * pinned are left alone. Use per batch while a run writes its results, and for
   * assigning new images to the active run with its stored head.
   */
  writeAssignments(runId: number, rows: readonly AssignmentInput[]): void {
    if (rows.length === 0) return;
    const up = this.db.stmt(
      `INSERT INTO assignments (run_id, image_id, group_id, confidence, pinned) VALUES (?, ?, ?, ?, 0)
       ON CONFLICT (run_id, image_id) DO UPDATE SET group_id = excluded.group_id, confidence = excluded.confidence
       WHERE pinned = 0`,
    );
    this.db.write(() => {
      for (const r of rows) up.run(runId, r.imageId, r.groupId, r.confidence);
    });
  }

  /** Map cluster index -> group id for a run (groups the engine created). */
  groupIdsByCluster(runId: number): Map<number, number> {
    const rows = this.db
      .stmt<{ clusterIndex: number; id: number }>(
        `SELECT cluster_index AS clusterIndex, id FROM groups WHERE run_id = ? AND cluster_index IS NOT NULL ORDER BY id`,
      )
      .all(runId);
    const m = new Map<number, number>();
    for (const r of rows) if (!m.has(r.clusterIndex)) m.set(r.clusterIndex, r.id);
    return m;
  }

  /** Usable images with no assignment row in the run (to assign with the run's stored head). */
  imagesWithoutAssignment(runId: number, options: { limit?: number; afterImageId?: number } = {}): number[] {
    return this.db
      .stmt<{ id: number }>(
        `SELECT i.id FROM images i WHERE i.status = 'ok' AND i.id > ?
           AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.run_id = ? AND a.image_id = i.id)
         ORDER BY i.id LIMIT ?`,
      )
      .all(options.afterImageId ?? 0, runId, options.limit ?? 1024)
      .map((r) => r.id);
  }

  // ---- reads ------------------------------------------------------------------

  get(groupId: number): Group | null {
    const r = this.db.stmt<GroupDbRow>(`SELECT ${GROUP_COLUMNS} FROM groups g WHERE g.id = ?`).get(groupId);
    return r ? toGroup(r) : null;
  }

  /** All groups of a run (default: the active run), by id. */
  list(runId?: number): Group[] {
    const run = this.runOrActive(runId);
    if (run === null) return [];
    return this.db.stmt<GroupDbRow>(`SELECT ${GROUP_COLUMNS} FROM groups g WHERE g.run_id = ? ORDER BY g.id`).all(run).map(toGroup);
  }

  assignment(imageId: number, runId?: number): Assignment | null {
    const run = this.runOrActive(runId);
    if (run === null) return null;
    const r = this.db
      .stmt<{ groupId: number | null; confidence: number; pinned: number }>(
        'SELECT group_id AS groupId, confidence, pinned FROM assignments WHERE run_id = ? AND image_id = ?',
      )
      .get(run, imageId);
    return r ? { runId: run, imageId, groupId: r.groupId, confidence: r.confidence, pinned: r.pinned === 1 } : null;
  }

  /** All assignment rows of a run (e.g. pins as constraints for training). */
  listAssignments(runId: number, options: { pinnedOnly?: boolean } = {}): Assignment[] {
    return this.db
      .stmt<{ imageId: number; groupId: number | null; confidence: number; pinned: number }>(
        `SELECT image_id AS imageId, group_id AS groupId, confidence, pinned FROM assignments
         WHERE run_id = ? AND (? = 0 OR pinned = 1) ORDER BY image_id`,
      )
      .all(runId, options.pinnedOnly ? 1 : 0)
      .map((r) => ({ runId, imageId: r.imageId, groupId: r.groupId, confidence: r.confidence, pinned: r.pinned === 1 }));
  }
}
