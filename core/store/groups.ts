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
 * Unsorted: an image of the active run is unsorted when it has no assignment
 * row (never assigned), its group_id is NULL (the user removed it from its
 * group; kept with pinned = 1 so re-clustering does not put it back), or, in
 * queries with a threshold, its confidence is below it and it is not pinned.
 */
import type { Database } from './database.js';
import { StoreUsageError } from './errors.js';
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

export interface GroupSummary extends Group {
  count: number;
  pinnedCount: number;
  /** Mean confidence of the group's images (null when empty). */
  meanConfidence: number | null;
  /** Highest-confidence image ids ("most typical"), best first. */
  typicalImageIds: number[];
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

export type GroupImageSort = 'confidence-desc' | 'confidence-asc' | 'name' | 'date' | 'date-desc';

export interface GroupImage {
  id: number;
  libraryId: number;
  relPath: string;
  name: string;
  status: string;
  thumbPath: string | null;
  displayWidth: number | null;
  displayHeight: number | null;
  takenAt: number | null;
  mtimeMs: number;
  confidence: number;
  pinned: boolean;
}

export type UnsortedReason = 'unassigned' | 'removed' | 'low-confidence';

export interface UnsortedImage extends Omit<GroupImage, 'confidence' | 'pinned'> {
  reason: UnsortedReason;
  groupId: number | null;
  confidence: number | null;
}

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; null at the end. */
  nextCursor: string | null;
}

/** Images shown in groups: decoded (or being re-decoded after a change); not missing/skipped. */
export const VISIBLE = `i.status IN ('ok', 'pending')`;

export const GROUP_COLUMNS = `g.id, g.run_id AS runId, g.cluster_index AS clusterIndex, g.name, g.origin,
  g.user_named AS userNamed, COALESCE(g.color, g.id) AS color, g.created_at AS createdAt`;

type GroupDbRow = Omit<Group, 'userNamed'> & { userNamed: number };
const toGroup = (r: GroupDbRow): Group => ({ ...r, userNamed: r.userNamed === 1 });

const IMAGE_PAGE_COLUMNS = `i.id, i.library_id AS libraryId, i.rel_path AS relPath, i.name, i.status, i.thumb_path AS thumbPath,
  i.display_width AS displayWidth, i.display_height AS displayHeight, i.taken_at AS takenAt, i.mtime_ms AS mtimeMs`;

const SORTS: Record<GroupImageSort, { key: string; desc: boolean }> = {
  'confidence-desc': { key: 'a.confidence', desc: true },
  'confidence-asc': { key: 'a.confidence', desc: false },
  name: { key: 'i.name', desc: false },
  date: { key: 'COALESCE(i.taken_at, i.mtime_ms)', desc: false },
  'date-desc': { key: 'COALESCE(i.taken_at, i.mtime_ms)', desc: true },
};

function encodeCursor(value: unknown, id: number): string {
  return Buffer.from(JSON.stringify([value, id])).toString('base64url');
}

function decodeCursor(cursor: string): [string | number, number] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[1] === 'number' && (typeof v[0] === 'number' || typeof v[0] === 'string')) {
      return [v[0], v[1]];
    }
  } catch {
    /* fall through */
  }
  throw new StoreUsageError('Invalid page cursor');
}

const NAMES = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/**
 * Group names in natural order, case-insensitive: "Group 2" before "Group 10" (SQLite's
 * NOCASE compares digit by digit), ties by id. For every list of groups sorted by name.
 */
export function compareGroupNames(a: { name: string; id: number }, b: { name: string; id: number }): number {
  return NAMES.compare(a.name, b.name) || a.id - b.id;
}

