/**
 * Images: one row per file path in a library. The store only records what the
 * pipeline read; it never opens, moves or writes the originals.
 *
 * Life cycle: scan inserts/updates rows as `pending` (new or changed size/mtime)
 * -> decode+hash marks them `ok` (with metadata) or `skipped` (with a reason)
 * -> files not seen by a completed scan become `missing` (kept, not forgotten).
 */
import path from 'node:path';

import type { SkipCode } from '../library/skips.js';
import type { Database } from './database.js';
import { adoptMovedImages } from './libraries.js';
import { getActiveRunId } from './runs.js';

export type ImageStatus = 'pending' | 'ok' | 'skipped' | 'missing';
export const IMAGE_STATUSES: readonly ImageStatus[] = ['pending', 'ok', 'skipped', 'missing'];

export interface ScannedFile {
  /** Path relative to the library root (as produced by the scanner). */
  relPath: string;
  size: number;
  mtimeMs: number;
}

export interface ScanBatchResult {
  inserted: number;
  changed: number;
  unchanged: number;
  /** Previously missing files seen again. */
  restored: number;
  /**
   * Known files (decoded, or missing since) whose size is unchanged but whose time moved: left
   * as they were, for their bytes to decide (`settleTouched`).
   */
  touched: TouchedFile[];
}

export interface TouchedFile {
  id: number;
  relPath: string;
  size: number;
  mtimeMs: number;
  /** The content hash the row holds, to compare the file's bytes with. */
  contentHash: string;
}

export interface DecodedImage {
  id: number;
  contentHash: string;
  /** Stored pixel size. */
  width: number;
  height: number;
  /** Size after applying the EXIF orientation (defaults to width/height). */
  displayWidth?: number;
  displayHeight?: number;
  /** EXIF orientation 1..8. */
  orientation?: number | null;
  format?: string | null;
  /** The EXIF date's wall clock as if UTC (exifDateParts), and its zone in minutes when recorded. */
  takenAt?: number | null;
  takenOffset?: number | null;
  camera?: string | null;
  /** Thumbnail path relative to thumbnailDir(db), if made in the same batch. */
  thumbPath?: string | null;
}

export interface ImageRow {
  id: number;
  libraryId: number;
  relPath: string;
  name: string;
  size: number;
  mtimeMs: number;
  contentHash: string | null;
  status: ImageStatus;
  skipReason: string | null;
  width: number | null;
  height: number | null;
  displayWidth: number | null;
  displayHeight: number | null;
  orientation: number | null;
  format: string | null;
  /** The EXIF wall clock as if UTC (see core/images/metadata.ts exifDateParts); null: none, dated by its file time. */
  takenAt: number | null;
  /** The zone the EXIF date records, minutes east of UTC; null when it records none. */
  takenOffset: number | null;
  camera: string | null;
  thumbPath: string | null;
  /** 64-bit perceptual hash, 16 hex digits (null until the details pass read it). */
  phash: string | null;
  firstSeenAt: number;
  updatedAt: number;
  missingSince: number | null;
}

/** What the pipeline needs to work on an image. */
export interface WorkItem {
  id: number;
  libraryId: number;
  relPath: string;
  absPath: string;
  size: number;
  mtimeMs: number;
  contentHash: string | null;
}

export interface ImageDetail extends ImageRow {
  absPath: string;
  libraryRoot: string;
  /** Assignment in the active run (null when unassigned or there is no active run). */
  assignment: { runId: number; groupId: number | null; groupName: string | null; confidence: number; pinned: boolean } | null;
  /** Models with an embedding for this image's content. */
  embeddingModels: string[];
}

export interface SkippedImage {
  id: number;
  libraryId: number;
  relPath: string;
  absPath: string;
  skipReason: string | null;
}

export type StatusCounts = Record<ImageStatus, number> & { total: number };

export const IMAGE_COLUMNS = `i.id, i.library_id AS libraryId, i.rel_path AS relPath, i.name, i.size, i.mtime_ms AS mtimeMs,
  i.content_hash AS contentHash, i.status, i.skip_reason AS skipReason, i.width, i.height,
  i.display_width AS displayWidth, i.display_height AS displayHeight, i.orientation, i.format,
  i.taken_at AS takenAt, i.taken_offset AS takenOffset, i.camera, i.thumb_path AS thumbPath, i.first_seen_at AS firstSeenAt,
  i.updated_at AS updatedAt, i.missing_since AS missingSince, i.phash`;

