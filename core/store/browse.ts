/**
 * Browsing the current grouping: group summaries, a group's images, Unsorted, the review queue.
 * The one repository for it; which images are Unsorted is unsorted.ts's rule.
 * Offset paging (the virtualized grid jumps anywhere in a 50,000-image group): the ordered id
 * list of a group is computed once and cached until the database changes (see `memo`), so a
 * page anywhere costs a 300-row primary-key lookup instead of an OFFSET scan plus a count.
 */
import type { Database } from './database.js';
import { getActiveRunId } from './runs.js';
import { IN_GROUP, UNSORTED, VISIBLE } from './unsorted.js';

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
  takenOffset: number | null;
  mtimeMs: number;
  confidence: number;
  pinned: boolean;
}

export interface BrowseGroupSummary {
  id: number;
  name: string;
  userNamed: boolean;
  /** Palette slot (see Group.color). */
  color: number;
  count: number;
  /** Over the images the model placed (not those the user pinned or moved); null when the user placed them all. */
  meanConfidence: number | null;
  /** Images the user placed (pinned or moved) here. */
  pinned: number;
  typicalImageIds: number[];
}

export type UnsortedRow = Omit<GroupImage, 'confidence' | 'pinned'> & {
  confidence: number | null;
  pinned: boolean;
  groupId: number | null;
};

const COLUMNS = `i.id, i.library_id AS libraryId, i.rel_path AS relPath, i.name, i.status, i.thumb_path AS thumbPath,
  i.display_width AS displayWidth, i.display_height AS displayHeight, i.taken_at AS takenAt, i.taken_offset AS takenOffset, i.mtime_ms AS mtimeMs`;

const ORDER: Record<GroupImageSort, string> = {
  // a.image_id (= i.id) so that the assignments_group index gives the order without a sort.
  'confidence-desc': 'a.confidence DESC, a.image_id DESC',
  'confidence-asc': 'a.confidence ASC, a.image_id ASC',
  name: 'i.name COLLATE NOCASE, i.id',
  date: 'COALESCE(i.taken_at, i.mtime_ms), i.id',
  'date-desc': 'COALESCE(i.taken_at, i.mtime_ms) DESC, i.id DESC',
};

const NAMES = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/**
 * Group names in natural order, case-insensitive: "Group 2" before "Group 10" (SQLite's
 * NOCASE compares digit by digit), ties by id. For every list of groups sorted by name.
 */
export function compareGroupNames(a: { name: string; id: number }, b: { name: string; id: number }): number {
  return NAMES.compare(a.name, b.name) || a.id - b.id;
}
const unsortedOrder = (sort: GroupImageSort = 'confidence-desc') => ORDER[sort].replace(/a\.confidence/g, 'COALESCE(a.confidence, 0)');

/** Cached results kept per repository (a few ordered id lists of big groups, group summaries). */
const MEMO_ENTRIES = 8;

export class BrowseRepository {
  private readonly cache = new Map<string, { version: string; value: unknown }>();

  constructor(private readonly db: Database) {}

  /**
   * A version of the whole database as seen by this connection: `PRAGMA data_version` changes
   * when another connection commits, `total_changes()` when this one writes. Read before the
   * query's snapshot, so a result cached under it is never newer-than-labelled in a way that
   * matters: any commit in between changes the version and the next call recomputes. null
   * inside an outer transaction (its writes could still be rolled back): no caching there.
   */
  private version(): string | null {
    if (this.db.inTransaction) return null;
    const dv = this.db.raw.pragma('data_version', { simple: true }) as number;
    const tc = this.db.stmt<{ n: number }>('SELECT total_changes() AS n').get()!.n;
    return `${dv}:${tc}`;
  }

  /** `compute()`, cached under `key` until the database changes (small LRU); `version` from version(). */
  private memo<T>(key: string, version: string | null, compute: () => T): T {
    if (version === null) return compute();
    const hit = this.cache.get(key);
    if (hit && hit.version === version) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit.value as T;
    }
    const value = compute();
    this.cache.delete(key);
    this.cache.set(key, { version, value });
    while (this.cache.size > MEMO_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    return value;
  }

