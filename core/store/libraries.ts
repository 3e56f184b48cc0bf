/** Libraries: the root folders the user added. */
import { realpathSync } from 'node:fs';
import path from 'node:path';

import { isFileSystemRoot, isInside, systemFolderOf } from '../library/paths.js';
import { appDataDir } from './appData.js';
import { thumbnailDir, type Database } from './database.js';
import { DatabaseInsidePhotoFolderError, LibraryFolderRefusedError, LibraryOverlapError, StoreUsageError } from './errors.js';
import { setActiveRunId } from './runs.js';

export interface Library {
  id: number;
  rootPath: string;
  name: string;
  addedAt: number;
  /** Incremented by every beginScan(); images seen by a scan carry its generation. */
  scanGeneration: number;
  lastScanAt: number | null;
  /** Its folder is watched while the app runs (1), or not (0). */
  watch: number;
}

const COLUMNS = `id, root_path AS rootPath, name, added_at AS addedAt, scan_generation AS scanGeneration,
  last_scan_at AS lastScanAt, watch`;

/** Where a folder really is (links resolved); as given where it cannot be reached (an unplugged drive). */
function realOrResolved(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

export class LibrariesRepository {
  constructor(private readonly db: Database) {}

  /**
   * Add a root folder (idempotent: an existing one is returned, also by another path to it).
   * Refuses a folder that contains the database file: the store never writes into photo
   * folders. Refuses a folder inside a library or holding libraries (compared by real path):
   * its files would be indexed twice. `allowOverlap` is for eval's cache, which indexes one
   * folder at a time.
   */
  add(rootPath: string, name?: string, options: { allowOverlap?: boolean } = {}): Library {
    const root = path.resolve(rootPath);
    this.refuseNonPhotoFolder(root);
    if (this.db.file !== ':memory:' && isInside(this.db.file, root)) {
      throw new DatabaseInsidePhotoFolderError(this.db.file, root);
    }
    const same = this.getByRoot(root);
    if (same) return same;
    if (!options.allowOverlap) {
      const real = realOrResolved(root);
      const inside: string[] = [];
      const contains: string[] = [];
      for (const lib of this.list()) {
        const libReal = realOrResolved(lib.rootPath);
        if (libReal === real) return lib;
        if (isInside(real, libReal)) inside.push(lib.rootPath);
        else if (isInside(libReal, real)) contains.push(lib.rootPath);
      }
      if (inside.length > 0) throw new LibraryOverlapError(root, 'inside', inside);
      if (contains.length > 0) throw new LibraryOverlapError(root, 'contains', contains);
    }
    return this.db.write(() => {
      this.db
        .stmt('INSERT INTO libraries (root_path, name, added_at) VALUES (?, ?, ?) ON CONFLICT (root_path) DO NOTHING')
        .run(root, name ?? path.basename(root) ?? root, Date.now());
      return this.getByRoot(root)!;
    });
  }

  /**
   * The whole disk, a system folder and Constellate's own data (the default data folder, the
   * thumbnails beside this database) are no folders of photos: scanning them would index the
   * system, or the app's thumbnails as photos. Compared by real path, so a link to one is it.
   */
  private refuseNonPhotoFolder(root: string): void {
    const real = realOrResolved(root);
    if (isFileSystemRoot(real)) throw new LibraryFolderRefusedError(root, 'disk', real);
    const system = systemFolderOf(real);
    if (system) throw new LibraryFolderRefusedError(root, 'system', system);
    const own = [appDataDir(), ...(this.db.file === ':memory:' ? [] : [thumbnailDir(this.db.file)])];
    const data = own.find((d) => isInside(real, realOrResolved(d)) || isInside(root, d));
    if (data) throw new LibraryFolderRefusedError(root, 'app-data', data);
  }

  get(id: number): Library | null {
    return this.db.stmt<Library>(`SELECT ${COLUMNS} FROM libraries WHERE id = ?`).get(id) ?? null;
  }

  /** Whether the app watches the library's folder while it runs. */
  setWatch(id: number, watch: boolean): void {
    this.db.write(() => this.db.stmt('UPDATE libraries SET watch = ? WHERE id = ?').run(watch ? 1 : 0, id));
  }

  getByRoot(rootPath: string): Library | null {
    return this.db.stmt<Library>(`SELECT ${COLUMNS} FROM libraries WHERE root_path = ?`).get(path.resolve(rootPath)) ?? null;
  }

  list(): Library[] {
    return this.db.stmt<Library>(`SELECT ${COLUMNS} FROM libraries ORDER BY id`).all();
  }

  rename(id: number, name: string): void {
    this.db.write(() => this.db.stmt('UPDATE libraries SET name = ? WHERE id = ?').run(name, id));
  }

  /** Forget a library and its images (embeddings stay, keyed by content hash). Never touches the files. */
  /**
   * Forget a library: its images, and with them their places in the groups. With the last one
   * gone there is no grouping left to show or undo into: the next folder added is grouped
   * afresh, not placed into the empty groups of an old run.
   */
  remove(id: number): void {
    this.db.write(() => {
      this.db.stmt('DELETE FROM libraries WHERE id = ?').run(id);
      if (this.db.stmt<{ n: number }>('SELECT count(*) AS n FROM libraries').get()!.n === 0) {
        setActiveRunId(this.db, null);
        this.db.stmt('DELETE FROM edits').run();
      }
    });
  }

  /**
   * Start a scan: returns the new generation to pass to images.upsertScanned().
   * A scan that is killed before finishScan() marks nothing missing.
   */
  beginScan(id: number): number {
    return this.db.write(() => {
      const r = this.db.stmt('UPDATE libraries SET scan_generation = scan_generation + 1 WHERE id = ?').run(id);
      if (r.changes === 0) throw new StoreUsageError(`No library ${id}`);
      return this.get(id)!.scanGeneration;
    });
  }

  /**
   * Complete a scan: images of the library not seen in `generation` are marked
   * missing (rows kept, with missing_since), and files that were moved/renamed
   * (a new row with the same content hash as a now-missing row) are folded into
   * the old row so its groups, pins and history follow the file.
   *
   * Rows that were never images (skipped: not an image, unreadable, ...) are forgotten when
   * their file is gone: they hold nothing to keep, and "missing" counts images only. So are
   * rows below `leftOut`, folders (relative paths) the scan left out on purpose (a link into
   * another library, a loop, an export): those files are not gone, they are not this
   * library's, and were indexed here before that was noticed.
   */
  finishScan(id: number, generation: number, leftOut: readonly string[] = []): { markedMissing: number; adopted: number } {
    return this.db.write(() => {
      const lib = this.get(id);
      if (!lib) throw new StoreUsageError(`No library ${id}`);
      if (lib.scanGeneration !== generation) {
        throw new StoreUsageError(`Scan generation ${generation} of library ${id} is outdated (now ${lib.scanGeneration})`);
      }
      const notSeen = 'library_id = ? AND seen_generation < ?';
      const forgetBelow = this.db.stmt(`DELETE FROM images WHERE ${notSeen} AND instr(rel_path, ?) = 1`);
      for (const folder of leftOut) forgetBelow.run(id, generation, folder + path.sep);
      this.db.stmt(`DELETE FROM images WHERE ${notSeen} AND skip_reason IS NOT NULL`).run(id, generation);
      const now = Date.now();
      const r = this.db
        .stmt(
          `UPDATE images SET status = 'missing', missing_since = ?, updated_at = ?
           WHERE library_id = ? AND seen_generation < ? AND status != 'missing'`,
        )
        .run(now, now, id, generation);
      this.db.stmt('UPDATE libraries SET last_scan_at = ? WHERE id = ?').run(now, id);
      const adopted = adoptMovedImages(this.db, null).length;
      return { markedMissing: r.changes, adopted };
    });
  }
}

/**
 * Folds a freshly found image (status ok, no assignments in any run) into a
 * missing image with the same content hash: the old row takes the new
 * location and metadata, the new row is deleted. Keeps ids stable across
 * renames/moves. `candidateIds` limits the new rows considered (null = all).
 * Must run inside a write transaction. Returns the folded pairs.
 */
export function adoptMovedImages(db: Database, candidateIds: readonly number[] | null): Array<{ newId: number; oldId: number }> {
  type Pair = { newId: number; oldId: number };
  // Common case first: nothing is missing, so nothing can have moved.
  if (!db.stmt(`SELECT 1 FROM images WHERE status = 'missing' LIMIT 1`).get()) return [];
  let pairs: Pair[];
  const base = `SELECT x.id AS newId, m.id AS oldId
    FROM images m JOIN images x ON x.content_hash = m.content_hash AND x.id != m.id AND x.status = 'ok'
    WHERE m.status = 'missing' AND m.content_hash IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.image_id = x.id)`;
  if (candidateIds === null) {
    pairs = db.stmt<Pair>(`${base} ORDER BY m.id, x.id`).all();
  } else {
    if (candidateIds.length === 0) return [];
    pairs = [];
    const s = db.stmt<Pair>(`${base} AND x.id = ? ORDER BY m.id`);
    for (const id of candidateIds) pairs.push(...s.all(id));
  }
  const usedOld = new Set<number>();
  const usedNew = new Set<number>();
  const done: Pair[] = [];
  for (const { newId, oldId } of pairs) {
    if (usedOld.has(oldId) || usedNew.has(newId)) continue;
    usedOld.add(oldId);
    usedNew.add(newId);
    const x = db.stmt<Record<string, unknown>>('SELECT * FROM images WHERE id = ?').get(newId);
    if (!x) continue;
    db.stmt('DELETE FROM images WHERE id = ?').run(newId);
    db.stmt(
      `UPDATE images SET library_id = @library_id, rel_path = @rel_path, name = @name, size = @size, mtime_ms = @mtime_ms,
         content_hash = @content_hash, status = @status, skip_reason = @skip_reason, width = @width, height = @height,
         display_width = @display_width, display_height = @display_height, orientation = @orientation, format = @format,
         taken_at = @taken_at, camera = @camera, thumb_path = COALESCE(@thumb_path, thumb_path),
         seen_generation = @seen_generation, updated_at = @updated_at, missing_since = NULL
       WHERE id = @old_id`,
    ).run({ ...x, old_id: oldId });
    done.push({ newId, oldId });
  }
  return done;
}