/** What a row seen again (restored, or touched with the same bytes) becomes. */
const RESTORED_STATUS = `CASE WHEN skip_reason IS NOT NULL THEN 'skipped'
  WHEN content_hash IS NOT NULL AND width IS NOT NULL THEN 'ok' ELSE 'pending' END`;
/** A changed file's row forgets what its old content was (hash and everything read from it). */
/**
 * Skips that say nothing about the file's bytes, so an unchanged size and time do not mean the
 * same outcome: a file that vanished while a folder was renamed and is back, or one that was
 * unreadable until its permissions were fixed (chmod leaves the time alone). The scan reads
 * them again; a damaged or unsupported file keeps its skip until it changes.
 */
const RETRIED_SKIPS: ReadonlySet<string> = new Set<SkipCode>(['vanished', 'unreadable']);

const FORGET_CONTENT = `content_hash = NULL, skip_reason = NULL, width = NULL, height = NULL, display_width = NULL,
  display_height = NULL, orientation = NULL, format = NULL, taken_at = NULL, camera = NULL, thumb_path = NULL,
  taken_offset = NULL, phash = NULL, details_version = 0`;

/**
 * A changed file's groups were chosen for its old content: it leaves them (unless the user
 * pinned it there), so it counts as new and is placed again ("place new images", a regroup).
 */
const UNGROUP_CHANGED = 'DELETE FROM assignments WHERE image_id = ? AND pinned = 0';

type WorkRow = Omit<WorkItem, 'absPath'> & { root: string };

const WORK_COLUMNS = `i.id, i.library_id AS libraryId, i.rel_path AS relPath, i.size, i.mtime_ms AS mtimeMs,
  i.content_hash AS contentHash, l.root_path AS root`;

function toWork(r: WorkRow): WorkItem {
  const { root, ...rest } = r;
  return { ...rest, absPath: path.join(root, r.relPath) };
}

export class ImagesRepository {
  constructor(private readonly db: Database) {}

