/**
 * One file of a folder export: is its original still there and readable, is the same file
 * already at the destination (an earlier export into the same folder), and placing it (copy,
 * hard link, symbolic link). Originals are only read or linked to.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, type Stats } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { ExportMode } from './types.js';

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** Why a file could not be read or written, in words (the raw message for the rare rest). */
export function describeError(err: unknown): string {
  switch (errCode(err)) {
    case 'ENOENT':
    case 'ENOTDIR':
      return 'not found: deleted or moved since the last scan';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EIO':
      return 'read error (a disk problem?)';
    case 'EEXIST':
      return 'its name was taken by another file during the export';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}

/**
 * Why a file could not be written at `target`, in words that name the destination: the
 * original is fine (a "not found" here is a destination folder gone or never made).
 */
export function describeDestinationError(err: unknown, target: string): string {
  switch (errCode(err)) {
    case 'ENOENT':
    case 'ENOTDIR':
      return `cannot write ${target}: its folder is gone or is not a folder (nothing is wrong with the original)`;
    case 'EACCES':
    case 'EPERM':
      return `cannot write ${target}: permission denied`;
    case 'ELOOP':
      return `cannot write ${target}: a link is in the way`;
    case 'EIO':
      return `cannot write ${target}: read or write error (a disk problem?)`;
    case 'EEXIST':
      return describeError(err);
    default:
      return `cannot write ${target}: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/**
 * Errors of the destination that every further file would hit too: the export stops with a
 * message instead of listing each file.
 */
export function destinationFull(err: unknown): string | null {
  const code = errCode(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'the destination disk is full';
  if (code === 'EROFS') return 'the destination is read-only';
  return null;
}

/** The original's stats, or why it cannot be exported (checked in a dry run too). */
export async function readableSource(file: string): Promise<{ stat: Stats } | { reason: string }> {
  try {
    const stat = await fsp.stat(file);
    if (!stat.isFile()) return { reason: 'not a file any more' };
    await fsp.access(file, fsConstants.R_OK);
    return { stat };
  } catch (err) {
    return { reason: describeError(err) };
  }
}

const CHUNK = 1 << 20;

async function readFully(fh: fsp.FileHandle, buf: Buffer, length: number, position: number): Promise<number> {
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

async function sameBytes(a: string, b: string, size: number): Promise<boolean> {
  const fa = await fsp.open(a, 'r');
  try {
    const fb = await fsp.open(b, 'r');
    try {
      const ba = Buffer.allocUnsafe(Math.min(CHUNK, size));
      const bb = Buffer.allocUnsafe(Math.min(CHUNK, size));
      for (let pos = 0; pos < size;) {
        const n = Math.min(CHUNK, size - pos);
        const [ra, rb] = await Promise.all([readFully(fa, ba, n, pos), readFully(fb, bb, n, pos)]);
        if (ra !== n || rb !== n || !ba.subarray(0, n).equals(bb.subarray(0, n))) return false;
        pos += n;
      }
      return true;
    } finally {
      await fb.close();
    }
  } finally {
    await fa.close();
  }
}

/**
 * Whether `existing` already holds the original's content: the same file (a hard link, or a
 * symbolic link to it), or a file of the same size and bytes (an earlier copy). Anything that
 * cannot be read counts as different, so it is kept and the export writes beside it.
 */
export async function sameContent(original: string, originalStat: Stats, existing: string): Promise<boolean> {
  try {
    const st = await fsp.stat(existing);
    if (st.dev === originalStat.dev && st.ino === originalStat.ino) return true;
    if (!st.isFile() || st.size !== originalStat.size) return false;
    return await sameBytes(original, existing, st.size);
  } catch {
    return false;
  }
}

/**
 * Why a hard link became a copy: the link crossed disks (EXDEV: another disk, or a bind mount of
 * the same one, which st_dev does not tell apart), or the destination's filesystem refused it
 * (FAT/exFAT and some network shares have no hard links; Linux's protected_hardlinks refuses a
 * link to a file the user does not own; a file can be at its link limit).
 */
export type LinkRefused = 'other-disk' | 'not-allowed';

function linkRefusal(err: unknown): LinkRefused | null {
  switch (errCode(err)) {
    case 'EXDEV':
      return 'other-disk';
    case 'EPERM':
    case 'EMLINK':
    case 'ENOTSUP':
    case 'EOPNOTSUPP':
    case 'ENOSYS':
      return 'not-allowed';
    default:
      return null;
  }
}

/**
 * Places one file; resolves to how it was placed, and why a hard link was copied instead. The
 * user asked for the files in their folders, saving space if possible: a copy where no link can
 * be made is that, and the result says so. Never overwrites: the target must not exist.
 */
export async function placeFile(
  mode: ExportMode,
  original: string,
  originalStat: Stats,
  target: string,
): Promise<{ how: ExportMode; linkRefused?: LinkRefused }> {
  if (mode === 'symlink') {
    await fsp.symlink(original, target);
    return { how: 'symlink' };
  }
  let linkRefused: LinkRefused | undefined;
  if (mode === 'hardlink') {
    try {
      await fsp.link(original, target);
      return { how: 'hardlink' };
    } catch (err) {
      const why = linkRefusal(err);
      if (!why) throw err;
      linkRefused = why;
    }
  }
  await fsp.copyFile(original, target, fsConstants.COPYFILE_EXCL);
  // Keep the original's times: a copy dated today sorts wrong in every photo viewer. Some
  // filesystems refuse (FAT's 2 s steps are rounded, some network shares fail): the copy
  // itself is good, so that is not an error.
  // lutimes: the copy just made, never what a link swapped in for it would point to.
  await fsp.lutimes(target, originalStat.atime, originalStat.mtime).catch(() => undefined);
  return linkRefused ? { how: 'copy', linkRefused } : { how: 'copy' };
}

/**
 * Writes `data` as the new file `target`, whole or not at all: into a hidden temporary file
 * beside it (same disk), flushed, then linked to its name, which fails rather than replace a
 * file that took the name meanwhile (a rename would overwrite it); where the disk has no hard
 * links, renamed after checking the name is still free. On any failure (a full disk) the
 * temporary file is removed and nothing is left under `target`.
 */
export async function writeNewFile(target: string, data: string): Promise<void> {
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await fsp.open(tmp, 'wx');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await fsp.link(tmp, target);
    } catch (err) {
      if (!linkRefusal(err)) throw err;
      if (
        await fsp.lstat(target).then(
          () => true,
          () => false,
        )
      )
        throw Object.assign(new Error(`EEXIST: ${target} exists`), { code: 'EEXIST' });
      await fsp.rename(tmp, target);
    }
  } finally {
    await fsp.rm(tmp, { force: true });
  }
}
