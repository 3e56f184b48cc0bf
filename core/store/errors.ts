/**
 * Typed errors of the store. Every error carries a `userMessage` that the UI
 * can show as is (no SQLite jargon), plus the original error as `cause`.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export class StoreError extends Error {
  readonly userMessage: string;
  constructor(message: string, userMessage: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.userMessage = userMessage;
  }
}

/** The database was written by a newer version of Constellate. Nothing was changed. */
export class SchemaTooNewError extends StoreError {
  constructor(
    readonly file: string,
    readonly fileVersion: number,
    readonly supportedVersion: number,
  ) {
    super(
      `Database ${file} has schema version ${fileVersion}; this build supports up to ${supportedVersion}`,
      `This library database was created by a newer version of Constellate (schema ${fileVersion}, ` +
        `this version understands up to ${supportedVersion}). Please update Constellate. ` +
        `The database was not changed.`,
    );
  }
}

/** The database (or its folder) cannot be written. Nothing was written. */
export class DatabaseReadOnlyError extends StoreError {
  constructor(
    readonly file: string,
    cause?: unknown,
  ) {
    super(
      `Database ${file} is read-only`,
      `The library database at ${file} is read-only (or its folder is), so changes cannot be saved. ` +
        `Nothing was changed. Check the file permissions or choose another location.`,
      { cause },
    );
  }
}

/** The disk is full (or the database hit its size limit). The batch in flight was rolled back. */
export class DiskFullError extends StoreError {
  constructor(
    readonly file: string,
    cause?: unknown,
  ) {
    super(
      `Disk full while writing ${file}`,
      `The disk holding the library database (${file}) is full. The last change was not saved; ` +
        `everything saved before it is intact. Free some space and try again.`,
      { cause },
    );
  }
}

/**
 * Another running Constellate instance uses this database: through this path, or through
 * another (`holderPath`: a hard link to the same file, or the path it had before a move).
 */
export class InstanceLockedError extends StoreError {
  constructor(
    readonly file: string,
    readonly holderPid: number,
    readonly holderHost: string,
    readonly holderPath: string | null = null,
  ) {
    const through = holderPath ? `, through ${holderPath} (the same file under another name)` : '';
    super(
      `Database ${file} is locked by process ${holderPid} on ${holderHost}${through}`,
      // The holder may be the app or a CLI `cluster`/`serve` (pid 0: unknown, the lock file was unreadable).
      `Constellate is already open on this library${holderPid ? ` in process ${holderPid}${holderHost ? ` on ${holderHost}` : ''}` : ''}${through} ` +
        `(the app, \`constellate serve\` or a \`constellate cluster\` run). Close it or let it finish, then try again.`,
    );
  }
}

/** Another connection held a write lock for longer than busy_timeout. */
export class DatabaseBusyError extends StoreError {
  constructor(
    readonly file: string,
    cause?: unknown,
  ) {
    super(`Database ${file} is busy`, `The library database is busy (another task is writing). Please try again in a moment.`, { cause });
  }
}

/**
 * The newest backup of `file` there is (`<file>.bak-v<N>-<time>`, made before an upgrade), or
 * null: a message names a backup only where there is one.
 */
export function newestBackupOf(file: string): string | null {
  try {
    const dir = path.dirname(file);
    const prefix = `${path.basename(file)}.bak-v`;
    const backups = readdirSync(dir)
      .filter((n) => n.startsWith(prefix) && !/-(wal|shm|journal)$/.test(n))
      .map((n) => ({ file: path.join(dir, n), mtimeMs: statSync(path.join(dir, n)).mtimeMs }))
      .sort((a, b) => b.mtimeMs - a.mtimeMs);
    return backups[0]?.file ?? null;
  } catch {
    return null;
  }
}

/**
 * The file is not a SQLite database, or it is damaged. `untouched`: found when opening it
 * (PRAGMA quick_check), before anything was written; `problems`: what SQLite's check reported.
 */
