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
 * - Symlinks are followed. A link back to one of its own ancestors, or to a folder holding a
 *   root, is `symlink-loop`; a folder or file already reached by another path (or reached by
 *   the walk anyway, under its real path) is `duplicate`; a dangling link is `broken-link`.
 *   Loops are detected by (dev, ino) of the directories, so bind mounts and chains of links
 *   are caught too; real paths of the folders entered catch a file linked from elsewhere.
 * - A file belongs to one library: a folder or linked file whose real path lies inside one of
 *   `otherRoots` (the other libraries) is `duplicate`, so `a -> ../libX` in libY does not
 *   index libX's images a second time. Links to places outside every library are followed.
 * - A folder holding `EXPORT_MARKER` (an export of Constellate: copies of library images) is
 *   left out quietly, with everything below it; `onLeftOut` hears of it. Not a root: a folder
 *   the user chose is scanned.
 * - Nothing throws for a single bad file or folder: permission errors are `unreadable`,
 *   files that disappear mid-scan are `vanished`. Only programming errors escape.
 * - Originals are only listed and stat-ed (plus an access(R_OK) check for images); the scan
 *   never opens an image for writing, renames or touches anything.
 */
import { constants as fsConstants, type Dirent, type Stats } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { EXPORT_MARKER } from './exportMarker.js';
import { classifyExtension } from './formats.js';
import { isInside } from './paths.js';
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
  /**
   * Roots of the other libraries: what lies inside them is indexed there, never here. One that
   * holds a scanned root (a library added inside another before that was refused) is ignored,
   * so files go to the innermost library.
   */
  otherRoots?: readonly string[];
  /** Called with each folder left out because it holds an export of Constellate (`EXPORT_MARKER`). */
  onLeftOut?: (folder: string) => void;
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
  /** Reached through a symlink: its real path is not where the walk put it. */
  viaLink: boolean;
  /** Real path (symlinks resolved). */
  real: string;
}

interface PendingFile {
  path: string;
  root: string;
  /** From the directory entry: true = symlink (needs resolving), false = regular file. undefined = unknown type. */
  link: boolean | undefined;
  /** Real path of the folder listing it. */
  dirReal: string;
}

/** An image reached through a file symlink, with its target: whether it is new to the scan is decided in listing order. */
type LinkedFile = ScanFile & { linkedReal: string };

const dirKey = (st: Stats): string => `${st.dev}:${st.ino}`;

const folderSkip = (dir: { path: string; root: string }, skip: SkipReason): ScanSkip => ({
  path: dir.path,
  root: dir.root,
  skip,
  folder: true,
});

/**
 * One scan's walk: what it has seen (folders by dev:ino and by real path, the targets of the
 * file links it took) and how it decides about each folder and file. scanFolders drives it.
 */
class FolderWalk {
  readonly includeHidden: boolean;
  readonly followSymlinks: boolean;
  readonly checkReadable: boolean;
  readonly concurrency: number;
  /** Every directory entered, by dev:ino. Memory is proportional to the number of folders only. */
  private readonly visited = new Set<string>();
  /** Real paths of the folders entered: a linked file in one of them is listed there anyway. */
  private readonly visitedReal = new Set<string>();
  /** Targets of the file links taken so far (few): the walk may reach them later by their real path. */
  private readonly linkedFiles = new Set<string>();

  constructor(
    options: ScanOptions,
    /** Real paths of the roots, to recognise symlinked files that the walk reaches anyway. */
    private readonly realRoots: readonly string[],
    /** Real paths of the other libraries (those not inside a root). */
    private readonly otherRoots: readonly string[],
  ) {
    this.includeHidden = options.includeHidden ?? false;
    this.followSymlinks = options.followSymlinks ?? true;
    this.checkReadable = options.checkReadable ?? true;
    this.concurrency = Math.max(1, Math.floor(options.statConcurrency ?? 16));
  }

  static async start(rootList: readonly string[], options: ScanOptions): Promise<FolderWalk> {
    const realRoots: string[] = [];
    for (const r of rootList) {
      try {
        realRoots.push(await fsp.realpath(r));
      } catch {
        /* reported by the walk */
      }
    }
    const otherRoots: string[] = [];
    for (const o of options.otherRoots ?? []) {
      // An unreachable library (unplugged drive) still owns its path.
      const real = await fsp.realpath(o).catch(() => path.resolve(o));
      if (!realRoots.some((rr) => isInside(rr, real))) otherRoots.push(real);
    }
    return new FolderWalk(options, realRoots, otherRoots);
  }

