/**
 * Opening the database for a CLI command: default location, instance lock (one writer app per
 * database), interrupted runs marked, and a clean close on exit or Ctrl-C.
 */
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { acquireInstanceLock, defaultDatabasePath, openStore, type InstanceLock, type Store } from '../store/index.js';

export interface Session {
  store: Store;
  dbPath: string;
  close(): void;
}

/**
 * `mustExist`: for commands that only read (export). Opening a path that does not exist would
 * create an empty database (and its folder), and the command would then "succeed" with nothing.
 */
export function openSession(dbOption: string | undefined, options: { lock?: boolean; mustExist?: boolean } = {}): Session {
  const dbPath = path.resolve(dbOption ?? defaultDatabasePath());
  if (options.mustExist && !statSync(dbPath, { throwIfNoEntry: false })?.isFile()) {
    throw new Error(`no database at ${dbPath} (run \`constellate cluster\` first, or pass --db FILE)`);
  }
  mkdirSync(path.dirname(dbPath), { recursive: true });
  const lock: InstanceLock | null = options.lock === false ? null : acquireInstanceLock(dbPath);
  let store: Store;
  try {
    store = openStore(dbPath);
    const m = store.db.migration;
    if (m && m.from > 0) console.error(`constellate: database upgraded from schema ${m.from} to ${m.to}${m.backupPath ? ` (backup: ${m.backupPath})` : ''}`);
    if (lock) store.runs.markInterrupted();
  } catch (err) {
    lock?.release();
    throw err;
  }
  let closed = false;
  return {
    store,
    dbPath,
    close() {
      if (closed) return;
      closed = true;
      store.close();
      lock?.release();
    },
  };
}
