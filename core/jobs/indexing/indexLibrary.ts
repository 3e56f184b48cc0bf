/**
 * Indexing: scan the library folders, check new files for content already known (copies,
 * moves), then decode + thumbnail + embed the rest in worker threads (the "embed" phase),
 * writing each finished batch in one transaction. Killing the process loses at most the
 * batches in flight; the next run picks up what is still pending.
 *
 * Renamed or moved files are recognised by content hash (the "check" phase hashes only the
 * files whose size matches known content) and reuse the stored embedding and thumbnail;
 * deleted files are marked missing, not forgotten. A known file whose time moved but whose
 * size did not is hashed during the scan, and kept as it was where its bytes are the same.
 */
import path from 'node:path';
import { BACKBONE } from '../../embed/backboneInfo.js';
import type { ModelSpec } from '../../embed/models/spec.js';
import { startEmbedPool, type EmbedPool, type EmbedPoolStats } from '../../embed/pool.js';
import { chooseViewsForIndexing, claimViewDraw, viewNames } from './views.js';
import type { EmbedItem, EmbedResult } from '../../embed/protocol.js';
import { exifDateParts } from '../../images/metadata.js';
import { hashFile } from '../../library/hash.js';
import { isScanSkip, scanFolders } from '../../library/scan.js';
import { readImageDetails } from './details.js';
import type { SkipReason } from '../../library/skips.js';
import type { Database } from '../../store/database.js';
import { thumbnailDir } from '../../store/database.js';
import { EmbeddingsRepository } from '../../store/embeddings.js';
import { ImagesRepository, type DecodedImage, type TouchedFile, type WorkItem } from '../../store/images.js';
import { LibrariesRepository, type Library } from '../../store/libraries.js';
import type { ProgressTracker } from '../../runtime/progress.js';

export interface IndexOptions {
  db: Database;
  /** Library ids to index (all when omitted). */
  libraryIds?: number[];
  workers?: number;
  signal?: AbortSignal;
  progress: ProgressTracker;
  /**
   * A file belongs to one library: each library's scan leaves out what lies in the others
   * (links into them, a library added inside another before that was refused). Default true;
   * `eval` turns it off, its cache database holding any folders evaluated, nested or not.
   */
  oneLibraryPerFile?: boolean;
  /** Augmented views embedded with each image (views.ts); default: the database's setting, else one for its size. */
  views?: number;
  /**
   * Which set of augmented views to draw (augment.ts `viewSeed`): 0, the default, is the app's.
   * `eval --view-draw` only; the database records it and refuses another (views.ts `claimViewDraw`).
   */
  viewDraw?: number;
  /** VIEW_DRAWS_PER_RUN (views.ts), for tests: a small library then gets the views of a large one. */
  viewDrawsPerRun?: number;
  /** A registered model to embed with (core/embed/models); default (null): the bundled backbone. */
  model?: ModelSpec | null;
}

export interface IndexResult {
  scanned: number;
  embedded: number;
  reused: number;
  skippedNow: number;
  markedMissing: number;
  /** Files recognised as moved or renamed (same content as a missing file): they keep its row,
   * groups and pins. Their old paths are counted in markedMissing first. */
  moved: number;
  /** Files with a new modification time but the same bytes: kept as they were. */
  touched: number;
  pool: EmbedPoolStats | null;
}

/** Skip reasons are stored as `code: message`, so both the CLI summary and the UI can group by code. */
export function encodeSkip(skip: SkipReason): string {
  return `${skip.code}: ${skip.message}`;
}

export function decodeSkip(stored: string | null): SkipReason {
  const s = stored ?? 'unknown: no reason recorded';
  const i = s.indexOf(': ');
  return i > 0 ? { code: s.slice(0, i) as SkipReason['code'], message: s.slice(i + 2) } : { code: 'decode-error', message: s };
}

const SCAN_BATCH = 500;

