/**
 * Opening the single Constellate SQLite database: WAL, busy_timeout, foreign
 * keys, versioned migrations (with a backup copy before upgrading an older
 * file), refusal of newer files, and transaction helpers that translate raw
 * SQLite failures into the typed errors of ./errors.ts.
 */
import BetterSqlite3 from 'better-sqlite3';
import { accessSync, closeSync, constants as fsConstants, existsSync, mkdirSync, openSync, readSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';

import { appDataDir } from './appData.js';
import { DatabaseCorruptError, DatabaseReadOnlyError, SchemaTooNewError, StoreUsageError, mapSqliteError } from './errors.js';
import { LATEST_VERSION, MIGRATIONS, type Migration, validateMigrations } from './migrations.js';

export * from './errors.js';
export { acquireInstanceLock, releaseInstanceLock, readInstanceLock, type InstanceLock, type LockInfo } from './lock.js';

export const DATABASE_FILE_NAME = 'constellate.db';
export const THUMBNAIL_DIR_NAME = 'thumbnails';

/** `<app data>/constellate.db`, e.g. ~/.local/share/constellate/constellate.db on Linux. */
export function defaultDatabasePath(): string {
  return path.join(appDataDir(), DATABASE_FILE_NAME);
}

/** Thumbnail cache folder: next to the database file (never inside a photo folder). */
export function thumbnailDir(dbPath: string): string {
  return path.join(path.dirname(path.resolve(dbPath)), THUMBNAIL_DIR_NAME);
}

/**
 * Suggested thumbnail location relative to `thumbnailDir()`: keyed by content
 * hash, so renamed/moved files and duplicates share one thumbnail.
 */
export function thumbnailRelPath(contentHash: string, ext = 'webp'): string {
  return `${contentHash.slice(0, 2)}/${contentHash}.${ext}`;
}

/** `<db>.bak-v<old>-<UTC timestamp>` */
export function backupPathFor(dbPath: string, oldVersion: number, now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${dbPath}.bak-v${oldVersion}-${stamp}`;
}

export interface OpenOptions {
  /** Open read-only: no migrations, every write raises DatabaseReadOnlyError. */
  readonly?: boolean;
  /** How long a write waits for another connection's write lock (ms). Default 5000. */
  busyTimeoutMs?: number;
  /** Migrations to apply (tests only; defaults to MIGRATIONS). */
  migrations?: readonly Migration[];
  /**
   * The file was already checked (quick_check) by the connection that opened it first in this
   * app instance: a worker's own read-only connection skips the check (seconds at 1,000,000 images).
   */
  alreadyChecked?: boolean;
  /**
   * Up to this file size the whole file is checked when opened; beyond, every table but the
   * embeddings (default FULL_CHECK_UP_TO_BYTES; tests only).
   */
  fullCheckUpToBytes?: number;
}

/**
 * Opening checks the whole file up to this size (1 GiB: about 25,000 images with their views,
 * a second or two). Beyond, it checks every table but the embeddings, which are 98% of a large
 * file and are made again from the photos: the whole file took 7 s at 100,000 images (4 GB)
 * and 9.6 minutes at 1,000,000 (42 GB, more than the page cache), on every start; the other
 * tables 0.05 s (docs/reliability.md). A damaged embeddings table is still found, by the first
 * read of it (DatabaseCorruptError).
 */
export const FULL_CHECK_UP_TO_BYTES = 2 ** 30;

export interface IntegrityReport {
  ok: boolean;
  /** 'ok' or the problems SQLite reported (first 100). */
  messages: string[];
  foreignKeyViolations: number;
}

export interface MigrationInfo {
  from: number;
  to: number;
  /** Backup copy taken before migrating an existing (non-empty) database. */
  backupPath: string | null;
}

type AnyStatement = BetterSqlite3.Statement<unknown[], unknown>;

/** A transaction body must be synchronous: an awaited write would run after COMMIT. Throwing rolls it back. */
function syncOnly<T>(result: T): T {
  if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
    throw new StoreUsageError('db.write()/db.read() need a synchronous function (no async/await inside a transaction)');
  }
  return result;
}

/** A connection plus helpers. One per thread/process; not shareable across workers. */
export class Database {
  readonly raw: BetterSqlite3.Database;
  readonly file: string;
  readonly readonly: boolean;
  /** What openDatabase did to the schema (null when nothing was migrated). */
  migration: MigrationInfo | null = null;
  private readonly statements = new Map<string, AnyStatement>();

  constructor(raw: BetterSqlite3.Database, file: string, readonly: boolean) {
    this.raw = raw;
    this.file = file;
    this.readonly = readonly;
  }

  /** Prepared statement, cached per SQL text. */
  stmt<R = unknown>(sql: string): BetterSqlite3.Statement<unknown[], R> {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.raw.prepare(sql);
      this.statements.set(sql, s);
    }
    return s as BetterSqlite3.Statement<unknown[], R>;
  }

  /**
   * Run `fn` in a write transaction (BEGIN IMMEDIATE, so it waits up to
   * busy_timeout for other writers instead of failing mid-way). All-or-nothing:
   * on any error nothing of `fn` is kept. Nested calls become savepoints.
   * Errors are translated (DiskFullError, DatabaseReadOnlyError, ...).
   */
  write<T>(fn: () => T): T {
    if (this.readonly) throw new DatabaseReadOnlyError(this.file);
    try {
      return this.raw.transaction(() => syncOnly(fn())).immediate();
    } catch (err) {
      throw mapSqliteError(err, this.file);
    }
  }

  /** Run `fn` in a read transaction: all its queries see one consistent snapshot. */
  read<T>(fn: () => T): T {
    try {
      return this.raw.transaction(() => syncOnly(fn())).deferred();
    } catch (err) {
      throw mapSqliteError(err, this.file);
    }
  }

  get inTransaction(): boolean {
    return this.raw.inTransaction;
  }

  schemaVersion(): number {
    return this.raw.pragma('user_version', { simple: true }) as number;
  }

  /** PRAGMA integrity_check + foreign_key_check. */
  integrityCheck(): IntegrityReport {
    try {
      const rows = this.raw.pragma('integrity_check(100)') as Array<{ integrity_check: string }>;
      const messages = rows.map((r) => r.integrity_check);
      const fk = (this.raw.pragma('foreign_key_check') as unknown[]).length;
      return { ok: messages.length === 1 && messages[0] === 'ok' && fk === 0, messages, foreignKeyViolations: fk };
    } catch (err) {
      const mapped = mapSqliteError(err, this.file);
      if (mapped instanceof DatabaseCorruptError) {
        return { ok: false, messages: [String((err as Error).message)], foreignKeyViolations: 0 };
      }
      throw mapped;
    }
  }

  /** Key/value app state (e.g. the active run). */
  getState(key: string): string | null {
    const row = this.stmt<{ value: string | null }>('SELECT value FROM app_state WHERE key = ?').get(key);
    return row?.value ?? null;
  }

  setState(key: string, value: string | null): void {
    this.write(() => {
      if (value === null) this.stmt('DELETE FROM app_state WHERE key = ?').run(key);
      else
        this.stmt('INSERT INTO app_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(
          key,
          value,
        );
    });
  }

  /** Move WAL content into the main file (e.g. before copying the file). */
  checkpoint(mode: 'PASSIVE' | 'FULL' | 'TRUNCATE' = 'TRUNCATE'): void {
    if (this.readonly) return;
    try {
      this.raw.pragma(`wal_checkpoint(${mode})`);
    } catch (err) {
      throw mapSqliteError(err, this.file);
    }
  }

  get isOpen(): boolean {
    return this.raw.open;
  }

  close(): void {
    this.statements.clear();
    if (this.raw.open) this.raw.close();
  }
}

/**
 * Reads PRAGMA user_version straight from the 100-byte file header, without
 * opening the file with SQLite (which could create -wal/-shm files or
 * checkpoint): a file we must refuse is left exactly as it was.
 */
function readVersionWithoutWriting(file: string): number {
  let fd: number | null = null;
  try {
    fd = openSync(file, 'r');
    const header = Buffer.alloc(100);
    const n = readSync(fd, header, 0, 100, 0);
    if (n === 0) return 0; // an empty file is an empty database
    if (n < 100 || header.toString('latin1', 0, 16) !== 'SQLite format 3\0')
      throw new DatabaseCorruptError(file, undefined, { untouched: true });
    return header.readInt32BE(60);
  } catch (err) {
    throw mapSqliteError(err, file);
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

function userTableCount(raw: BetterSqlite3.Database): number {
  return (
    raw.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").get() as {
      n: number;
    }
  ).n;
}

/**
 * Open (creating if needed) the database at `file`.
 *
 * - A file from a newer schema version: SchemaTooNewError; the file is not touched.
 * - An older version: a backup `<file>.bak-v<old>-<ts>` is written with VACUUM INTO,
 *   then each pending migration runs in its own transaction.
 * - Read-only files/folders: DatabaseReadOnlyError (on open if an upgrade is needed,
 *   otherwise on the first write). Disk full: DiskFullError.
 */
export function openDatabase(file: string, options: OpenOptions = {}): Database {
  const migrations = options.migrations ?? MIGRATIONS;
  validateMigrations(migrations);
  const latest = migrations.length;
  const readonly = options.readonly ?? false;
  const resolved = file === ':memory:' ? file : path.resolve(file);

  const exists = resolved !== ':memory:' && existsSync(resolved);
  if (exists) {
    if (statSync(resolved).isDirectory()) throw new StoreUsageError(`${resolved} is a folder, not a database file`);
    const version = readVersionWithoutWriting(resolved);
    if (version > latest) throw new SchemaTooNewError(resolved, version, latest);
  } else if (readonly) {
    throw new StoreUsageError(`No database at ${resolved}`);
  } else if (resolved !== ':memory:') {
    try {
      mkdirSync(path.dirname(resolved), { recursive: true });
    } catch (err) {
      throw mapSqliteError(err, resolved);
    }
  }

  let raw: BetterSqlite3.Database;
  try {
    raw = new BetterSqlite3(resolved, { readonly, fileMustExist: readonly, timeout: options.busyTimeoutMs ?? 5000 });
  } catch (err) {
    throw mapOpenError(err, resolved);
  }
  const db = new Database(raw, resolved, readonly);
  try {
    raw.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    raw.pragma('foreign_keys = ON');
    const bytes = exists && !options.alreadyChecked ? statSync(resolved).size : 0;
    if (bytes > 0) requireIntact(raw, resolved, bytes > (options.fullCheckUpToBytes ?? FULL_CHECK_UP_TO_BYTES));
    const version = db.schemaVersion();
    // Re-check under the real connection (another process may have upgraded meanwhile).
    if (version > latest) throw new SchemaTooNewError(resolved, version, latest);
    if (!readonly) {
      raw.pragma('journal_mode = WAL');
      raw.pragma('synchronous = NORMAL');
    }
    if (version < latest) {
      if (readonly) throw new DatabaseReadOnlyError(resolved);
      db.migration = migrate(db, migrations, version);
    }
    return db;
  } catch (err) {
    db.close();
    throw mapOpenError(err, resolved);
  }
}

/**
 * Checks a database file before anything is written to it (or read from it for an export):
 * PRAGMA quick_check walks every page and b-tree (not the index contents, which integrity_check
 * also compares). A damaged file written to spreads the damage, and a damaged table an export
 * does not read let it "succeed" without a word. `largeFile`: each table but the embeddings,
 * with its indexes (FULL_CHECK_UP_TO_BYTES).
 */
function requireIntact(raw: BetterSqlite3.Database, file: string, largeFile: boolean): void {
  let problems: string[];
  try {
    const checks = largeFile
      ? (raw.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'embeddings'`).pluck().all() as string[]).map(
          (t) => `quick_check("${t.replaceAll('"', '""')}")`,
        )
      : ['quick_check(20)'];
    const found = checks.flatMap((c) => (raw.pragma(c) as Array<{ quick_check: string }>).map((r) => r.quick_check));
    problems = found.every((m) => m === 'ok') ? ['ok'] : found.filter((m) => m !== 'ok');
  } catch (err) {
    const mapped = mapSqliteError(err, file);
    if (mapped instanceof DatabaseCorruptError)
      throw new DatabaseCorruptError(file, err, { untouched: true, problems: [String((err as Error).message)] });
    throw mapped;
  }
  if (problems.length !== 1 || problems[0] !== 'ok') throw new DatabaseCorruptError(file, undefined, { untouched: true, problems });
}