  private run(runId?: number): number {
    return runId ?? getActiveRunId(this.db) ?? -1;
  }

  /**
   * The run's groups with images shown in them (count, mean confidence, the `typical` most
   * confident ids), largest first or by name; `query`: names containing it, any case.
   */
  groupSummaries(options: {
    runId?: number;
    threshold: number;
    typical?: number;
    query?: string;
    sort?: 'size' | 'name';
  }): BrowseGroupSummary[] {
    const run = this.run(options.runId);
    const t = options.threshold;
    const typical = options.typical ?? 4;
    const sort = options.sort ?? 'size';
    const version = this.version();
    const key = `summaries:${JSON.stringify([run, t, typical, options.query ?? null, sort])}`;
    return this.db.read(() => this.memo(key, version, () => this.computeSummaries(run, t, typical, sort, options.query)));
  }

  private computeSummaries(
    run: number,
    t: number,
    typical: number,
    sort: 'size' | 'name',
    query: string | undefined,
  ): BrowseGroupSummary[] {
    const rows = this.db
      .stmt<{ id: number; name: string; userNamed: number; color: number; n: number; mean: number | null; pinned: number }>(
        `SELECT g.id, g.name, g.user_named AS userNamed, COALESCE(g.color, g.id) AS color, c.n, c.mean, c.pinned
         FROM groups g JOIN (
           -- the mean of the model's own placements: an image the user put there is not 100% "sure"
           SELECT a.group_id AS gid, count(*) AS n, avg(CASE WHEN a.pinned = 0 THEN a.confidence END) AS mean, sum(a.pinned) AS pinned
           FROM assignments a JOIN images i ON i.id = a.image_id
           WHERE a.run_id = ? AND a.group_id IS NOT NULL AND ${IN_GROUP}
           GROUP BY a.group_id
         ) c ON c.gid = g.id
         WHERE g.run_id = ? AND (? IS NULL OR g.name LIKE ? ESCAPE '\\')
         ORDER BY ${sort === 'name' ? 'g.id' : 'n DESC, g.id'}`,
      )
      .all(run, t, run, query ?? null, query ? `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null);
    if (sort === 'name') rows.sort(compareGroupNames); // natural order: "Group 2" before "Group 10"
    const top = this.db.stmt<{ id: number }>(
      `SELECT a.image_id AS id FROM assignments a JOIN images i ON i.id = a.image_id
       WHERE a.run_id = ? AND a.group_id = ? AND ${IN_GROUP}
       ORDER BY a.confidence DESC, a.image_id DESC LIMIT ?`,
    );
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      userNamed: r.userNamed === 1,
      color: r.color,
      count: r.n,
      meanConfidence: r.mean,
      pinned: r.pinned,
      typicalImageIds: typical > 0 ? top.all(run, r.id, t, typical).map((x) => x.id) : [],
    }));
  }

  /**
   * Images with no row in the run: indexed since it was made (a folder added, or a run
   * cancelled after embedding some). They are in Unsorted until a regroup places them.
   * Cached until the database changes.
   */
  countUngrouped(options: { runId?: number } = {}): number {
    const run = this.run(options.runId);
    const version = this.version();
    return this.db.read(() =>
      this.memo(
        `ungrouped-count:${run}`,
        version,
        () =>
          this.db
            .stmt<{ n: number }>(
              `SELECT count(*) AS n FROM images i WHERE i.status = 'ok'
             AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.run_id = ? AND a.image_id = i.id)`,
            )
            .get(run)!.n,
      ),
    );
  }

  /** How many images are in Unsorted; cached until the database changes. */
  countUnsorted(options: { runId?: number; threshold: number }): number {
    const run = this.run(options.runId);
    const version = this.version();
    return this.db.read(() =>
      this.memo(
        `unsorted-count:${run}:${options.threshold}`,
        version,
        () =>
          this.db
            .stmt<{ n: number }>(
              `SELECT count(*) AS n FROM images i LEFT JOIN assignments a ON a.run_id = ? AND a.image_id = i.id
             WHERE ${UNSORTED}`,
            )
            .get(run, options.threshold)!.n,
      ),
    );
  }

  private groupIdsKey(groupId: number, threshold: number, sort: GroupImageSort): string {
    return `group-ids:${groupId}:${threshold}:${sort}`;
  }

  /** The group's image ids in `sort` order (and the group's run), uncached. */
  private groupIds(groupId: number, threshold: number, sort: GroupImageSort): { run: number; ids: Int32Array } {
    const run = this.db.stmt<{ runId: number }>('SELECT run_id AS runId FROM groups WHERE id = ?').get(groupId)?.runId ?? -1;
    const ids = this.db
      .stmt<{ id: number }>(
        `SELECT a.image_id AS id FROM assignments a JOIN images i ON i.id = a.image_id
         WHERE a.run_id = ? AND a.group_id = ? AND ${IN_GROUP}
         ORDER BY ${ORDER[sort]}`,
      )
      .pluck()
      .all(run, groupId, threshold) as unknown as number[];
    return { run, ids: Int32Array.from(ids) };
  }

  /**
   * Where `imageId` is in the group as groupImages orders it (null when it is not in the group),
   * and the group's size: what an image opened from elsewhere needs for its previous and next.
   */
  groupImageIndex(
    groupId: number,
    imageId: number,
    options: { threshold: number; sort?: GroupImageSort },
  ): { index: number | null; total: number } {
    const sort = options.sort ?? 'confidence-desc';
    const version = this.version();
    return this.db.read(() => {
      const { ids } = this.memo(this.groupIdsKey(groupId, options.threshold, sort), version, () =>
        this.groupIds(groupId, options.threshold, sort),
      );
      const i = ids.indexOf(imageId);
      return { index: i < 0 ? null : i, total: ids.length };
    });
  }

  groupImages(
    groupId: number,
    options: { threshold: number; sort?: GroupImageSort; offset?: number; limit?: number },
  ): { items: GroupImage[]; total: number } {
    const sort = options.sort ?? 'confidence-desc';
    const offset = options.offset ?? 0;
    const limit = options.limit ?? 200;
    const ordered = () => this.groupIds(groupId, options.threshold, sort);
    const version = this.version();
    return this.db.read(() => {
      const { run, ids } = this.memo(this.groupIdsKey(groupId, options.threshold, sort), version, ordered);
      const page = Array.from(ids.subarray(Math.max(0, offset), Math.max(0, offset) + Math.max(0, limit)));
      if (page.length === 0) return { items: [], total: ids.length };
      const rows = this.db
        .stmt<Omit<GroupImage, 'pinned'> & { pinned: number }>(
          `SELECT ${COLUMNS}, a.confidence, a.pinned FROM json_each(?) j
           CROSS JOIN assignments a ON a.run_id = ? AND a.image_id = j.value JOIN images i ON i.id = a.image_id`,
        )
        .all(JSON.stringify(page), run);
      const byId = new Map(rows.map((r) => [r.id, r]));
      const items = page.map((id) => {
        const r = byId.get(id)!;
        return { ...r, pinned: r.pinned === 1 };
      });
      return { items, total: ids.length };
    });
  }

  /**
   * A group's (or Unsorted's) image ids in `sort` order, whole: for the lists the UI filters
   * further (a date range, duplicates stacked under their keeper). Groups' lists are cached.
   */
  orderedIds(group: number | 'unsorted', options: { threshold: number; sort?: GroupImageSort }): { run: number; ids: Int32Array } {
    const sort = options.sort ?? 'confidence-desc';
    const version = this.version();
    return this.db.read(() => {
      if (group !== 'unsorted')
        return this.memo(this.groupIdsKey(group, options.threshold, sort), version, () => this.groupIds(group, options.threshold, sort));
      const run = this.run();
      return this.memo(`unsorted-ids:${run}:${options.threshold}:${sort}`, version, () => ({
        run,
        ids: Int32Array.from(
          this.db
            .stmt<{ id: number }>(
              `SELECT i.id FROM images i LEFT JOIN assignments a ON a.run_id = ? AND a.image_id = i.id WHERE ${UNSORTED} ORDER BY ${unsortedOrder(sort)}`,
            )
            .pluck()
            .all(run, options.threshold) as unknown as number[],
        ),
      }));
    });
  }

  /** Each usable image's date (taken, else its file time; epoch ms) and whether it was taken (EXIF) or is the file's. Cached. */
  imageDates(): Map<number, { date: number; taken: boolean }> {
    const version = this.version();
    return this.db.read(() =>
      this.memo('image-dates', version, () => {
        const rows = this.db
          .stmt<{ id: number; t: number | null; m: number }>(
            `SELECT id, taken_at AS t, mtime_ms AS m FROM images WHERE status IN ('ok', 'pending')`,
          )
          .all();
        return new Map(rows.map((r) => [r.id, { date: r.t ?? r.m, taken: r.t !== null }]));
      }),
    );
  }

  /** The rows of `ids` (in that order) with their assignment in `run` (null: none). */
  rowsByIds(
    run: number,
    ids: readonly number[],
  ): Array<Omit<GroupImage, 'confidence' | 'pinned'> & { confidence: number | null; pinned: boolean; groupId: number | null }> {
    if (ids.length === 0) return [];
    const rows = this.db
      .stmt<Omit<GroupImage, 'confidence' | 'pinned'> & { confidence: number | null; pinned: number | null; groupId: number | null }>(
        `SELECT ${COLUMNS}, a.confidence, a.pinned, a.group_id AS groupId FROM json_each(?) j
         JOIN images i ON i.id = j.value LEFT JOIN assignments a ON a.run_id = ? AND a.image_id = i.id`,
      )
      .all(JSON.stringify(ids), run);
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.flatMap((id) => {
      const r = byId.get(id);
      return r ? [{ ...r, pinned: r.pinned === 1 }] : [];
    });
  }

  /**
   * Usable images whose path (file name or folder, any case) contains every word of `words`,
   * and whose date (taken, else the file's) is in [from, to) when given; newest first.
   */
  search(options: { words: readonly string[]; from?: number; to?: number; offset: number; limit: number }): {
    ids: number[];
    total: number;
  } {
    const like = (w: string) => `%${w.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const where = [`i.status = 'ok'`, ...options.words.map(() => `(i.rel_path LIKE ? ESCAPE '\\')`)];
    const params: unknown[] = options.words.map(like);
    if (options.from !== undefined) {
      where.push('COALESCE(i.taken_at, i.mtime_ms) >= ?');
      params.push(options.from);
    }
    if (options.to !== undefined) {
      where.push('COALESCE(i.taken_at, i.mtime_ms) < ?');
      params.push(options.to);
    }
    const sql = `FROM images i WHERE ${where.join(' AND ')}`;
    return this.db.read(() => ({
      total: this.db.stmt<{ n: number }>(`SELECT count(*) AS n ${sql}`).get(...params)!.n,
      ids: this.db
        .stmt<{ id: number }>(`SELECT i.id ${sql} ORDER BY COALESCE(i.taken_at, i.mtime_ms) DESC, i.id DESC LIMIT ? OFFSET ?`)
        .pluck()
        .all(...params, options.limit, options.offset) as unknown as number[],
    }));
  }

  /** Where `imageId` is in Unsorted as unsortedImages orders it (null when it is not there), and how many are there. */
  unsortedImageIndex(
    imageId: number,
    options: { runId?: number; threshold: number; sort?: GroupImageSort },
  ): { index: number | null; total: number } {
    const run = this.run(options.runId);
    const ids = this.db
      .stmt<{ id: number }>(
        `SELECT i.id FROM images i LEFT JOIN assignments a ON a.run_id = ? AND a.image_id = i.id
         WHERE ${UNSORTED} ORDER BY ${unsortedOrder(options.sort)}`,
      )
      .pluck()
      .all(run, options.threshold) as unknown as number[];
    const i = ids.indexOf(imageId);
    return { index: i < 0 ? null : i, total: ids.length };
  }

  /** Unsorted: never assigned, removed by the user, or unpinned below the threshold. */
  unsortedImages(options: { runId?: number; threshold: number; sort?: GroupImageSort; offset?: number; limit?: number }): {
    items: UnsortedRow[];
    total: number;
  } {
    const run = this.run(options.runId);
    const where = UNSORTED;
    return this.db.read(() => {
      const total = this.db
        .stmt<{ n: number }>(
          `SELECT count(*) AS n FROM images i LEFT JOIN assignments a ON a.run_id = ? AND a.image_id = i.id WHERE ${where}`,
        )
        .get(run, options.threshold)!.n;
      const items = this.db
        .stmt<Omit<UnsortedRow, 'pinned'> & { pinned: number | null }>(
          `SELECT ${COLUMNS}, a.confidence, a.pinned, a.group_id AS groupId FROM images i LEFT JOIN assignments a ON a.run_id = ? AND a.image_id = i.id
           WHERE ${where} ORDER BY ${unsortedOrder(options.sort)} LIMIT ? OFFSET ?`,
        )
        .all(run, options.threshold, options.limit ?? 200, options.offset ?? 0)
        .map((r) => ({ ...r, pinned: r.pinned === 1 }));
      return { items, total };
    });
  }

  /** The least certain unpinned assignments of the run (for review), least certain first. */
  leastCertain(options: { runId?: number; limit: number }): Array<GroupImage & { groupId: number | null }> {
    return this.db
      .stmt<Omit<GroupImage, 'pinned'> & { pinned: number; groupId: number | null }>(
        `SELECT ${COLUMNS}, a.confidence, a.pinned, a.group_id AS groupId FROM assignments a JOIN images i ON i.id = a.image_id
         WHERE a.run_id = ? AND a.pinned = 0 AND a.group_id IS NOT NULL AND i.status = 'ok'
         ORDER BY a.confidence ASC, a.image_id ASC LIMIT ?`,
      )
      .all(this.run(options.runId), options.limit)
      .map((r) => ({ ...r, pinned: r.pinned === 1 }));
  }

  /** Every image id assigned to a group (threshold ignored: splitting acts on the whole group). */
  groupImageIds(groupId: number): number[] {
    return this.db
      .stmt<{ id: number }>(
        `SELECT a.image_id AS id FROM assignments a JOIN groups g ON g.id = a.group_id AND g.run_id = a.run_id JOIN images i ON i.id = a.image_id
         WHERE a.group_id = ? AND ${VISIBLE} ORDER BY a.image_id`,
      )
      .all(groupId)
      .map((r) => r.id);
  }

  /** One row per usable image with its assignment in `runId` (for export), and its content hash. */
  exportRows(runId: number): Array<{
    imageId: number;
    root: string;
    relPath: string;
    groupId: number | null;
    groupName: string;
    confidence: number;
    pinned: boolean;
    contentHash: string | null;
    takenAt: number | null;
    takenOffset: number | null;
  }> {
    return this.db
      .stmt<{
        imageId: number;
        root: string;
        relPath: string;
        groupId: number | null;
        groupName: string | null;
        confidence: number | null;
        pinned: number | null;
        contentHash: string | null;
        takenAt: number | null;
        takenOffset: number | null;
      }>(
        `SELECT i.id AS imageId, l.root_path AS root, i.rel_path AS relPath, a.group_id AS groupId, g.name AS groupName,
                a.confidence, a.pinned, i.content_hash AS contentHash, i.taken_at AS takenAt, i.taken_offset AS takenOffset
         FROM images i JOIN libraries l ON l.id = i.library_id
         LEFT JOIN assignments a ON a.run_id = ? AND a.image_id = i.id
         LEFT JOIN groups g ON g.id = a.group_id
         WHERE i.status = 'ok' ORDER BY l.root_path, i.rel_path`,
      )
      .all(runId)
      .map((r) => ({ ...r, groupName: r.groupName ?? '', confidence: r.confidence ?? 0, pinned: r.pinned === 1 }));
  }

  /** `root/relPath` of usable images, to order training rows independently of insertion order. */
  pathKeys(): Map<number, string> {
    const rows = this.db
      .stmt<{ id: number; key: string }>(
        `SELECT i.id, l.root_path || '/' || i.rel_path AS key FROM images i JOIN libraries l ON l.id = i.library_id WHERE i.status = 'ok'`,
      )
      .all();
    return new Map(rows.map((r) => [r.id, r.key]));
  }
}