export async function indexLibraries(options: IndexOptions): Promise<IndexResult> {
  const { db, progress, signal } = options;
  const libraries = new LibrariesRepository(db);
  const images = new ImagesRepository(db);
  const embeddings = new EmbeddingsRepository(db);
  const libs = options.libraryIds ? options.libraryIds.map((id) => libraries.get(id)!).filter(Boolean) : libraries.list();
  const result: IndexResult = { scanned: 0, embedded: 0, reused: 0, skippedNow: 0, markedMissing: 0, moved: 0, touched: 0, pool: null };

  // ---- scan ----
  progress.start('scan', null);
  const allLibraries = options.oneLibraryPerFile === false ? [] : libraries.list();
  for (const lib of libs) await scanLibrary(options, lib, allLibraries, result);
  progress.finish();

  // ---- reuse known content, decode + embed ----
  const counts = images.countsByStatus();
  const views = viewNames(options.views ?? chooseViewsForIndexing(db, counts.ok + counts.pending, options.viewDrawsPerRun));
  claimViewDraw(db, options.viewDraw ?? 0);
  const modelId = options.model?.id ?? BACKBONE.id;
  const { pending, missing } = workToDo(images, embeddings, new Set(libs.map((l) => l.id)), views, modelId);

  // The pool starts with the first file that needs embedding and works while the rest are
  // checked for known content, so the model loads and the first decodes run in the meantime.
  const embed = startIndexPool(options, result, views, modelId, pending.length + missing.length);
  try {
    const reused = await checkKnownContent(options, pending, embed, views, modelId);
    if (reused.length > 0) result.moved += adoptedCount(images.markDecoded(reused));
    result.reused = reused.length;
    feedPool(embed, missing);
    progress.finish();
    await finishEmbedding(progress, embed, result);
    await readImageDetails({ db, libraryIds: libs.map((l) => l.id), progress, signal });
  } catch (err) {
    embed.pool.close(err instanceof Error ? err : new Error(String(err)));
    await embed.pool.done.catch(() => undefined);
    throw err;
  }
  return result;
}

/** An indexing run's embed pool, with what it was given and what came back before the embed phase began. */
interface IndexPool {
  pool: EmbedPool;
  counts: { queued: number; early: number };
}

/** Starts the embed pool whose batches are written to the store and counted in `result` and the progress. */
function startIndexPool(
  options: IndexOptions,
  result: IndexResult,
  views: readonly string[],
  modelId: string,
  expected: number,
): IndexPool {
  const { db, progress } = options;
  const images = new ImagesRepository(db);
  const embeddings = new EmbeddingsRepository(db);
  const counts = { queued: 0, early: 0 };
  const pool = startEmbedPool(
    {
      thumbnailDir: thumbnailDir(db.file),
      workers: options.workers,
      signal: options.signal,
      expected,
      views: views.length,
      viewDraw: options.viewDraw ?? 0,
      model: options.model ?? null,
    },
    (batch) => {
      result.moved += writeEmbedBatch(db, images, embeddings, batch, views, modelId);
      for (const r of batch) {
        if ('skip' in r) result.skippedNow++;
        else result.embedded++;
      }
      if (progress.phase === 'embed') progress.advance(batch.length);
      else if (progress.phase === 'model') {
        // The first images are embedded: the model is loaded.
        progress.start('embed', counts.queued);
        progress.advance(batch.length);
      } else counts.early += batch.length;
    },
  );
  return { pool, counts };
}

function feedPool(embed: IndexPool, items: EmbedItem[]): void {
  embed.pool.add(items);
  embed.counts.queued += items.length;
}

/**
 * The "check" phase: files whose content is already known (a copy, a move) reuse its embedding
 * and are returned; the rest go to the pool, in small batches as they are checked.
 */
async function checkKnownContent(
  options: IndexOptions,
  pending: readonly WorkItem[],
  embed: IndexPool,
  views: readonly string[],
  modelId: string,
): Promise<DecodedImage[]> {
  const { db, progress, signal } = options;
  const images = new ImagesRepository(db);
  const embeddings = new EmbeddingsRepository(db);
  progress.start('check', pending.length);
  // Same content means same size: only files whose size matches known content are hashed
  // here (the decoder hashes what it reads anyway), so a fresh library costs no extra pass.
  const knownSizes = images.knownContentSizes();
  const reused: DecodedImage[] = [];
  let toPool: EmbedItem[] = [];
  for (const item of pending) {
    throwIfAborted(signal);
    let hash: string | null = null;
    if (sortedHas(knownSizes, item.size)) {
      try {
        hash = await hashFile(item.absPath);
      } catch {
        // Unreadable now: the decoder records the precise reason.
      }
    }
    const twin = hash ? reusable(images, embeddings, item.id, hash, views, modelId) : null;
    if (twin) reused.push(twin);
    else {
      toPool.push({ imageId: item.id, path: item.absPath, contentHash: hash });
      if (toPool.length >= POOL_FEED) {
        feedPool(embed, toPool);
        toPool = [];
      }
    }
    progress.advance();
  }
  feedPool(embed, toPool);
  return reused;
}