function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

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

  /**
   * Groups of the active run (or `runId`) with counts, mean confidence, pinned
   * count and the `typical` highest-confidence image ids. Missing/skipped images
   * are not counted. Empty groups are left out unless `includeEmpty`. With
   * `threshold`, unpinned images below it count as Unsorted, not in their group.
   */
  listSummaries(
    options: {
      runId?: number;
      typical?: number;
      includeEmpty?: boolean;
      query?: string;
      sort?: 'size' | 'name' | 'id';
      limit?: number;
      threshold?: number;
    } = {},
  ): GroupSummary[] {
    const run = this.runOrActive(options.runId);
    if (run === null) return [];
    const typical = options.typical ?? 4;
    // By name: sorted here (natural order, see compareGroupNames), so the LIMIT applies after it.
    const byName = options.sort === 'name';
    const order = byName || options.sort === 'id' ? 'g.id' : 'count DESC, g.id';
    return this.db.read(() => {
      // Totals come from the covering index on assignments(group_id, confidence, image_id, pinned);
      // the few rows of missing/skipped images are subtracted (cheaper than joining every row).
      const rows = this.db
        .stmt<GroupDbRow & { count: number; pinnedCount: number; meanConfidence: number | null }>(
          `WITH t AS (
             SELECT a.group_id AS gid, count(*) AS n, total(a.confidence) AS s, total(a.pinned) AS p
             FROM assignments a WHERE a.group_id IN (SELECT id FROM groups WHERE run_id = @run)
               AND (a.pinned = 1 OR a.confidence >= @threshold)
             GROUP BY a.group_id
           ), h AS (
             SELECT a.group_id AS gid, count(*) AS n, total(a.confidence) AS s, total(a.pinned) AS p
             FROM images i JOIN assignments a ON a.run_id = @run AND a.image_id = i.id
             WHERE i.status IN ('missing', 'skipped') AND a.group_id IS NOT NULL
               AND (a.pinned = 1 OR a.confidence >= @threshold)
             GROUP BY a.group_id
           ), c AS (
             SELECT t.gid, t.n - COALESCE(h.n, 0) AS n, t.s - COALESCE(h.s, 0) AS s, t.p - COALESCE(h.p, 0) AS p
             FROM t LEFT JOIN h ON h.gid = t.gid
           )
           SELECT ${GROUP_COLUMNS}, COALESCE(c.n, 0) AS count, CAST(COALESCE(c.p, 0) AS INTEGER) AS pinnedCount,
             CASE WHEN c.n > 0 THEN c.s / c.n END AS meanConfidence
           FROM groups g LEFT JOIN c ON c.gid = g.id
           WHERE g.run_id = @run AND (@includeEmpty = 1 OR c.n > 0)
             AND (@pattern IS NULL OR g.name LIKE @pattern ESCAPE '\\')
           ORDER BY ${order} LIMIT @limit`,
        )
        .all({
          run,
          includeEmpty: options.includeEmpty ? 1 : 0,
          pattern: options.query === undefined ? null : likePattern(options.query),
          limit: byName ? -1 : (options.limit ?? -1),
          threshold: options.threshold ?? -Infinity,
        });
      const listed = byName ? rows.sort(compareGroupNames).slice(0, options.limit !== undefined && options.limit >= 0 ? options.limit : undefined) : rows;
      const top = this.db.stmt<{ id: number }>(
        `SELECT a.image_id AS id FROM assignments a JOIN images i ON i.id = a.image_id
         WHERE a.run_id = ? AND a.group_id = ? AND ${VISIBLE} AND (a.pinned = 1 OR a.confidence >= ?)
         ORDER BY a.confidence DESC, a.image_id DESC LIMIT ?`,
      );
      const threshold = options.threshold ?? -Infinity;
      return listed.map((r) => ({
        ...toGroup(r),
        count: r.count,
        pinnedCount: r.pinnedCount,
        meanConfidence: r.meanConfidence,
        typicalImageIds: typical > 0 && r.count > 0 ? top.all(run, r.id, threshold, typical).map((t) => t.id) : [],
      }));
    });
  }

  /** Groups of the active run whose name contains `query` (case-insensitive). */
  search(query: string, options: { limit?: number; typical?: number } = {}): GroupSummary[] {
    return this.listSummaries({ query, includeEmpty: true, sort: 'name', limit: options.limit ?? 50, typical: options.typical ?? 0 });
  }

  /** One page of a group's images (keyset pagination; stable under concurrent edits). */
  images(groupId: number, options: { sort?: GroupImageSort; limit?: number; cursor?: string | null } = {}): Page<GroupImage> {
    const group = this.get(groupId);
    if (!group) throw new StoreUsageError(`No group ${groupId}`);
    const sort = SORTS[options.sort ?? 'confidence-desc'];
    const limit = options.limit ?? 100;
    const dir = sort.desc ? 'DESC' : 'ASC';
    const cmp = sort.desc ? '<' : '>';
    const where = options.cursor ? `AND (${sort.key}, a.image_id) ${cmp} (?, ?)` : '';
    const params: unknown[] = [group.runId, groupId];
    if (options.cursor) params.push(...decodeCursor(options.cursor));
    params.push(limit + 1);
    const rows = this.db
      .stmt<Omit<GroupImage, 'pinned'> & { pinned: number; sortKey: string | number }>(
        `SELECT ${IMAGE_PAGE_COLUMNS}, a.confidence, a.pinned, ${sort.key} AS sortKey
         FROM assignments a JOIN images i ON i.id = a.image_id
         WHERE a.run_id = ? AND a.group_id = ? AND ${VISIBLE} ${where}
         ORDER BY ${sort.key} ${dir}, a.image_id ${dir} LIMIT ?`,
      )
      .all(...params);
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    const last = page[page.length - 1];
    return {
      items: page.map(({ sortKey: _k, pinned, ...r }) => ({ ...r, pinned: pinned === 1 })),
      nextCursor: more && last ? encodeCursor(last.sortKey, last.id) : null,
    };
  }

  /**
   * Unsorted images of the active run (or `runId`): never assigned, removed by
   * the user (group NULL), or, with `threshold`, unpinned with confidence below
   * it. By image id; walk forward with `afterImageId`.
   */
  unsorted(options: { runId?: number; threshold?: number; limit?: number; afterImageId?: number } = {}): UnsortedImage[] {
    const run = this.runOrActive(options.runId) ?? -1;
    return this.db
      .stmt<Omit<UnsortedImage, 'reason'> & { hasRow: number }>(
        `SELECT ${IMAGE_PAGE_COLUMNS}, a.group_id AS groupId, a.confidence, (a.image_id IS NOT NULL) AS hasRow
         FROM images i LEFT JOIN assignments a ON a.run_id = ? AND a.image_id = i.id
         WHERE i.status = 'ok' AND i.id > ?
           AND (a.image_id IS NULL OR a.group_id IS NULL OR (a.pinned = 0 AND a.confidence < ?))
         ORDER BY i.id LIMIT ?`,
      )
      .all(run, options.afterImageId ?? 0, options.threshold ?? -Infinity, options.limit ?? 200)
      .map(({ hasRow, ...r }) => ({
        ...r,
        reason: hasRow === 0 ? 'unassigned' : r.groupId === null ? 'removed' : 'low-confidence',
      }));
  }

  countUnsorted(options: { runId?: number; threshold?: number } = {}): number {
    const run = this.runOrActive(options.runId) ?? -1;
    return this.db
      .stmt<{ n: number }>(
        `SELECT count(*) AS n FROM images i LEFT JOIN assignments a ON a.run_id = ? AND a.image_id = i.id
         WHERE i.status = 'ok' AND (a.image_id IS NULL OR a.group_id IS NULL OR (a.pinned = 0 AND a.confidence < ?))`,
      )
      .get(run, options.threshold ?? -Infinity)!.n;
  }
}
