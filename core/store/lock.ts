/**
 * One Constellate instance per database file, whatever path it is opened by. Two lock files,
 * each holding `{pid, host, token, ...}` and created atomically (write temp file + hard link,
 * which fails if the lock exists):
 *
 * - `<db>.lock` beside the database (its real path: a symbolic link to it is it), which
 *   instances on other machines sharing the folder also see;
 * - `<app data>/locks/<device>-<inode>.lock`, by the file's identity: a hard link to the
 *   database (`ln A/c.db B/c.db`), or the file moved while open, is the same file under
 *   another path. Per path alone, two writers each had a lock, and SQLite gave each its own
 *   WAL over the one file: acknowledged edits were lost. (Both lock files are taken before
 *   SQLite opens the file; a missing database is created empty first, to have an identity.)
 *
 * A lock is stale (and silently taken over) when, on the same host, its pid is
 * not running, or is running but started at another time than recorded
 * (pid reuse, Linux), or is our own pid but not held by this process (a
 * previous incarnation in a container that reuses pids). Locks from another
 * host cannot be checked and are honoured unless `force` is given.
 *
 * Worker threads / utility processes of the same app instance open the
 * database without taking the lock; only the app's main process holds it.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { appDataDir } from './appData.js';
import { InstanceLockedError, mapSqliteError, StoreUsageError } from './errors.js';

export interface LockInfo {
  app: 'constellate';
  pid: number;
  host: string;
  token: string;
  /** Process start time as reported by /proc (Linux) for pid-reuse detection; null elsewhere. */
  procStart: string | null;
  acquiredAt: string;
  /** The database's real path as the holder opened it (the identity lock's holder may use another). */
  database?: string;
}

export interface InstanceLock {
  readonly path: string;
  readonly info: LockInfo;
  release(): void;
}

const heldTokens = new Set<string>();

/** The database's path with symbolic links resolved (as far as it exists). */
function realDatabasePath(dbPath: string): string {
  const abs = path.resolve(dbPath);
  try {
    return realpathSync(abs);
  } catch {
    try {
      return path.join(realpathSync(path.dirname(abs)), path.basename(abs));
    } catch {
      return abs;
    }
  }
}

function lockPathFor(dbPath: string): string {
  return `${realDatabasePath(dbPath)}.lock`;
}

/**
 * The folder of the identity locks: in the app-data folder (private to the user, and not
 * cleaned by age as /tmp is: a server left running for weeks keeps its lock); where that cannot
 * be made (no writable home), a folder of the user's own in the temp folder.
 */
function identityLockDir(): string {
  const uid = process.getuid?.();
  const candidates = [path.join(appDataDir(), 'locks'), path.join(os.tmpdir(), `constellate-locks${uid === undefined ? '' : `-${uid}`}`)];
  for (const dir of candidates) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const st = lstatSync(dir);
      // Another user's folder (made in the shared temp folder first) is not ours to trust.
      if (st.isDirectory() && (uid === undefined || st.uid === uid)) return dir;
    } catch {
      /* the next */
    }
  }
  throw new StoreUsageError(`cannot make a folder for Constellate's locks (${candidates[0]}): check that your home folder can be written`);
}

/**
 * The identity lock of the database at `real`: by device and inode, so every path to the file
 * has the same one. A missing database is created empty (SQLite takes a 0-byte file as an empty
 * database) so that it has an identity before SQLite writes it.
 */