/** SQLITE_CANTOPEN on a file/folder we may not write means read-only (WAL needs its -wal/-shm files). */
function mapOpenError(err: unknown, file: string): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'SQLITE_CANTOPEN' && file !== ':memory:') {
    try {
      accessSync(path.dirname(file), fsConstants.W_OK);
      if (existsSync(file)) accessSync(file, fsConstants.W_OK);
    } catch {
      return new DatabaseReadOnlyError(file, err);
    }
  }
  return mapSqliteError(err, file);
}

function migrate(db: Database, migrations: readonly Migration[], from: number): MigrationInfo {
  let backupPath: string | null = null;
  if (db.file !== ':memory:' && (from > 0 || userTableCount(db.raw) > 0)) {
    backupPath = backupPathFor(db.file, from);
    // VACUUM INTO writes a consistent, compact copy from a read snapshot, so it is
    // safe even while another connection writes; it fails if the target exists.
    try {
      db.raw.prepare('VACUUM INTO ?').run(backupPath);
    } catch (err) {
      // No half-written backup left behind (e.g. disk full); the database itself is untouched.
      try {
        unlinkSync(backupPath);
      } catch {
        /* not created */
      }
      throw err;
    }
  }
  for (const m of migrations.slice(from)) {
    db.raw
      .transaction(() => {
        // Another process may have migrated while we waited for the write lock.
        if (db.schemaVersion() >= m.version) return;
        m.up(db.raw);
        db.raw.pragma(`user_version = ${m.version}`);
      })
      .immediate();
  }
  return { from, to: migrations.length, backupPath };
}

export { LATEST_VERSION, MIGRATIONS };
