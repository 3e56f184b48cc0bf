/**
 * The details pass: for each usable image not read at DETAILS_VERSION yet, its EXIF date (from
 * the original's first bytes; see core/images/metadata.ts) and its perceptual hash (from the
 * thumbnail; core/images/fingerprint.ts), written in batches of one transaction each. Images
 * indexed before it (whose IFD0-only dates were lost) are read again the next time indexing runs.
 */
import path from 'node:path';
import { perceptualHash } from '../../images/fingerprint.js';
import { exifDateParts, readExifFile } from '../../images/metadata.js';
import type { ProgressTracker } from '../../runtime/progress.js';
import { thumbnailDir, type Database } from '../../store/database.js';
import { ImagesRepository } from '../../store/images.js';

/** Bump to have every image read again (a new field, a fix in how one is read). */
export const DETAILS_VERSION = 1;
const BATCH = 64;

export async function readImageDetails(options: {
  db: Database;
  libraryIds?: readonly number[];
  progress?: ProgressTracker;
  signal?: AbortSignal;
}): Promise<number> {
  const { db, progress, signal } = options;
  const images = new ImagesRepository(db);
  const thumbs = thumbnailDir(db.file);
  const total = db.raw
    .prepare(
      `SELECT count(*) FROM images WHERE status = 'ok' AND details_version < ?${options.libraryIds ? ' AND library_id IN (SELECT value FROM json_each(?))' : ''}`,
    )
    .pluck()
    .get(...(options.libraryIds ? [DETAILS_VERSION, JSON.stringify(options.libraryIds)] : [DETAILS_VERSION])) as number;
  if (total === 0) return 0;
  progress?.start('details', total);
  let done = 0;
  for (let afterId = 0; ;) {
    if (signal?.aborted) throw new DOMException('cancelled', 'AbortError');
    const batch = images.needingDetails(DETAILS_VERSION, BATCH, { afterId, libraryIds: options.libraryIds });
    if (batch.length === 0) break;
    afterId = batch[batch.length - 1]!.id;
    const read = await Promise.all(
      batch.map(async (b) => {
        const exif = await readExifFile(b.absPath);
        const parts = exif?.takenAt ? exifDateParts(exif.takenAt) : null;
        const date = exif === null ? undefined : parts ? { takenAt: parts.wallClockMs, takenOffset: parts.offsetMinutes } : null;
        const phash = await perceptualHash(b.thumbPath ? path.join(thumbs, b.thumbPath) : b.absPath);
        return { id: b.id, date, phash };
      }),
    );
    images.setDetails(read, DETAILS_VERSION);
    done += batch.length;
    progress?.advance(batch.length);
  }
  progress?.finish();
  return done;
}