function identityLockPath(real: string): string {
  try {
    closeSync(openSync(real, 'wx'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw mapSqliteError(err, real);
  }
  const st = statSync(real, { bigint: true });
  return path.join(identityLockDir(), `${st.dev}-${st.ino}.lock`);
}

function procStartOf(pid: number): string | null {
  if (process.platform !== 'linux') return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime); the command name (field 2) may contain spaces, so split after ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? null;
  } catch {
    return null;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads the lock file of `dbPath` (beside it), or null if there is none (or it is unreadable garbage). */
export function readInstanceLock(dbPath: string): LockInfo | null {
  return readLockFile(lockPathFor(dbPath));
}

function readLockFile(lockPath: string): LockInfo | null {
  try {
    const parsed = JSON.parse(readFileSync(lockPath, 'utf8')) as Partial<LockInfo>;
    if (typeof parsed.pid !== 'number' || typeof parsed.token !== 'string') return null;
    return {
      app: 'constellate',
      pid: parsed.pid,
      host: typeof parsed.host === 'string' ? parsed.host : '',
      token: parsed.token,
      procStart: typeof parsed.procStart === 'string' ? parsed.procStart : null,
      acquiredAt: typeof parsed.acquiredAt === 'string' ? parsed.acquiredAt : '',
      ...(typeof parsed.database === 'string' ? { database: parsed.database } : {}),
    };
  } catch {
    return null;
  }
}

function isStale(info: LockInfo): boolean {
  if (heldTokens.has(info.token)) return false; // held by this very process
  if (info.host !== os.hostname()) return false; // cannot check another machine
  if (info.pid === process.pid) return true; // our pid, but not our lock: previous incarnation
  if (!pidAlive(info.pid)) return true;
  if (info.procStart !== null) {
    const now = procStartOf(info.pid);
    if (now !== null && now !== info.procStart) return true; // pid reused by another process
  }
  return false;
}

function tryCreate(lockPath: string, content: string): boolean {
  const tmp = `${lockPath}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, content, { flag: 'wx' });
  try {
    linkSync(tmp, lockPath);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS') {
      // File systems without hard links: exclusive create (tiny window where the file is empty).
      try {
        writeFileSync(lockPath, content, { flag: 'wx' });
        return true;
      } catch (err2) {
        if ((err2 as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw err2;
      }
    }
    throw err;
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      /* ignore */
    }
  }
}

/**
 * Take the instance lock of `dbPath` or throw InstanceLockedError naming the holder (and the
 * path it uses, where that is another). A stale lock (dead pid) is taken over. The lock is
 * released on `release()` and, best effort, when the process exits.
 */
export function acquireInstanceLock(dbPath: string, options: { force?: boolean } = {}): InstanceLock {
  const real = realDatabasePath(dbPath);
  const info: LockInfo = {
    app: 'constellate',
    pid: process.pid,
    host: os.hostname(),
    token: randomBytes(12).toString('hex'),
    procStart: procStartOf(process.pid),
    acquiredAt: new Date().toISOString(),
    database: real,
  };
  const beside = takeLockFile(`${real}.lock`, dbPath, info, options);
  let identity: string;
  try {
    identity = identityLockPath(real);
    takeLockFile(identity, dbPath, info, options);
  } catch (err) {
    releaseLockFile(beside, info.token);
    throw err;
  }
  return makeLock(beside, identity, info);
}

/**
 * Creates the lock file `lockPath` holding `info`, taking over a stale one; throws
 * InstanceLockedError (about `dbPath`) naming a live holder. Resolves to `lockPath`.
 */
function takeLockFile(lockPath: string, dbPath: string, info: LockInfo, options: { force?: boolean }): string {
  const content = `${JSON.stringify(info)}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    let created: boolean;
    try {
      created = tryCreate(lockPath, content);
    } catch (err) {
      // A folder where no file can be made (/proc, a file in the path): the raw ENOENT named the
      // lock's temp file, which the user never asked about.
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        throw new StoreUsageError(
          `cannot create files in ${path.dirname(dbPath)}, so the database cannot be kept there: choose another location`,
        );
      }
      throw mapSqliteError(err, dbPath);
    }
    if (created) return lockPath;

    const holder = readLockFile(lockPath);
    if (holder === null) {
      // Unparseable: a writer in its tiny create window, or garbage. Garbage older than 10 s is stale.
      let ageMs = 0;
      try {
        ageMs = Date.now() - statSync(lockPath).mtimeMs;
      } catch {
        continue; // vanished: retry
      }
      if (ageMs < 10_000 && !options.force) throw new InstanceLockedError(dbPath, 0, '');
    } else if (!options.force && !isStale(holder)) {
      throw new InstanceLockedError(dbPath, holder.pid, holder.host, otherPath(holder, info));
    }
    // Stale: move it aside atomically (only one contender can rename this exact file), then retry.
    const aside = `${lockPath}.stale-${info.token}`;
    try {
      renameSync(lockPath, aside);
    } catch {
      continue; // someone else removed it first; retry
    }
    try {
      const moved = JSON.parse(readFileSync(aside, 'utf8')) as Partial<LockInfo>;
      // Race: between our check and the rename another instance may have taken over.
      // If we moved a lock other than the stale one we judged, put it back.
      if (holder !== null && moved.token !== holder.token) {
        try {
          linkSync(aside, lockPath);
        } catch {
          /* slot taken again: that one wins */
        }
      }
    } catch {
      /* unreadable: it was garbage */
    }
    try {
      unlinkSync(aside);
    } catch {
      /* ignore */
    }
  }
  const holder = readLockFile(lockPath);
  throw new InstanceLockedError(dbPath, holder?.pid ?? 0, holder?.host ?? '', holder ? otherPath(holder, info) : null);
}

/** The path the holder opened the database by, where it is not ours (both real paths). */
function otherPath(holder: LockInfo, ours: LockInfo): string | null {
  return holder.database !== undefined && holder.database !== ours.database ? holder.database : null;
}

function makeLock(lockPath: string, identityPath: string, info: LockInfo): InstanceLock {
  heldTokens.add(info.token);
  const releaseBoth = (): void => {
    heldTokens.delete(info.token);
    releaseLockFile(identityPath, info.token);
    releaseLockFile(lockPath, info.token);
  };
  process.once('exit', releaseBoth);
  let released = false;
  return {
    path: lockPath,
    info,
    release() {
      if (released) return;
      released = true;
      process.removeListener('exit', releaseBoth);
      releaseBoth();
    },
  };
}

/** Removes the lock file if it is still ours (a stale one taken over by another is theirs). */
function releaseLockFile(lockPath: string, token: string): void {
  try {
    const current = JSON.parse(readFileSync(lockPath, 'utf8')) as Partial<LockInfo>;
    if (current.token === token) unlinkSync(lockPath);
  } catch {
    /* already gone */
  }
}

export function releaseInstanceLock(lock: InstanceLock): void {
  lock.release();
}