/** The "embed" phase: waits for the pool to deliver everything; `result.pool` gets its figures when it embedded any. */
async function finishEmbedding(progress: ProgressTracker, embed: IndexPool, result: IndexResult): Promise<void> {
  // Loading the model takes a while (40-75 s on a slow machine) before the first image is
  // embedded: a phase of its own, so "0 / 143" does not sit there as if stuck.
  const { queued, early } = embed.counts;
  if (queued > 0 && early === 0) progress.start('model', null);
  else {
    progress.start('embed', queued);
    if (early > 0) progress.advance(early);
  }
  embed.pool.end();
  const stats = await embed.pool.done;
  if (queued > 0) result.pool = stats;
  progress.finish();
}

/**
 * Scans one library into the store in batches (written first, then the touched files compared
 * with what they held), and, only when the scan completed, marks what it did not see missing.
 */
async function scanLibrary(options: IndexOptions, lib: Library, allLibraries: readonly Library[], result: IndexResult): Promise<void> {
  const { db, progress, signal } = options;
  const libraries = new LibrariesRepository(db);
  const images = new ImagesRepository(db);
  const otherRoots = allLibraries.filter((l) => l.id !== lib.id).map((l) => l.rootPath);
  /** Folders left out on purpose (duplicates, loops, exports): what was indexed below them before is forgotten, not missing. */
  const leftOut: string[] = [];
  const relOf = (p: string) => path.relative(lib.rootPath, p) || path.basename(p);
  const generation = libraries.beginScan(lib.id);
  let files: Array<{ relPath: string; size: number; mtimeMs: number }> = [];
  let skips: Array<{ relPath: string; reason: string }> = [];
  const flush = async () => {
    const { touched } = db.write(() => {
      const batch = images.upsertScanned(lib.id, generation, [
        ...files,
        ...skips.map((s) => ({ relPath: s.relPath, size: 0, mtimeMs: 0 })),
      ]);
      if (skips.length > 0) {
        const ids = skips.map((s) => ({ id: images.getByPath(lib.id, s.relPath)!.id, reason: s.reason }));
        images.markSkipped(ids);
      }
      return batch;
    });
    // Written first, settled after: a kill in between leaves them to be found again.
    const settled = await compareBytes(lib.rootPath, touched, signal);
    images.settleTouched(settled);
    progress.advance(files.length + skips.length);
    result.scanned += files.length + skips.length;
    result.touched += settled.filter((t) => t.same).length;
    files = [];
    skips = [];
  };
  for await (const entry of scanFolders(lib.rootPath, { signal, otherRoots, onLeftOut: (p) => leftOut.push(relOf(p)) })) {
    const relPath = relOf(entry.path);
    if (isScanSkip(entry)) {
      skips.push({ relPath, reason: encodeSkip(entry.skip) });
      if (entry.folder && (entry.skip.code === 'duplicate' || entry.skip.code === 'symlink-loop')) leftOut.push(relPath);
    } else files.push({ relPath, size: entry.size, mtimeMs: Math.trunc(entry.mtimeMs) });
    if (files.length + skips.length >= SCAN_BATCH) await flush();
  }
  await flush();
  throwIfAborted(signal);
  // Only a completed scan may mark files missing.
  const finished = libraries.finishScan(lib.id, generation, leftOut);
  result.markedMissing += finished.markedMissing;
  result.moved += finished.adopted;
}

/**
 * What is left to embed in these libraries: files not decoded yet, and images decoded earlier
 * but never embedded with this model (e.g. the model changed). Pending rows have no content
 * hash, so the two lists never overlap.
 */
function workToDo(
  images: ImagesRepository,
  embeddings: EmbeddingsRepository,
  libIds: ReadonlySet<number>,
  views: readonly string[],
  modelId: string,
): { pending: WorkItem[]; missing: EmbedItem[] } {
  const pending: WorkItem[] = [];
  for (let afterId = 0; ;) {
    const batch = images.pending(1000, { afterId });
    if (batch.length === 0) break;
    afterId = batch[batch.length - 1]!.id;
    pending.push(...batch.filter((w) => libIds.has(w.libraryId)));
  }
  const missing: EmbedItem[] = [];
  for (let afterImageId = 0; ;) {
    const batch = embeddings.missing(modelId, { limit: 1000, afterImageId, alsoViews: views });
    if (batch.length === 0) break;
    afterImageId = batch[batch.length - 1]!.imageId;
    for (const t of batch) missing.push({ imageId: t.imageId, path: t.absPath, contentHash: t.contentHash });
  }
  return { pending, missing };
}

