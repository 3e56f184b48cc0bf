/**
 * Opening the database for a CLI command: default location, instance lock (one writer app per
 * database), interrupted runs marked, and a clean close on exit or Ctrl-C.
 */
import { accessSync, constants as fsConstants, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseReadOnlyError } from '../store/errors.js';
import { acquireInstanceLock, defaultDatabasePath, openStore, type Store } from '../store/index.js';

export interface Session {
  store: Store;
  dbPath: string;
  close(): void;
}

/**
 * `mustExist`: for commands that only read (export). Opening a path that does not exist would
 * create an empty database (and its folder), and the command would then "succeed" with nothing.
 * `readOnly`: the command never writes (export): no lock, and a database on a read-only disk or
 * folder (a backup, a shared drive) is still read, see openForReading.
 */
export function openSession(dbOption: string | undefined, options: { mustExist?: boolean; readOnly?: boolean } = {}): Session {
  const dbPath = path.resolve(dbOption ?? defaultDatabasePath());
  if (options.mustExist && !statSync(dbPath, { throwIfNoEntry: false })?.isFile()) {
    throw new Error(`no database at ${dbPath} (run \`constellate cluster\` first, or pass --db FILE)`);
  }
  if (options.readOnly) return openForReading(dbPath);
  refuseUnwritable(dbPath);
  makeFolderFor(dbPath);
  const lock = acquireInstanceLock(dbPath);
  let store: Store;
  try {
    store = openStore(dbPath);
    const m = store.db.migration;
    if (m && m.from > 0)
      console.error(`constellate: database upgraded from schema ${m.from} to ${m.to}${m.backupPath ? ` (backup: ${m.backupPath})` : ''}`);
    store.runs.markInterrupted();
  } catch (err) {
    lock.release();
    throw err;
  }
  return sessionOf(store, dbPath, () => lock.release());
}

/**
 * A command that writes refuses a database file it may not write before it takes the lock or
 * opens it: SQLite would open it for reading (and make its -wal and -shm files beside it), and
 * the first write, or the first edit in the app, would be refused instead.
 */
function refuseUnwritable(dbPath: string): void {
  try {
    accessSync(dbPath, fsConstants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw new DatabaseReadOnlyError(dbPath, err);
  }
}

/** The session: `close` closes the store, then lets go of what the opening held; once. */
function sessionOf(store: Store, dbPath: string, release: () => void): Session {
  let closed = false;
  return {
    store,
    dbPath,
    close() {
      if (closed) return;
      closed = true;
      store.close();
      release();
    },
  };
}

/** The database's folder, made if needed; a file in its path is named (mkdir's EEXIST/ENOTDIR named only the path). */
function makeFolderFor(dbPath: string): void {
  try {
    mkdirSync(path.dirname(dbPath), { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST' && code !== 'ENOTDIR') throw err;
    const isFile = (p: string) => {
      try {
        return statSync(p).isFile();
      } catch {
        return false; // under the file: ENOTDIR
      }
    };
    let blocker = path.dirname(dbPath);
    while (!isFile(blocker) && path.dirname(blocker) !== blocker) blocker = path.dirname(blocker);
    throw new Error(`cannot keep the database at ${dbPath}: ${blocker} is a file, not a folder`);
  }
}

/**
 * Opens the database only to read it. SQLite reads a WAL database in place only where it can
 * create the -shm file beside it, and never upgrades a file it may not write: a database in a
 * read-only folder (a mounted backup, a share), or one from an older version there, is read
 * from a private copy in the temp folder instead (with its -wal, so nothing committed is
 * missed), which is removed on close. The original is never written.
 */
function openForReading(dbPath: string): Session {
  let store: Store;
  let copyDir: string | null = null;
  try {
    store = openStore(dbPath, { readonly: true });
  } catch (err) {
    if (!(err instanceof DatabaseReadOnlyError)) throw err;
    copyDir = mkdtempSync(path.join(tmpdir(), 'constellate-read-'));
    const copy = path.join(copyDir, path.basename(dbPath));
    try {
      copyFileSync(dbPath, copy);
      if (existsSync(`${dbPath}-wal`)) copyFileSync(`${dbPath}-wal`, `${copy}-wal`);
      store = openStore(copy);
    } catch (copyErr) {
      rmSync(copyDir, { recursive: true, force: true });
      throw copyErr;
    }
  }
  return sessionOf(store, dbPath, () => {
    if (copyDir) rmSync(copyDir, { recursive: true, force: true });
  });
}
