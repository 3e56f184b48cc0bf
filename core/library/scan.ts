/**
 * Streaming, recursive folder scan.
 *
 * - `scanFolders(roots)` is an async generator: entries are yielded as directories are read
 *   (one directory handle open at a time, memory ~ number of folders, not files), so a
 *   library of 1,000,000 files is never held in memory.
 * - Supported images (by extension, see `formats.ts`) are yielded as `ScanFile`
 *   `{path, root, size, mtimeMs, ino, dev}`; everything else is yielded as `ScanSkip`
 *   `{path, root, skip: {code, message}}`. Non-image files cost no read and no stat
 *   (a folder of 10,000 text files is a plain directory listing).
 * - Hidden files/folders (name starting with '.') and OS junk (`.DS_Store`, `Thumbs.db`,
 *   `desktop.ini`, `@eaDir`, `__MACOSX`, `$RECYCLE.BIN`, AppleDouble `._x`, ...) are ignored
 *   quietly: they are not yielded at all.
 * - Symlinks are followed. A link back to one of its own ancestors is `symlink-loop`; a
 *   folder or file already reached by another path is `duplicate`; a dangling link is
 *   `broken-link`. Loops are detected by (dev, ino) of the directories, so bind mounts and
 *   chains of links are caught too.
 * - Nothing throws for a single bad file or folder: permission errors are `unreadable`,
 *   files that disappear mid-scan are `vanished`. Only programming errors escape.
 * - Originals are only listed and stat-ed (plus an access(R_OK) check for images); the scan
 *   never opens an image for writing, renames or touches anything.
 */
import { constants as fsConstants, type Dirent, type Stats } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { classifyExtension } from './formats.js';
import { skipFromFsError, skipReason, type SkipReason } from './skips.js';

export interface ScanFile {
  /** Absolute path as reached from the root (through symlinks, not the realpath). */
  path: string;
  /** The root folder (absolute) this file was found under. */
  root: string;
  size: number;
  mtimeMs: number;
  /** Inode and device of the file (of the target for symlinks): recognises moves on the same volume. */
  ino?: number;
  dev?: number;
}

export interface ScanSkip {
  path: string;
  root: string;
  skip: SkipReason;
  /** True when the skipped path is a folder (its whole subtree was not scanned). */
  folder?: boolean;
}

export type ScanEntry = ScanFile | ScanSkip;

export function isScanSkip(entry: ScanEntry): entry is ScanSkip {
  return 'skip' in entry;
}

export interface ScanOptions {
  /** Also scan hidden files and folders (name starting with '.'). OS junk is always ignored. Default false. */
  includeHidden?: boolean;
  /** Follow symbolic links (to files and folders). Default true. */
  followSymlinks?: boolean;
  /** Check read permission of each image with access(R_OK) so permission problems show up in the scan. Default true. */
  checkReadable?: boolean;
  /** How many stat calls run at once inside one folder. Default 16; 1 makes the scan fully lazy. */
  statConcurrency?: number;
  /** Stop the scan (the generator simply returns). */
  signal?: AbortSignal;
}

/** Names that are never images and never interesting, skipped quietly everywhere. */
const JUNK_NAMES = new Set(
  [
    '.ds_store',
    'thumbs.db',
    'ehthumbs.db',
    'ehthumbs_vista.db',
    'desktop.ini',
    '@eadir',
    '__macosx',
    '$recycle.bin',
    'system volume information',
    '#recycle',
    '#snapshot',
    '.git',
    '.svn',
    '.hg',
    '.trashes',
    '.spotlight-v100',
    '.fseventsd',
    '.temporaryitems',
    '.thumbnails',
    'lost+found',
  ].map((n) => n.toLowerCase()),
);

/** True for names the scan ignores without reporting (hidden unless `includeHidden`, and OS junk). */
export function isIgnoredName(name: string, includeHidden = false): boolean {
  const lower = name.toLowerCase();
  if (JUNK_NAMES.has(lower)) return true;
  if (name.startsWith('._')) return true; // macOS AppleDouble resource forks
  if (!includeHidden && name.startsWith('.')) return true;
  return false;
}

/** Immutable chain of ancestor directory keys, for loop detection without a per-branch Set copy. */
interface Ancestors {
  key: string;
  parent: Ancestors | undefined;
}

function hasAncestor(chain: Ancestors | undefined, key: string): boolean {
  for (let a = chain; a; a = a.parent) if (a.key === key) return true;
  return false;
}