  /**
   * Record one batch of scanned files (one transaction). New paths are inserted
   * as pending; a changed size/mtime resets the row to pending (hash and
   * metadata cleared); unchanged rows are only marked as seen; rows that were
   * missing are restored. A known file whose size is the same but whose time moved
   * (a folder copied or restored without its times, a sync tool) is only marked as seen
   * and returned in `touched`: the caller compares its bytes and settles it.
   */
  upsertScanned(libraryId: number, generation: number, files: readonly ScannedFile[]): ScanBatchResult {
    const result: ScanBatchResult = { inserted: 0, changed: 0, unchanged: 0, restored: 0, touched: [] };
    if (files.length === 0) return result;
    const find = this.db.stmt<{
      id: number;
      size: number;
      mtimeMs: number;
      status: ImageStatus;
      contentHash: string | null;
      skipReason: string | null;
    }>(
      'SELECT id, size, mtime_ms AS mtimeMs, status, content_hash AS contentHash, skip_reason AS skipReason FROM images WHERE library_id = ? AND rel_path = ?',
    );
    const insert = this.db.stmt(
      `INSERT INTO images (library_id, rel_path, name, size, mtime_ms, status, seen_generation, first_seen_at, updated_at)
       VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
    );
    const touch = this.db.stmt('UPDATE images SET seen_generation = ? WHERE id = ?');
    const restore = this.db.stmt(
      `UPDATE images SET seen_generation = ?, missing_since = NULL, updated_at = ?,
         status = ${RESTORED_STATUS}
       WHERE id = ?`,
    );
    const reset = this.db.stmt(
      `UPDATE images SET size = ?, mtime_ms = ?, seen_generation = ?, updated_at = ?, status = 'pending',
         missing_since = NULL, ${FORGET_CONTENT}
       WHERE id = ?`,
    );
    const ungroup = this.db.stmt(UNGROUP_CHANGED);
    this.db.write(() => {
      const now = Date.now();
      for (const f of files) {
        const mtime = Math.trunc(f.mtimeMs);
        const row = find.get(libraryId, f.relPath);
        if (!row) {
          insert.run(libraryId, f.relPath, path.basename(f.relPath), f.size, mtime, generation, now, now);
          result.inserted++;
        } else if (
          row.size === f.size &&
          row.mtimeMs !== mtime &&
          row.contentHash !== null &&
          (row.status === 'ok' || row.status === 'missing')
        ) {
          touch.run(generation, row.id);
          result.touched.push({ id: row.id, relPath: f.relPath, size: f.size, mtimeMs: mtime, contentHash: row.contentHash });
        } else if (row.size !== f.size || row.mtimeMs !== mtime) {
          reset.run(f.size, mtime, generation, now, row.id);
          ungroup.run(row.id);
          result.changed++;
        } else if (row.status === 'missing') {
          restore.run(generation, now, row.id);
          result.restored++;
        } else if (row.status === 'skipped' && row.skipReason !== null && RETRIED_SKIPS.has(row.skipReason)) {
          // Skipped for a passing reason (gone for a moment, permission fixed since): read again.
          reset.run(f.size, mtime, generation, now, row.id);
          result.changed++;
        } else {
          touch.run(generation, row.id);
          result.unchanged++;
        }
      }
    });
    return result;
  }

  /**
   * Settles the files `upsertScanned` returned as touched, once their bytes are read: the same
   * content keeps its row (facts, thumbnail, embeddings, group; restored if it was missing) and
   * takes the new time; other content resets the row as any changed file (one transaction).
   */
  settleTouched(files: ReadonlyArray<{ file: TouchedFile; same: boolean }>): void {
    if (files.length === 0) return;
    const keep = this.db.stmt(
      `UPDATE images SET mtime_ms = ?, missing_since = NULL, updated_at = ?,
         status = ${RESTORED_STATUS}
       WHERE id = ?`,
    );
    const reset = this.db.stmt(
      `UPDATE images SET mtime_ms = ?, updated_at = ?, status = 'pending',
         missing_since = NULL, ${FORGET_CONTENT}
       WHERE id = ?`,
    );
    const ungroup = this.db.stmt(UNGROUP_CHANGED);
    this.db.write(() => {
      const now = Date.now();
      for (const { file, same } of files) {
        (same ? keep : reset).run(file.mtimeMs, now, file.id);
        if (!same) ungroup.run(file.id);
      }
    });
  }

  /**
   * Images still to decode/hash (status pending), in id order. Pass the last id
   * of the previous batch as `afterId` to walk forward; after a crash, start
   * again without it: committed batches are no longer pending.
   */
  pending(limit: number, options: { libraryId?: number; afterId?: number } = {}): WorkItem[] {
    const rows = this.db
      .stmt<WorkRow>(
        `SELECT ${WORK_COLUMNS} FROM images i JOIN libraries l ON l.id = i.library_id
         WHERE i.status = 'pending' AND i.id > ? AND (? IS NULL OR i.library_id = ?)
         ORDER BY i.id LIMIT ?`,
      )
      .all(options.afterId ?? 0, options.libraryId ?? null, options.libraryId ?? null, limit);
    return rows.map(toWork);
  }

  /**
   * Record decoded images (one transaction): status ok plus metadata. A file
   * whose content hash equals a missing image's (it was moved/renamed) is folded
   * into that older row; the returned map gives the surviving id for each input id.
   */
  markDecoded(items: readonly DecodedImage[]): Map<number, number> {
    const ids = new Map<number, number>();
    if (items.length === 0) return ids;
    const upd = this.db.stmt(
      `UPDATE images SET status = 'ok', skip_reason = NULL, content_hash = @contentHash, width = @width, height = @height,
         display_width = @displayWidth, display_height = @displayHeight, orientation = @orientation, format = @format,
         taken_at = @takenAt, taken_offset = @takenOffset, camera = @camera, thumb_path = COALESCE(@thumbPath, thumb_path), updated_at = @now
       WHERE id = @id`,
    );
    this.db.write(() => {
      const now = Date.now();
      for (const it of items) {
        upd.run({
          id: it.id,
          contentHash: it.contentHash,
          width: it.width,
          height: it.height,
          displayWidth: it.displayWidth ?? it.width,
          displayHeight: it.displayHeight ?? it.height,
          orientation: it.orientation ?? null,
          format: it.format ?? null,
          takenAt: it.takenAt == null ? null : Math.trunc(it.takenAt),
          takenOffset: it.takenOffset ?? null,
          camera: it.camera ?? null,
          thumbPath: it.thumbPath ?? null,
          now,
        });
        ids.set(it.id, it.id);
      }
      // Moved/renamed files: fold into the missing row with the same content.
      for (const { newId, oldId } of adoptMovedImages(
        this.db,
        items.map((i) => i.id),
      ))
        ids.set(newId, oldId);
    });
    return ids;
  }

  /**
   * Usable images the details pass (EXIF dates, perceptual hash) has not read at `version` yet,
   * in id order after `afterId`; of the libraries given, else all.
   */
  needingDetails(
    version: number,
    limit: number,
    options: { afterId?: number; libraryIds?: readonly number[] } = {},
  ): Array<{ id: number; absPath: string; thumbPath: string | null }> {
    return this.db
      .stmt<{ id: number; root: string; relPath: string; thumbPath: string | null }>(
        `SELECT i.id, l.root_path AS root, i.rel_path AS relPath, i.thumb_path AS thumbPath FROM images i JOIN libraries l ON l.id = i.library_id
         WHERE i.status = 'ok' AND i.details_version < ? AND i.id > ? AND (? IS NULL OR i.library_id IN (SELECT value FROM json_each(?)))
         ORDER BY i.id LIMIT ?`,
      )
      .all(version, options.afterId ?? 0, options.libraryIds ? 1 : null, JSON.stringify(options.libraryIds ?? []), limit)
      .map((r) => ({ id: r.id, absPath: path.join(r.root, r.relPath), thumbPath: r.thumbPath }));
  }

  /**
   * What the details pass read (one transaction). `date` undefined: the file could not be read,
   * its date stays as it was; null: it has none (dated by its file time).
   */
  setDetails(
    items: ReadonlyArray<{ id: number; date?: { takenAt: number; takenOffset: number | null } | null; phash: string | null }>,
    version: number,
  ): void {
    const withDate = this.db.stmt(
      'UPDATE images SET taken_at = ?, taken_offset = ?, phash = COALESCE(?, phash), details_version = ? WHERE id = ?',
    );
    const withoutDate = this.db.stmt('UPDATE images SET phash = COALESCE(?, phash), details_version = ? WHERE id = ?');
    this.db.write(() => {
      for (const it of items) {
        if (it.date === undefined) withoutDate.run(it.phash, version, it.id);
        else withDate.run(it.date?.takenAt ?? null, it.date?.takenOffset ?? null, it.phash, version, it.id);
      }
    });
  }

  /** Mark images that cannot be used (unsupported, corrupt, too small, ...), one transaction. */
  markSkipped(items: ReadonlyArray<{ id: number; reason: string; contentHash?: string | null }>): void {
    if (items.length === 0) return;
    const upd = this.db.stmt(
      `UPDATE images SET status = 'skipped', skip_reason = ?, content_hash = COALESCE(?, content_hash), updated_at = ?
       WHERE id = ?`,
    );
    this.db.write(() => {
      const now = Date.now();
      for (const it of items) upd.run(it.reason, it.contentHash ?? null, now, it.id);
    });
  }

  /** Record made thumbnails (path relative to thumbnailDir(db)), one transaction. */
  setThumbnails(items: ReadonlyArray<{ id: number; thumbPath: string | null }>): void {
    if (items.length === 0) return;
    const upd = this.db.stmt('UPDATE images SET thumb_path = ? WHERE id = ?');
    this.db.write(() => {
      for (const it of items) upd.run(it.thumbPath, it.id);
    });
  }

  /** Usable images without a thumbnail yet. */
  needingThumbnail(limit: number, options: { afterId?: number } = {}): WorkItem[] {
    return this.db
      .stmt<WorkRow>(
        `SELECT ${WORK_COLUMNS} FROM images i JOIN libraries l ON l.id = i.library_id
         WHERE i.status = 'ok' AND i.thumb_path IS NULL AND i.id > ? ORDER BY i.id LIMIT ?`,
      )
      .all(options.afterId ?? 0, limit)
      .map(toWork);
  }

  get(id: number): ImageRow | null {
    return this.db.stmt<ImageRow>(`SELECT ${IMAGE_COLUMNS} FROM images i WHERE i.id = ?`).get(id) ?? null;
  }

  getByPath(libraryId: number, relPath: string): ImageRow | null {
    return (
      this.db.stmt<ImageRow>(`SELECT ${IMAGE_COLUMNS} FROM images i WHERE i.library_id = ? AND i.rel_path = ?`).get(libraryId, relPath) ??
      null
    );
  }

  /**
   * The distinct byte sizes of images whose content is known (hashed, decoded, thumbnailed), in
   * ascending order. Same content means same size, so a new file whose size is not in here
   * cannot be a copy or a move of a known one, and indexing need not hash it up front.
   */
  knownContentSizes(): Float64Array {
    const sizes = this.db
      .stmt<number>(
        'SELECT DISTINCT size FROM images WHERE content_hash IS NOT NULL AND width IS NOT NULL AND thumb_path IS NOT NULL ORDER BY size',
      )
      .pluck(true)
      .all();
    return Float64Array.from(sizes);
  }

  findByContentHash(contentHash: string): ImageRow[] {
    return this.db.stmt<ImageRow>(`SELECT ${IMAGE_COLUMNS} FROM images i WHERE i.content_hash = ? ORDER BY i.id`).all(contentHash);
  }

  /** Everything the image detail view shows. */
  detail(id: number): ImageDetail | null {
    return this.db.read(() => {
      const row = this.db
        .stmt<ImageRow & { libraryRoot: string }>(
          `SELECT ${IMAGE_COLUMNS}, l.root_path AS libraryRoot FROM images i JOIN libraries l ON l.id = i.library_id WHERE i.id = ?`,
        )
        .get(id);
      if (!row) return null;
      const runId = getActiveRunId(this.db);
      let assignment: ImageDetail['assignment'] = null;
      if (runId !== null) {
        const a = this.db
          .stmt<{ groupId: number | null; groupName: string | null; confidence: number; pinned: number }>(
            `SELECT a.group_id AS groupId, g.name AS groupName, a.confidence, a.pinned
             FROM assignments a LEFT JOIN groups g ON g.id = a.group_id WHERE a.run_id = ? AND a.image_id = ?`,
          )
          .get(runId, id);
        if (a) assignment = { runId, groupId: a.groupId, groupName: a.groupName, confidence: a.confidence, pinned: a.pinned === 1 };
      }
      const embeddingModels =
        row.contentHash === null
          ? []
          : this.db
              .stmt<{ model: string }>(`SELECT DISTINCT model FROM embeddings WHERE content_hash = ? ORDER BY model`)
              .all(row.contentHash)
              .map((r) => r.model);
      return { ...row, absPath: path.join(row.libraryRoot, row.relPath), assignment, embeddingModels };
    });
  }

  countsByStatus(options: { libraryId?: number } = {}): StatusCounts {
    const rows = this.db
      .stmt<{ status: ImageStatus; n: number }>(
        `SELECT status, count(*) AS n FROM images WHERE (? IS NULL OR library_id = ?) GROUP BY status`,
      )
      .all(options.libraryId ?? null, options.libraryId ?? null);
    const counts: StatusCounts = { pending: 0, ok: 0, skipped: 0, missing: 0, total: 0 };
    for (const r of rows) {
      counts[r.status] = r.n;
      counts.total += r.n;
    }
    return counts;
  }

  /** Skipped images with their reasons, by id (keyset: pass the last id as afterId). */
  listSkipped(options: { limit?: number; afterId?: number; reason?: string } = {}): SkippedImage[] {
    return this.db
      .stmt<Omit<SkippedImage, 'absPath'> & { root: string }>(
        `SELECT i.id, i.library_id AS libraryId, i.rel_path AS relPath, i.skip_reason AS skipReason, l.root_path AS root
         FROM images i JOIN libraries l ON l.id = i.library_id
         WHERE i.status = 'skipped' AND i.id > ? AND (? IS NULL OR i.skip_reason = ?)
         ORDER BY i.id LIMIT ?`,
      )
      .all(options.afterId ?? 0, options.reason ?? null, options.reason ?? null, options.limit ?? 200)
      .map(({ root, ...r }) => ({ ...r, absPath: path.join(root, r.relPath) }));
  }

  /** Skip reasons with counts, most frequent first. */
  skipReasons(): Array<{ reason: string | null; count: number }> {
    return this.db
      .stmt<{ reason: string | null; count: number }>(
        `SELECT skip_reason AS reason, count(*) AS count FROM images WHERE status = 'skipped'
         GROUP BY skip_reason ORDER BY count DESC, reason`,
      )
      .all();
  }

  /** A library's usable (status ok) images, id and path, by id. */
  listUsable(libraryId: number): Array<{ id: number; relPath: string }> {
    return this.db
      .stmt<{ id: number; relPath: string }>(
        `SELECT id, rel_path AS relPath FROM images WHERE library_id = ? AND status = 'ok' ORDER BY id`,
      )
      .all(libraryId);
  }

  /** Missing images (files gone since the last completed scan). */
  listMissing(options: { limit?: number; afterId?: number } = {}): Array<ImageRow & { absPath: string }> {
    return this.db
      .stmt<ImageRow & { root: string }>(
        `SELECT ${IMAGE_COLUMNS}, l.root_path AS root FROM images i JOIN libraries l ON l.id = i.library_id
         WHERE i.status = 'missing' AND i.id > ? ORDER BY i.id LIMIT ?`,
      )
      .all(options.afterId ?? 0, options.limit ?? 200)
      .map(({ root, ...r }) => ({ ...r, absPath: path.join(root, r.relPath) }));
  }
}