  private otherRootOf(real: string): string | undefined {
    return this.otherRoots.find((o) => isInside(real, o));
  }

  private isInsideScannedTree(real: string): boolean {
    return this.realRoots.some((rr) => {
      if (real === rr) return true;
      if (!isInside(real, rr)) return false;
      const rel = path.relative(rr, real).split(path.sep);
      return rel.every((part) => !isIgnoredName(part, this.includeHidden));
    });
  }

  /** Decides, in listing order, whether a file is reached for the first time in this scan. */
  firstVisit(r: ScanFile | LinkedFile, dirReal: string): ScanEntry {
    const duplicate = (why: string): ScanSkip => ({ path: r.path, root: r.root, skip: skipReason('duplicate', why) });
    if (!('linkedReal' in r)) {
      if (this.linkedFiles.size > 0 && this.linkedFiles.has(path.join(dirReal, path.basename(r.path)))) {
        return duplicate('This file was already scanned through a symbolic link');
      }
      return r;
    }
    const { linkedReal, ...file } = r;
    const listedThere = this.visitedReal.has(path.dirname(linkedReal)) && !isIgnoredName(path.basename(linkedReal), this.includeHidden);
    if (listedThere || this.linkedFiles.has(linkedReal)) {
      return duplicate(`Symbolic link to a file that is already scanned (${linkedReal})`);
    }
    this.linkedFiles.add(linkedReal);
    return file;
  }

  /** Resolve one file entry (stat, follow symlinks, classify). Never throws. */
  async resolveFile(f: PendingFile): Promise<ScanEntry | LinkedFile | PendingDir | null> {
    let st: Stats;
    try {
      st = f.link === false ? await fsp.lstat(f.path) : await fsp.stat(f.path);
    } catch (err) {
      return this.unstattable(f, err);
    }
    if (st.isSymbolicLink()) {
      // lstat of an entry reported as a regular file found a link: it was replaced mid-scan.
      return this.resolveFile({ ...f, link: true });
    }
    if (st.isDirectory()) return this.linkedFolder(f);
    const cls = classifyExtension(f.path);
    if (cls.kind === 'skip') return { path: f.path, root: f.root, skip: cls.skip };
    if (!st.isFile()) {
      return {
        path: f.path,
        root: f.root,
        skip: skipReason('unreadable', 'Not a regular file (pipe, socket or device)'),
      };
    }
    let linkedReal: string | undefined;
    if (f.link) {
      if (!this.followSymlinks) return null;
      const target = await this.linkTarget(f);
      if (typeof target !== 'string') return target;
      linkedReal = target;
    }
    if (st.size === 0) {
      return { path: f.path, root: f.root, skip: skipReason('empty-file', 'The file is empty (0 bytes)') };
    }
    if (this.checkReadable) {
      try {
        await fsp.access(f.path, fsConstants.R_OK);
      } catch (err) {
        return { path: f.path, root: f.root, skip: skipFromFsError(err, 'file') };
      }
    }
    const file: ScanFile = { path: f.path, root: f.root, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, dev: st.dev };
    return linkedReal === undefined ? file : { ...file, linkedReal };
  }