interface PendingDir {
  path: string;
  root: string;
  ancestors: Ancestors | undefined;
  viaLink: boolean;
}

interface PendingFile {
  path: string;
  root: string;
  /** From the directory entry: true = symlink (needs resolving), false = regular file. undefined = unknown type. */
  link: boolean | undefined;
}

const dirKey = (st: Stats): string => `${st.dev}:${st.ino}`;

/**
 * Recursively scan one or more roots. See the module comment for the contract.
 * A root that is a file is classified like any other file; a missing root is `vanished`.
 */
export async function* scanFolders(
  roots: string | readonly string[],
  options: ScanOptions = {},
): AsyncGenerator<ScanEntry, void, undefined> {
  const includeHidden = options.includeHidden ?? false;
  const followSymlinks = options.followSymlinks ?? true;
  const checkReadable = options.checkReadable ?? true;
  const concurrency = Math.max(1, Math.floor(options.statConcurrency ?? 16));
  const signal = options.signal;
  const rootList = (typeof roots === 'string' ? [roots] : [...roots]).map((r) => path.resolve(r));

  /** Every directory entered, by dev:ino. Memory is proportional to the number of folders only. */
  const visited = new Set<string>();
  /** Real paths of the roots, to recognise symlinked files that the walk reaches anyway. */
  const realRoots: string[] = [];
  for (const r of rootList) {
    try {
      realRoots.push(await fsp.realpath(r));
    } catch {
      /* reported below */
    }
  }

  const isInsideScannedTree = (real: string): boolean =>
    realRoots.some((rr) => {
      if (real === rr) return true;
      if (!real.startsWith(rr.endsWith(path.sep) ? rr : rr + path.sep)) return false;
      const rel = path.relative(rr, real).split(path.sep);
      return rel.every((part) => !isIgnoredName(part, includeHidden));
    });

  /** Resolve one file entry (stat, follow symlinks, classify). Never throws. */
  const resolveFile = async (f: PendingFile): Promise<ScanEntry | PendingDir | null> => {
    let st: Stats;
    try {
      st = f.link === false ? await fsp.lstat(f.path) : await fsp.stat(f.path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && f.link) {
        // stat failed but the link itself may still exist: dangling symlink.
        const stillThere = await fsp.lstat(f.path).then(
          () => true,
          () => false,
        );
        if (stillThere) return { path: f.path, root: f.root, skip: skipReason('broken-link', 'Broken symbolic link (target does not exist)') };
      }
      if (code === 'ELOOP') {
        return { path: f.path, root: f.root, skip: skipReason('symlink-loop', 'Symbolic link loop (the link points to itself)') };
      }
      return { path: f.path, root: f.root, skip: skipFromFsError(err, 'file') };
    }
    if (st.isSymbolicLink()) {
      // lstat of an entry reported as a regular file found a link: it was replaced mid-scan.
      return resolveFile({ ...f, link: true });
    }
    if (st.isDirectory()) {
      // A symlink to a folder (or an entry whose type the file system did not report).
      if (f.link && !followSymlinks) return null;
      return { path: f.path, root: f.root, ancestors: undefined, viaLink: f.link === true };
    }
    const cls = classifyExtension(f.path);
    if (cls.kind === 'skip') return { path: f.path, root: f.root, skip: cls.skip };
    if (!st.isFile()) {
      return {
        path: f.path,
        root: f.root,
        skip: skipReason('unreadable', 'Not a regular file (pipe, socket or device)'),
      };
    }
    if (f.link) {
      if (!followSymlinks) return null;
      try {
        const real = await fsp.realpath(f.path);
        if (isInsideScannedTree(real)) {
          return {
            path: f.path,
            root: f.root,
            skip: skipReason('duplicate', `Symbolic link to a file that is already scanned (${real})`),
          };
        }
      } catch (err) {
        return { path: f.path, root: f.root, skip: skipFromFsError(err, 'file') };
      }
    }
    if (st.size === 0) {
      return { path: f.path, root: f.root, skip: skipReason('empty-file', 'The file is empty (0 bytes)') };
    }
    if (checkReadable) {
      try {
        await fsp.access(f.path, fsConstants.R_OK);
      } catch (err) {
        return { path: f.path, root: f.root, skip: skipFromFsError(err, 'file') };
      }
    }
    return { path: f.path, root: f.root, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, dev: st.dev };
  };

  const stack: PendingDir[] = [];

  for (const root of rootList) {
    if (signal?.aborted) return;
    let st: Stats;
    try {
      st = await fsp.stat(root);
    } catch (err) {
      const skip = (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? skipReason('vanished', 'Folder not found')
        : skipFromFsError(err, 'folder');
      yield { path: root, root, skip, folder: true };
      continue;
    }
    if (!st.isDirectory()) {
      const r = await resolveFile({ path: root, root, link: undefined });
      if (r && !('ancestors' in r)) yield r;
      continue;
    }
    stack.push({ path: root, root, ancestors: undefined, viaLink: false });

    while (stack.length > 0) {
      if (signal?.aborted) return;
      const cur = stack.pop()!;
      let dst: Stats;
      try {
        dst = await fsp.stat(cur.path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        yield {
          path: cur.path,
          root: cur.root,
          skip: code === 'ELOOP'
            ? skipReason('symlink-loop', 'Symbolic link loop')
            : skipFromFsError(err, 'folder'),
          folder: true,
        };
        continue;
      }
      const key = dirKey(dst);
      if (hasAncestor(cur.ancestors, key)) {
        yield {
          path: cur.path,
          root: cur.root,
          skip: skipReason('symlink-loop', 'Symbolic link loop: this link points to one of its own parent folders'),
          folder: true,
        };
        continue;
      }
      if (visited.has(key)) {
        yield {
          path: cur.path,
          root: cur.root,
          skip: skipReason('duplicate', 'This folder was already scanned through another path'),
          folder: true,
        };
        continue;
      }
      visited.add(key);
      const ancestors: Ancestors = { key, parent: cur.ancestors };

      const subdirs: PendingDir[] = [];
      let batch: PendingFile[] = [];

      // Resolve a batch of files concurrently, yield in listing order.
      async function* flush(this: void): AsyncGenerator<ScanEntry> {
        const items = batch;
        batch = [];
        const results = await Promise.all(items.map(resolveFile));
        for (const r of results) {
          if (!r) continue;
          if ('ancestors' in r) subdirs.push({ ...r, ancestors });
          else yield r;
        }
      }

      let dir;
      try {
        dir = await fsp.opendir(cur.path, { bufferSize: 64 });
      } catch (err) {
        yield { path: cur.path, root: cur.root, skip: skipFromFsError(err, 'folder'), folder: true };
        continue;
      }
      try {
        for await (const d of dir as AsyncIterable<Dirent>) {
          if (signal?.aborted) return;
          const name = d.name;
          if (isIgnoredName(name, includeHidden)) continue;
          const full = path.join(cur.path, name);
          if (d.isDirectory()) {
            subdirs.push({ path: full, root: cur.root, ancestors, viaLink: false });
          } else if (d.isSymbolicLink()) {
            if (!followSymlinks) continue;
            batch.push({ path: full, root: cur.root, link: true });
          } else if (d.isFile()) {
            const cls = classifyExtension(name);
            if (cls.kind === 'skip') {
              yield { path: full, root: cur.root, skip: cls.skip };
              continue;
            }
            batch.push({ path: full, root: cur.root, link: false });
          } else if (d.isFIFO() || d.isSocket() || d.isCharacterDevice() || d.isBlockDevice()) {
            const cls = classifyExtension(name);
            yield {
              path: full,
              root: cur.root,
              skip: cls.kind === 'skip' ? cls.skip : skipReason('unreadable', 'Not a regular file (pipe, socket or device)'),
            };
          } else {
            // DT_UNKNOWN (some network/FUSE file systems): stat decides.
            batch.push({ path: full, root: cur.root, link: undefined });
          }
          if (batch.length >= concurrency) yield* flush();
        }
      } catch (err) {
        // The folder became unreadable or vanished while being listed.
        yield { path: cur.path, root: cur.root, skip: skipFromFsError(err, 'folder'), folder: true };
      }
      if (batch.length > 0) yield* flush();
      // Depth-first; reversed so folders come out in listing order.
      for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
    }
  }
}

/** Convenience: collect a whole scan (tests, small folders). Prefer iterating `scanFolders`. */
export async function scanAll(
  roots: string | readonly string[],
  options?: ScanOptions,
): Promise<{ files: ScanFile[]; skipped: ScanSkip[] }> {
  const files: ScanFile[] = [];
  const skipped: ScanSkip[] = [];
  for await (const e of scanFolders(roots, options)) {
    if (isScanSkip(e)) skipped.push(e);
    else files.push(e);
  }
  return { files, skipped };
}