export class DatabaseCorruptError extends StoreError {
  readonly backup: string | null;
  constructor(
    readonly file: string,
    cause?: unknown,
    options: { untouched?: boolean; problems?: readonly string[] } = {},
  ) {
    const backup = file === ':memory:' ? null : newestBackupOf(file);
    const problems = options.problems ?? [];
    const todo = backup
      ? `Restore its backup: move it aside and rename ${backup} to ${path.basename(file)} (the backup was made before an upgrade: what changed since is not in it).`
      : `Constellate made no backup of it. Move it aside (rename it), and Constellate starts a new database: your photos are not affected, but the groups, names and edits kept in it are lost.`;
    super(
      `Database ${file} is corrupt or not a database${problems.length ? `: ${problems.slice(0, 3).join('; ')}` : ''}`,
      `The library database at ${file} is damaged or is not a Constellate database.${options.untouched ? ' Nothing was written to it.' : ''} ${todo}`,
      { cause },
    );
    this.backup = backup;
  }
}

/** The database file would live inside a photo folder, which Constellate never writes to. */
export class DatabaseInsidePhotoFolderError extends StoreError {
  constructor(
    readonly file: string,
    readonly root: string,
  ) {
    super(
      `Database ${file} lies inside photo folder ${root}`,
      `The library database (${file}) is inside the photo folder ${root}. Constellate never writes into ` +
        `photo folders; choose a database location outside it.`,
    );
  }
}

/**
 * The folder lies inside a library, or holds libraries: its images would be indexed twice
 * (every copy a separate image in the groups). Nothing was added.
 */
export class LibraryOverlapError extends StoreError {
  constructor(
    readonly root: string,
    readonly kind: 'inside' | 'contains',
    readonly libraries: readonly string[],
  ) {
    const list = libraries.join(', ');
    const one = libraries.length === 1;
    const message =
      kind === 'inside'
        ? `${root} is already part of the library ${list}: its images are indexed there.`
        : `${root} contains the ${one ? 'library' : 'libraries'} ${list}: remove ${one ? 'it' : 'them'} first, or add the folders separately.`;
    super(message, message);
  }
}

/** A caller asked for something that does not exist or an invalid operation. */
export class StoreUsageError extends StoreError {
  constructor(message: string) {
    super(message, message);
  }
}

/**
 * What an edit names does not exist (any more): another edit (a merge, a split, an undo) or a
 * regroup removed it after the screen showed it. Nothing was changed.
 */
export class StoreNotFoundError extends StoreUsageError {}

/** A group an edit or a screen names is gone: what the user is told (the UI shows it as is). */
export const GROUP_GONE = 'This group no longer exists: another edit merged, split or undid it since it was shown';

/**
 * The edit was worked out for a group as it was, and another edit changed the group meanwhile
 * (a split computed while its images were moved away). Nothing was changed; doing it again works.
 */
export class StaleEditError extends StoreUsageError {}

/**
 * A folder that is no folder of photos: the whole disk, a system folder, or Constellate's own
 * data. Nothing was added. The message says what it is and what to choose instead.
 */
export class LibraryFolderRefusedError extends StoreUsageError {
  constructor(
    readonly root: string,
    readonly why: 'disk' | 'system' | 'app-data',
    detail: string,
  ) {
    super(
      why === 'disk'
        ? `${root} is the whole disk, not a folder of photos: choose the folder that holds your photos`
        : why === 'system'
          ? `${root} is a folder of the operating system (${detail}), not a folder of photos: choose the folder that holds your photos`
          : `${root} is in Constellate's own data folder (${detail}), where it keeps its database and thumbnails: choose the folder that holds your photos`,
    );
  }
}

interface SqliteLikeError {
  code?: unknown;
}

function codeOf(err: unknown): string {
  const code = (err as SqliteLikeError | null)?.code;
  return typeof code === 'string' ? code : '';
}

/**
 * Translate a raw SQLite / fs error into one of the typed errors above, or
 * return it unchanged.
 */
export function mapSqliteError(err: unknown, file: string): unknown {
  if (err instanceof StoreError) return err;
  const code = codeOf(err);
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
    return new DatabaseReadOnlyError(file, err);
  }
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') return new DiskFullError(file, err);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return new DatabaseBusyError(file, err);
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return new DatabaseCorruptError(file, err);
  // SQLITE_IOERR variants caused by a full disk surface as IOERR_WRITE etc. on some platforms.
  if (code.startsWith('SQLITE_IOERR') && /no space|disk is full|ENOSPC/i.test(String((err as Error).message))) {
    return new DiskFullError(file, err);
  }
  return err;
}