  /** Why a file could not be stat'ed: a dangling link, a link loop, or the file system's error. */
  private async unstattable(f: PendingFile, err: unknown): Promise<ScanSkip> {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && f.link) {
      // stat failed but the link itself may still exist: dangling symlink.
      const stillThere = await fsp.lstat(f.path).then(
        () => true,
        () => false,
      );
      if (stillThere)
        return { path: f.path, root: f.root, skip: skipReason('broken-link', 'Broken symbolic link (target does not exist)') };
    }
    if (code === 'ELOOP') {
      return { path: f.path, root: f.root, skip: skipReason('symlink-loop', 'Symbolic link loop (the link points to itself)') };
    }
    return { path: f.path, root: f.root, skip: skipFromFsError(err, 'file') };
  }

  /** A symlink to a folder (or an entry whose type the file system did not report). */
  private async linkedFolder(f: PendingFile): Promise<ScanSkip | PendingDir | null> {
    if (f.link && !this.followSymlinks) return null;
    let real: string;
    try {
      real = await fsp.realpath(f.path);
    } catch (err) {
      return folderSkip(f, skipFromFsError(err, 'folder'));
    }
    // An entry of unknown type may be a link too: the real path tells.
    const viaLink = f.link === true || real !== path.join(f.dirReal, path.basename(f.path));
    return { path: f.path, root: f.root, ancestors: undefined, viaLink, real };
  }

  /** A file link's real target, or why it is not followed (another library's file, one the walk reaches anyway). */
  private async linkTarget(f: PendingFile): Promise<string | ScanSkip> {
    let linkedReal: string;
    try {
      linkedReal = await fsp.realpath(f.path);
    } catch (err) {
      return { path: f.path, root: f.root, skip: skipFromFsError(err, 'file') };
    }
    const other = this.otherRootOf(linkedReal);
    if (other !== undefined) {
      return {
        path: f.path,
        root: f.root,
        skip: skipReason('duplicate', `Symbolic link to a file of another library (${other}): it is indexed there`),
      };
    }
    if (this.isInsideScannedTree(linkedReal)) {
      return {
        path: f.path,
        root: f.root,
        skip: skipReason('duplicate', `Symbolic link to a file that is already scanned (${linkedReal})`),
      };
    }
    return linkedReal;
  }

  /**
   * Whether to enter a folder: its dev:ino key when it is entered; else the skip to report (a
   * loop, a folder already scanned, an unreadable one, one left out), or 'export' for a folder
   * export (left out quietly).
   */
  async enter(cur: PendingDir): Promise<{ key: string } | { skip: ScanSkip } | 'export'> {
    let dst: Stats;
    try {
      dst = await fsp.stat(cur.path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return {
        skip: folderSkip(cur, code === 'ELOOP' ? skipReason('symlink-loop', 'Symbolic link loop') : skipFromFsError(err, 'folder')),
      };
    }
    const key = dirKey(dst);
    if (hasAncestor(cur.ancestors, key)) {
      return { skip: folderSkip(cur, skipReason('symlink-loop', 'Symbolic link loop: this link points to one of its own parent folders')) };
    }
    if (this.visited.has(key)) {
      return { skip: folderSkip(cur, skipReason('duplicate', 'This folder was already scanned through another path')) };
    }
    const leftOut = await this.leaveOut(cur);
    if (leftOut === 'export') return 'export';
    if (leftOut) return { skip: leftOut };
    this.visited.add(key);
    this.visitedReal.add(cur.real);
    return { key };
  }

  /**
   * Why a folder about to be entered stays out: it belongs to another library, it is reached
   * through a link although the walk reaches it anyway (or it holds a root: a loop that would
   * pull in the folders around the library), or it is an export. Roots are always entered.
   */
  private async leaveOut(dir: PendingDir): Promise<ScanSkip | 'export' | null> {
    const skip = (code: 'duplicate' | 'symlink-loop', message: string): ScanSkip => folderSkip(dir, skipReason(code, message));
    if (dir.path === dir.root) return null;
    const other = this.otherRootOf(dir.real);
    if (other !== undefined) return skip('duplicate', `This folder is in another library (${other}): its images are indexed there`);
    if (dir.viaLink && this.realRoots.some((rr) => isInside(rr, dir.real))) {
      return skip('symlink-loop', `Symbolic link loop: this link points to a folder that holds the library (${dir.real})`);
    }
    if (dir.viaLink && this.isInsideScannedTree(dir.real)) {
      return skip('duplicate', `Symbolic link to a folder that is already scanned (${dir.real})`);
    }
    const marker = await fsp.lstat(path.join(dir.path, EXPORT_MARKER)).then(
      () => true,
      () => false,
    );
    return marker ? 'export' : null;
  }

  /**
   * Lists a folder entered: yields its files (and skips) in listing order, resolving them in
   * batches of `concurrency`, and returns its subfolders; null when the scan was cancelled.
   */
  async *list(
    cur: PendingDir,
    ancestors: Ancestors,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<ScanEntry, PendingDir[] | null, undefined> {
    const subdirs: PendingDir[] = [];
    let batch: PendingFile[] = [];

    // Resolve a batch of files concurrently, yield in listing order.
    const flush = async function* (this: FolderWalk): AsyncGenerator<ScanEntry> {
      const items = batch;
      batch = [];
      const results = await Promise.all(items.map((f) => this.resolveFile(f)));
      for (const r of results) {
        if (!r) continue;
        if ('ancestors' in r) subdirs.push({ ...r, ancestors });
        else if (isScanSkip(r)) yield r;
        else yield this.firstVisit(r, cur.real);
      }
    }.bind(this);

    let dir;
    try {
      dir = await fsp.opendir(cur.path, { bufferSize: 64 });
    } catch (err) {
      yield folderSkip(cur, skipFromFsError(err, 'folder'));
      return subdirs;
    }
    try {
      for await (const d of dir as AsyncIterable<Dirent>) {
        if (signal?.aborted) return null;
        const name = d.name;
        if (isIgnoredName(name, this.includeHidden)) continue;
        const full = path.join(cur.path, name);
        if (d.isDirectory()) {
          subdirs.push({ path: full, root: cur.root, ancestors, viaLink: false, real: path.join(cur.real, name) });
        } else if (d.isSymbolicLink()) {
          if (!this.followSymlinks) continue;
          batch.push({ path: full, root: cur.root, link: true, dirReal: cur.real });
        } else if (d.isFile()) {
          const cls = classifyExtension(name);
          if (cls.kind === 'skip') {
            yield { path: full, root: cur.root, skip: cls.skip };
            continue;
          }
          batch.push({ path: full, root: cur.root, link: false, dirReal: cur.real });
        } else if (d.isFIFO() || d.isSocket() || d.isCharacterDevice() || d.isBlockDevice()) {
          const cls = classifyExtension(name);
          yield {
            path: full,
            root: cur.root,
            skip: cls.kind === 'skip' ? cls.skip : skipReason('unreadable', 'Not a regular file (pipe, socket or device)'),
          };
        } else {
          // DT_UNKNOWN (some network/FUSE file systems): stat decides.
          batch.push({ path: full, root: cur.root, link: undefined, dirReal: cur.real });
        }
        if (batch.length >= this.concurrency) yield* flush();
      }
    } catch (err) {
      // The folder became unreadable or vanished while being listed.
      yield folderSkip(cur, skipFromFsError(err, 'folder'));
    }
    if (batch.length > 0) yield* flush();
    return subdirs;
  }
}

/**
 * Recursively scan one or more roots. See the module comment for the contract.
 * A root that is a file is classified like any other file; a missing root is `vanished`.
 */
export async function* scanFolders(
  roots: string | readonly string[],
  options: ScanOptions = {},
): AsyncGenerator<ScanEntry, void, undefined> {
  const signal = options.signal;
  const rootList = (typeof roots === 'string' ? [roots] : [...roots]).map((r) => path.resolve(r));
  const walk = await FolderWalk.start(rootList, options);
  const stack: PendingDir[] = [];

  for (const root of rootList) {
    if (signal?.aborted) return;
    let st: Stats;
    try {
      st = await fsp.stat(root);
    } catch (err) {
      const skip =
        (err as NodeJS.ErrnoException).code === 'ENOENT' ? skipReason('vanished', 'Folder not found') : skipFromFsError(err, 'folder');
      yield { path: root, root, skip, folder: true };
      continue;
    }
    if (!st.isDirectory()) {
      const r = await walk.resolveFile({ path: root, root, link: undefined, dirReal: path.dirname(root) });
      if (r && !('ancestors' in r)) yield r;
      continue;
    }
    const rootReal = await fsp.realpath(root).catch(() => root);
    stack.push({ path: root, root, ancestors: undefined, viaLink: false, real: rootReal });

    while (stack.length > 0) {
      if (signal?.aborted) return;
      const cur = stack.pop()!;
      const entered = await walk.enter(cur);
      if (entered === 'export') {
        options.onLeftOut?.(cur.path);
        continue;
      }
      if ('skip' in entered) {
        yield entered.skip;
        continue;
      }
      const subdirs = yield* walk.list(cur, { key: entered.key, parent: cur.ancestors }, signal);
      if (subdirs === null) return;
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
