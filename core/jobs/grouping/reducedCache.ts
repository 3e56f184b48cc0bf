/**
 * The features a run trained on, kept beside the database for the next run over the same
 * images: every image's row through the run's PCA (n x 256 float32) and, where the run held them
 * (up to 131,072 images with 4 views), every view (n x V x 256 halves). A Regroup with another K
 * keeps the PCA, so these are exactly the rows it would otherwise read from SQLite (1792-d,
 * n + nV of them) and reduce again (docs/scale.md).
 *
 * A cache, never the only copy of anything: one file per database (`<db>-reduced`), replaced
 * whole by the run that computed its rows (written aside, then renamed: a killed run leaves the
 * old file or none), used only when its key matches (the model, the images in order, the views'
 * names and the PCA itself), ignored when missing, short or unreadable.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Preprocessor } from '../../icon/preprocess.js';

const FORMAT = 'constellate-reduced/1';
/** The header's space at the start of the file (JSON, space-padded): the rows after it stay aligned. */
const HEADER_BYTES = 4096;

export interface ReducedRows {
  /** n x dOut, row-major, in the images' order. */
  rows: Float32Array;
  /** n x V x dOut halves, image-major; null when the run had no views held. */
  views: Uint16Array | null;
}

interface Header {
  format: string;
  key: string;
  n: number;
  dOut: number;
  V: number;
}

/** The cache file of a database, or null for one that has no file of its own (in memory). */
export function reducedCacheFile(dbFile: string): string | null {
  return dbFile && dbFile !== ':memory:' && !dbFile.startsWith('file:') ? `${dbFile}-reduced` : null;
}

/** What the rows depend on: the model, the images in order, the views' names and the preprocessing. */
export function reducedKey(model: string, imageIds: Uint32Array, views: readonly string[] | null, pre: Preprocessor): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ model, views, options: pre.options, dIn: pre.dIn, dOut: pre.dOut }));
  h.update(new Uint8Array(imageIds.buffer, imageIds.byteOffset, imageIds.byteLength));
  if (pre.pca) {
    for (const a of [pre.pca.mean, pre.pca.components]) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  return h.digest('hex');
}

/** The cached rows under `key`, or null (none, another key, or a file that does not read back whole). */
export function readReducedRows(file: string, key: string): ReducedRows | null {
  let fd: number | null = null;
  try {
    fd = openSync(file, 'r');
    const head = Buffer.alloc(HEADER_BYTES);
    if (readSync(fd, head, 0, HEADER_BYTES, 0) !== HEADER_BYTES) return null;
    const h = JSON.parse(head.toString('utf8').trimEnd()) as Header;
    if (h.format !== FORMAT || h.key !== key) return null;
    const rowBytes = h.n * h.dOut * 4;
    const viewBytes = h.n * h.V * h.dOut * 2;
    if (statSync(file).size !== HEADER_BYTES + rowBytes + viewBytes) return null;
    const data = new Uint8Array(rowBytes + viewBytes);
    for (let at = 0; at < data.length;) {
      const got = readSync(fd, data, at, Math.min(data.length - at, 1 << 30), HEADER_BYTES + at);
      if (got <= 0) return null;
      at += got;
    }
    return {
      rows: new Float32Array(data.buffer, 0, h.n * h.dOut),
      views: h.V > 0 ? new Uint16Array(data.buffer, rowBytes, h.n * h.V * h.dOut) : null,
    };
  } catch {
    return null;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** Replaces the cache with these rows under `key`; a failure (disk full, read-only folder) only leaves no cache. */
export function writeReducedRows(file: string, key: string, r: ReducedRows, n: number, dOut: number): void {
  const V = r.views ? r.views.length / (n * dOut) : 0;
  const header: Header = { format: FORMAT, key, n, dOut, V };
  const head = Buffer.alloc(HEADER_BYTES, ' ');
  head.write(JSON.stringify(header), 'utf8');
  const aside = `${file}.${process.pid}.tmp`;
  try {
    const fd = openSync(aside, 'w');
    try {
      writeFileSync(fd, head);
      writeFileSync(fd, new Uint8Array(r.rows.buffer, r.rows.byteOffset, r.rows.byteLength));
      if (r.views) writeFileSync(fd, new Uint8Array(r.views.buffer, r.views.byteOffset, r.views.byteLength));
    } finally {
      closeSync(fd);
    }
    renameSync(aside, file);
  } catch {
    rmSync(aside, { force: true });
  }
}
