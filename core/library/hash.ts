/**
 * Content hash used to recognise renamed/moved files and changed contents.
 *
 * Scheme `cs1` (documented, stable: changing it invalidates stored hashes, so bump the tag):
 * - files up to FULL_HASH_MAX_BYTES (8 MiB, i.e. practically every JPEG/PNG/WebP photo):
 *   SHA-256 of the whole content;
 * - bigger files: SHA-256 of
 *     "cs1-sampled\0" + size (decimal) + "\0" + first 256 KiB + 8 evenly spaced 64 KiB
 *     samples from the middle + last 256 KiB,
 *   i.e. ~1 MiB read whatever the size. Any edit that changes the size, the header/EXIF
 *   block, the trailer or the sampled regions changes the hash; an in-place edit of
 *   unsampled bytes of a >8 MiB file that keeps the size would not, which is why the store
 *   should also compare size + mtime before trusting a hash match.
 * Returned as `cs1:<64 hex chars>`. `hashBuffer(buf)` and `hashFile(path)` give the same
 * value for the same bytes, so the decoder, which reads each file into memory once, hashes
 * its buffer without a second read.
 */
import { createHash } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import fsp from 'node:fs/promises';

export const HASH_SCHEME = 'cs1';
export const FULL_HASH_MAX_BYTES = 8 * 1024 * 1024;
const EDGE = 256 * 1024;
const SAMPLE = 64 * 1024;
const MIDDLE_SAMPLES = 8;

interface Range {
  start: number;
  length: number;
}

/** The byte ranges hashed for a file of `size` bytes above the full-hash threshold. */
function sampledRanges(size: number): Range[] {
  const ranges: Range[] = [{ start: 0, length: EDGE }];
  const inner = size - 2 * EDGE;
  for (let i = 1; i <= MIDDLE_SAMPLES; i++) {
    const centre = EDGE + Math.floor((inner * i) / (MIDDLE_SAMPLES + 1));
    ranges.push({ start: Math.max(EDGE, centre - SAMPLE / 2), length: SAMPLE });
  }
  ranges.push({ start: size - EDGE, length: EDGE });
  return ranges;
}

function finish(h: ReturnType<typeof createHash>): string {
  return `${HASH_SCHEME}:${h.digest('hex')}`;
}

export function hashBuffer(buf: Uint8Array): string {
  const h = createHash('sha256');
  if (buf.byteLength <= FULL_HASH_MAX_BYTES) {
    h.update(buf);
    return finish(h);
  }
  h.update(`${HASH_SCHEME}-sampled\0${buf.byteLength}\0`);
  for (const r of sampledRanges(buf.byteLength)) h.update(buf.subarray(r.start, r.start + r.length));
  return finish(h);
}

/**
 * Hash a file (opened read-only). Throws fs errors (ENOENT, EACCES...) to the caller, who
 * records them with `skipFromFsError`.
 */
export async function hashFile(filePath: string): Promise<string> {
  // Read-only; O_NONBLOCK so a FIFO cannot block the thread (no effect on regular files).
  const fh = await fsp.open(filePath, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      throw Object.assign(new Error(`Not a regular file: ${filePath}`), { code: st.isDirectory() ? 'EISDIR' : 'ENOTREG' });
    }
    const size = st.size;
    const h = createHash('sha256');
    if (size <= FULL_HASH_MAX_BYTES) {
      const buf = Buffer.allocUnsafe(Math.min(size, 1024 * 1024) || 1);
      let pos = 0;
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) break;
        h.update(buf.subarray(0, bytesRead));
        pos += bytesRead;
      }
      return finish(h);
    }
    h.update(`${HASH_SCHEME}-sampled\0${size}\0`);
    const buf = Buffer.allocUnsafe(EDGE);
    for (const r of sampledRanges(size)) {
      let got = 0;
      while (got < r.length) {
        const { bytesRead } = await fh.read(buf, got, r.length - got, r.start + got);
        if (bytesRead === 0) throw Object.assign(new Error('File shrank while hashing'), { code: 'ENOENT' });
        got += bytesRead;
      }
      h.update(buf.subarray(0, r.length));
    }
    return finish(h);
  } finally {
    await fh.close();
  }
}