/**
 * Same content seen before (a copy, or this file's old row if it was moved or renamed and is now
 * marked missing): its facts, thumbnail and embeddings, to reuse instead of decoding; null when
 * there is none, or its embeddings are not all there.
 */
function reusable(
  images: ImagesRepository,
  embeddings: EmbeddingsRepository,
  id: number,
  hash: string,
  views: readonly string[],
  modelId: string,
): DecodedImage | null {
  const twin = images.findByContentHash(hash).find((r) => r.id !== id && r.width !== null && r.thumbPath !== null);
  if (!twin || !embeddings.has(hash, modelId) || !views.every((v) => embeddings.has(hash, modelId, v))) return null;
  return {
    id,
    contentHash: hash,
    width: twin.width ?? 0,
    height: twin.height ?? 0,
    displayWidth: twin.displayWidth ?? undefined,
    displayHeight: twin.displayHeight ?? undefined,
    orientation: twin.orientation,
    format: twin.format,
    takenAt: twin.takenAt,
    camera: twin.camera,
    thumbPath: twin.thumbPath,
  };
}

/**
 * Reads the touched files (same size, new time) and compares them with the content they had.
 * The same bytes are not decoded and embedded again (a whole library at ~14 images/s here).
 */
async function compareBytes(
  root: string,
  touched: readonly TouchedFile[],
  signal: AbortSignal | undefined,
): Promise<Array<{ file: TouchedFile; same: boolean }>> {
  const out: Array<{ file: TouchedFile; same: boolean }> = [];
  for (const file of touched) {
    throwIfAborted(signal);
    let same = false;
    try {
      same = (await hashFile(path.join(root, file.relPath))) === file.contentHash;
    } catch {
      // Unreadable now: treated as changed, and the decoder records the precise reason.
    }
    out.push({ file, same });
  }
  return out;
}

/** Items handed to the pool at a time while checking for known content. */
const POOL_FEED = 16;

function sortedHas(sorted: Float64Array, v: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const x = sorted[mid]!;
    if (x === v) return true;
    if (x < v) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** markDecoded maps each id to the row it ended in: another id where a moved file was folded into its old row. */
function adoptedCount(ids: Map<number, number>): number {
  let n = 0;
  for (const [id, row] of ids) if (id !== row) n++;
  return n;
}

/** One batch, one transaction: image facts, embeddings (the image's and its views'), and skips. Returns how many were moved files. */
function writeEmbedBatch(
  db: Database,
  images: ImagesRepository,
  embeddings: EmbeddingsRepository,
  batch: EmbedResult[],
  views: readonly string[],
  modelId: string,
): number {
  return db.write(() => {
    const decoded: DecodedImage[] = [];
    const vectors = [];
    const skipped = [];
    for (const r of batch) {
      if ('skip' in r) {
        skipped.push({ id: r.imageId, reason: encodeSkip(r.skip), contentHash: r.contentHash });
        continue;
      }
      decoded.push({
        id: r.imageId,
        contentHash: r.contentHash!,
        width: r.facts.width,
        height: r.facts.height,
        displayWidth: r.facts.width,
        displayHeight: r.facts.height,
        orientation: r.facts.orientation,
        format: r.facts.format,
        ...takenOf(r.facts.takenAt),
        camera: r.facts.camera,
        thumbPath: r.thumbnail,
      });
      vectors.push({ contentHash: r.contentHash!, vector: r.embedding, engine: r.engine });
      const d = r.embedding.length;
      views.forEach((view, v) =>
        vectors.push({
          contentHash: r.contentHash!,
          vector: r.views.subarray(v * d, (v + 1) * d),
          view,
          engine: r.viewsEngine ?? r.engine,
        }),
      );
    }
    embeddings.putMany(modelId, vectors);
    const ids = images.markDecoded(decoded);
    images.markSkipped(skipped);
    return adoptedCount(ids);
  });
}

/** The EXIF date as stored: its wall clock as if UTC, and its zone where the file records one. */
function takenOf(takenAt: string | null): { takenAt: number | null; takenOffset: number | null } {
  const parts = takenAt ? exifDateParts(takenAt) : null;
  return { takenAt: parts?.wallClockMs ?? null, takenOffset: parts?.offsetMinutes ?? null };
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new DOMException('cancelled', 'AbortError');
}
