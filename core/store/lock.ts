/**
 * One Constellate instance per database: a `<db>.lock` file holding
 * `{pid, host, token, ...}`, created atomically (write temp file + hard link,
 * which fails if the lock exists).
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
import { linkSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { InstanceLockedError, mapSqliteError, StoreUsageError } from './errors.js';

export interface LockInfo {
  app: 'constellate';
  pid: number;
  host: string;
  token: string;
  /** Process start time as reported by /proc (Linux) for pid-reuse detection; null elsewhere. */
  procStart: string | null;
  acquiredAt: string;
}

export interface InstanceLock {
  readonly path: string;
  readonly info: LockInfo;
  release(): void;
}

const heldTokens = new Set<string>();

function lockPathFor(dbPath: string): string {
  return `${path.resolve(dbPath)}.lock`;
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

/** Reads the lock file of `dbPath`, or null if there is none (or it is unreadable garbage). */
export function readInstanceLock(dbPath: string): LockInfo | null {
  try {
    const parsed = JSON.parse(readFileSync(lockPathFor(dbPath), 'utf8')) as Partial<LockInfo>;
    if (typeof parsed.pid !== 'number' || typeof parsed.token !== 'string') return null;
    return {
      app: 'constellate',
      pid: parsed.pid,
      host: typeof parsed.host === 'string' ? parsed.host : '',
      token: parsed.token,
      procStart: typeof parsed.procStart === 'string' ? parsed.procStart : null,
      acquiredAt: typeof parsed.acquiredAt === 'string' ? parsed.acquiredAt : '',
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
 * Take the instance lock of `dbPath` or throw InstanceLockedError naming the holder.
 * A stale lock (dead pid) is taken over. The lock is released on `release()`
 * and, best effort, when the process exits.
 */
export function acquireInstanceLock(dbPath: string, options: { force?: boolean } = {}): InstanceLock {
  const lockPath = lockPathFor(dbPath);
  const info: LockInfo = {
    app: 'constellate',
    pid: process.pid,
    host: os.hostname(),
    token: randomBytes(12).toString('hex'),
    procStart: procStartOf(process.pid),
    acquiredAt: new Date().toISOString(),
  };
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
        throw new StoreUsageError(`cannot create files in ${path.dirname(dbPath)}, so the database cannot be kept there: choose another location`);
      }
      throw mapSqliteError(err, dbPath);
    }
    if (created) return makeLock(lockPath, info);

    const holder = readInstanceLock(dbPath);
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
      throw new InstanceLockedError(dbPath, holder.pid, holder.host);
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
  const holder = readInstanceLock(dbPath);
  throw new InstanceLockedError(dbPath, holder?.pid ?? 0, holder?.host ?? '');
}

function makeLock(lockPath: string, info: LockInfo): InstanceLock {
  heldTokens.add(info.token);
  const onExit = (): void => removeIfOurs(lockPath, info.token);
  process.once('exit', onExit);
  let released = false;
  return {
    path: lockPath,
    info,
    release() {
      if (released) return;
      released = true;
      process.removeListener('exit', onExit);
      removeIfOurs(lockPath, info.token);
    },
  };
}

function removeIfOurs(lockPath: string, token: string): void {
  heldTokens.delete(token);
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
