import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  DatabaseCorruptError,
  DatabaseInsidePhotoFolderError,
  DatabaseReadOnlyError,
  DiskFullError,
  LATEST_VERSION,
  MIGRATIONS,
  SchemaTooNewError,
  StoreUsageError,
  defaultDatabasePath,
  openDatabase,
  openStore,
  thumbnailDir,
} from '../../core/store/index.js';
import { damageTable } from '../fixtures/damage.js';
import { fileHash, hashOf, seedImages, tempDir, vec } from './helpers.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});
afterEach(() => cleanup());

describe('paths', () => {
  it('defaults to the app-data dir and keeps thumbnails next to the database', () => {
    const p = defaultDatabasePath();
    expect(path.isAbsolute(p)).toBe(true);
    expect(p).toMatch(/constellate[\\/]constellate\.db$/);
    expect(p).not.toMatch(/nodejs/);
    expect(thumbnailDir('/x/y/lib.db')).toBe(path.resolve('/x/y/thumbnails'));
  });

  it('refuses a library folder that contains the database', () => {
    const store = openStore(path.join(dir, 'photos', 'c.db'));
    try {
      expect(() => store.libraries.add(path.join(dir, 'photos'))).toThrow(DatabaseInsidePhotoFolderError);
      expect(() => store.libraries.add(dir)).toThrow(DatabaseInsidePhotoFolderError);
      expect(store.libraries.add(path.join(dir, 'other')).rootPath).toBe(path.join(dir, 'other'));
    } finally {
      store.close();
    }
  });
});

describe('migrations', () => {
  it('creates the schema from empty with WAL, foreign keys and the latest version', () => {
    const file = path.join(dir, 'sub', 'new.db');
    const db = openDatabase(file);
    try {
      expect(db.schemaVersion()).toBe(LATEST_VERSION);
      expect(db.migration).toEqual({ from: 0, to: LATEST_VERSION, backupPath: null });
      expect(db.raw.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.raw.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.raw.pragma('busy_timeout', { simple: true })).toBe(5000);
      const tables = db.raw
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .pluck()
        .all();
      expect(tables).toEqual(['app_state', 'assignments', 'edits', 'embeddings', 'groups', 'images', 'libraries', 'run_models', 'runs']);
      expect(db.integrityCheck()).toEqual({ ok: true, messages: ['ok'], foreignKeyViolations: 0 });
      expect(fs.readdirSync(path.dirname(file)).filter((f) => f.includes('.bak-'))).toEqual([]);
    } finally {
      db.close();
    }
    // Reopening migrates nothing.
    const again = openDatabase(file);
    expect(again.migration).toBeNull();
    again.close();
  });

  it('refuses a database from a newer version and leaves it byte-identical', () => {
    const file = path.join(dir, 'newer.db');
    const db = openDatabase(file);
    db.raw.pragma(`user_version = ${LATEST_VERSION + 5}`);
    db.close();
    const before = fileHash(file);
    const listing = fs.readdirSync(dir).sort();

    let err: unknown;
    try {
      openDatabase(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SchemaTooNewError);
    expect((err as SchemaTooNewError).fileVersion).toBe(LATEST_VERSION + 5);
    expect((err as SchemaTooNewError).userMessage).toMatch(/newer version of Constellate/);
    expect(fileHash(file)).toBe(before);
    expect(fs.readdirSync(dir).sort()).toEqual(listing);
    expect(() => openDatabase(file, { readonly: true })).toThrow(SchemaTooNewError);
    expect(fileHash(file)).toBe(before);
  });

  it('migrates an older database after writing a backup copy first', () => {
    const file = path.join(dir, 'old.db');
    const old = openStore(file, { migrations: MIGRATIONS.slice(0, 1) });
    expect(old.db.schemaVersion()).toBe(1);
    // rows as version 1 wrote them (today's repositories write columns it does not have)
    old.db.raw.prepare(`INSERT INTO libraries (id, root_path, name, added_at) VALUES (1, ?, 'photos', 0)`).run(path.join(dir, 'photos'));
    const add = old.db.raw.prepare(
      `INSERT INTO images (library_id, rel_path, name, size, mtime_ms, content_hash, status, width, height, first_seen_at, updated_at) VALUES (1, ?, ?, 1, 0, ?, 'ok', 4, 3, 0, 0)`,
    );
    for (let i = 0; i < 20; i++) add.run(`img-${i}.jpg`, `img-${i}.jpg`, `h${i}`);
    old.close();

    const store = openStore(file);
    try {
      expect(store.db.schemaVersion()).toBe(LATEST_VERSION);
      const info = store.db.migration!;
      expect(info.from).toBe(1);
      expect(info.backupPath).toMatch(/old\.db\.bak-v1-\d{8}T\d{6}Z$/);
      // The backup is a complete copy at the old version.
      const bak = new BetterSqlite3(info.backupPath!, { readonly: true });
      expect(bak.pragma('user_version', { simple: true })).toBe(1);
      expect(bak.prepare('SELECT count(*) FROM images').pluck().get()).toBe(20);
      expect(bak.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'images_status_id'").pluck().get()).toBe(0);
      bak.close();
      // The migrated database kept its data and gained the new indexes.
      expect(store.images.countsByStatus().ok).toBe(20);
      expect(store.db.raw.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'images_status_id'").pluck().get()).toBe(1);
    } finally {
      store.close();
    }
  });

  it('an older database keeps its embeddings, with no engine recorded; new ones record theirs', () => {
    const file = path.join(dir, 'v3.db');
    const old = openStore(file, { migrations: MIGRATIONS.slice(0, 3) });
    old.db.raw
      .prepare("INSERT INTO embeddings (content_hash, model, view, dim, vector, created_at) VALUES ('cs1:a', 'm', '', 2, ?, 0)")
      .run(Buffer.from(Float32Array.of(1, 2).buffer));
    old.close();
    const store = openStore(file);
    try {
      expect(store.db.schemaVersion()).toBe(LATEST_VERSION);
      expect(Array.from(store.embeddings.get('cs1:a', 'm')!)).toEqual([1, 2]);
      store.embeddings.putMany('m', [{ contentHash: 'cs1:b', vector: Float32Array.of(3, 4), engine: 'onnx/CPUExecutionProvider' }]);
      expect(store.embeddings.engines('m')).toEqual([
        { engine: null, count: 1 },
        { engine: 'onnx/CPUExecutionProvider', count: 1 },
      ]);
    } finally {
      store.close();
    }
  });

  it('gives the groups of an older database colour slots, in id order per run, and undoes its edits', () => {
    const file = path.join(dir, 'v2.db');
    const old = openStore(file, { migrations: MIGRATIONS.slice(0, 2) });
    const runs = [old.runs.create({ k: 3 }).id, old.runs.create({ k: 2 }).id];
    const ins = old.db.raw.prepare(
      "INSERT INTO groups (run_id, cluster_index, name, origin, user_named, created_at) VALUES (?, ?, 'g', 'run', 0, 0)",
    );
    for (const [run, c] of [
      [runs[0], 0],
      [runs[1], 0],
      [runs[0], 1],
      [runs[0], 2],
      [runs[1], 1],
    ] as const)
      ins.run(run, c);
    // an edit logged before colours existed: its snapshots have no color field
    const snap = (name: string) => ({
      groups: [[1, { id: 1, run_id: runs[0], cluster_index: 0, name, origin: 'run', user_named: 1, created_at: 0 }]],
      assignments: [],
    });
    old.db.raw.prepare("UPDATE groups SET name = 'after' WHERE id = 1").run();
    old.db.raw
      .prepare("INSERT INTO edits (kind, label, run_id, payload, undone, created_at) VALUES ('rename', 'x', ?, ?, 0, 0)")
      .run(runs[0], JSON.stringify({ before: snap('g'), after: snap('after') }));
    old.close();

    const store = openStore(file);
    try {
      const colors = store.db.raw.prepare('SELECT run_id AS r, color FROM groups ORDER BY id').all();
      expect(colors).toEqual([
        { r: runs[0], color: 0 },
        { r: runs[1], color: 0 },
        { r: runs[0], color: 1 },
        { r: runs[0], color: 2 },
        { r: runs[1], color: 1 },
      ]);
      store.edits.undo();
      expect(store.groups.get(1)).toMatchObject({ name: 'g', color: 0 });
      store.edits.redo();
      expect(store.groups.get(1)).toMatchObject({ name: 'after', color: 0 });
    } finally {
      store.close();
    }
  });

  it('checks a damaged file before writing (or reading) anything, and names a backup only if there is one (issue 22, case 4)', () => {
    const file = path.join(dir, 'damaged.db');
    const w = openStore(file);
    seedImages(w, path.join(dir, 'photos'), 3);
    w.close();
    damageTable(file, 'embeddings');
    const before = fileHash(file);
    for (const readonly of [false, true]) {
      let err: unknown;
      try {
        openDatabase(file, { readonly }).close();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DatabaseCorruptError);
      const message = (err as DatabaseCorruptError).userMessage;
      expect(message).toBe(
        `The library database at ${file} is damaged or is not a Constellate database. Nothing was written to it. ` +
          'Constellate made no backup of it. Move it aside (rename it), and Constellate starts a new database: your photos are not affected, but the groups, names and edits kept in it are lost.',
      );
      expect(message).not.toMatch(/bak-v/);
      expect(fileHash(file)).toBe(before);
      // Refused for writing: nothing beside it either (a reader leaves SQLite's -wal/-shm, as any read does).
      if (!readonly) expect(fs.readdirSync(dir)).toEqual(['damaged.db']);
    }
    // With a backup beside it (made before an upgrade), the message names it.
    const backup = `${file}.bak-v1-20250101T000000Z`;
    fs.writeFileSync(backup, 'a backup');
    expect(() => openDatabase(file)).toThrow(
      expect.objectContaining({
        userMessage: expect.stringContaining(`Restore its backup: move it aside and rename ${backup} to damaged.db`),
      }),
    );
    expect(fileHash(file)).toBe(before);
  });

  it('beyond FULL_CHECK_UP_TO_BYTES checks every table but the embeddings when opened: a damaged one is found by reading it (issue 18: 7 minutes at every start at 1,000,000 images)', () => {
    const file = path.join(dir, 'large.db');
    const w = openStore(file);
    seedImages(w, path.join(dir, 'photos'), 3);
    w.close();
    const copy = path.join(dir, 'large-groups.db');
    fs.copyFileSync(file, copy);
    damageTable(file, 'embeddings');
    expect(() => openDatabase(file).close()).toThrow(DatabaseCorruptError);
    const store = openStore(file, { fullCheckUpToBytes: 0 });
    try {
      expect(store.images.countsByStatus().ok).toBe(3);
      expect(() => store.embeddings.loadAll('m')).toThrow(DatabaseCorruptError);
    } finally {
      store.close();
    }
    // the tables that hold the user's work are checked at any size
    damageTable(copy, 'images');
    expect(() => openDatabase(copy, { fullCheckUpToBytes: 0 }).close()).toThrow(DatabaseCorruptError);
  });

  it('reports a file that is not a database', () => {
    const file = path.join(dir, 'junk.db');
    fs.writeFileSync(file, 'this is not sqlite, just some text that is long enough to have a header'.repeat(20));
    const before = fileHash(file);
    expect(() => openDatabase(file)).toThrow(DatabaseCorruptError);
    expect(fileHash(file)).toBe(before);
  });
});

describe('failures leave nothing half-written', () => {
  it('read-only open: writes raise DatabaseReadOnlyError and the file is unchanged', () => {
    const file = path.join(dir, 'ro.db');
    const w = openStore(file);
    const seeded = seedImages(w, path.join(dir, 'photos'), 5);
    w.db.checkpoint();
    w.close();
    const before = fileHash(file);

    const ro = openStore(file, { readonly: true });
    try {
      expect(ro.images.countsByStatus().ok).toBe(5);
      expect(() => ro.libraries.add(path.join(dir, 'more'))).toThrow(DatabaseReadOnlyError);
      expect(() => ro.images.markSkipped([{ id: seeded.imageIds[0]!, reason: 'x' }])).toThrow(DatabaseReadOnlyError);
      expect(() => ro.embeddings.putMany('m', [{ contentHash: 'h', vector: vec(1, 8) }])).toThrow(DatabaseReadOnlyError);
      // Raw statements outside the helpers are refused by SQLite too.
      expect(() => ro.db.raw.prepare('DELETE FROM images').run()).toThrow();
      try {
        ro.libraries.add(path.join(dir, 'more'));
      } catch (e) {
        expect((e as DatabaseReadOnlyError).userMessage).toMatch(/read-only/);
      }
    } finally {
      ro.close();
    }
    expect(fileHash(file)).toBe(before);
  });

  it("moves an older database's confidences, its Unsorted threshold and its undo snapshots onto the calibrated scale", () => {
    const file = path.join(dir, 'v3.db');
    const old = openStore(file, { migrations: MIGRATIONS.slice(0, 3) });
    // rows as version 3 wrote them (today's repositories write columns it does not have)
    old.db.raw.prepare(`INSERT INTO libraries (id, root_path, name, added_at) VALUES (1, ?, 'photos', 0)`).run(path.join(dir, 'photos-v3'));
    const img = old.db.raw.prepare(
      "INSERT INTO images (library_id, rel_path, name, size, mtime_ms, status, first_seen_at, updated_at) VALUES (1, ?, ?, 1, 0, 'ok', 0, 0)",
    );
    const ids = [1, 2, 3].map((i) => Number(img.run(`a${i}.jpg`, `a${i}.jpg`).lastInsertRowid));
    const run = Number(
      old.db.raw.prepare("INSERT INTO runs (kind, k, params_json, status, started_at) VALUES ('cluster', 1, '{}', 'done', 0)").run()
        .lastInsertRowid,
    );
    const gid = Number(
      old.db.raw
        .prepare("INSERT INTO groups (run_id, cluster_index, name, origin, user_named, created_at) VALUES (?, 0, 'g', 'run', 0, 0)")
        .run(run).lastInsertRowid,
    );
    const put = old.db.raw.prepare('INSERT INTO assignments (run_id, image_id, group_id, confidence, pinned) VALUES (?, ?, ?, ?, ?)');
    put.run(run, ids[0], gid, 0.6, 0);
    put.run(run, ids[1], gid, 1, 0);
    put.run(run, ids[2], gid, 1, 1); // the user's own placement
    old.db.raw.prepare("INSERT INTO app_state (key, value) VALUES ('unsorted_threshold', '0.6')").run();
    const snap = (c: number) => ({
      groups: [],
      assignments: [
        [run, ids[0], gid, c, 0],
        [run, ids[2], gid, 1, 1],
        [run, 99],
      ],
    });
    old.db.raw
      .prepare("INSERT INTO edits (kind, label, run_id, payload, undone, created_at) VALUES ('move', 'x', ?, ?, 0, 0)")
      .run(run, JSON.stringify({ before: snap(0.6), after: snap(0.9) }));
    old.close();

    const cal = (c: number) => 1 / (1 + Math.exp(-(3.152 * c - 2.178)));
    const store = openStore(file);
    try {
      const conf = store.db.raw.prepare('SELECT image_id AS id, confidence AS c FROM assignments ORDER BY image_id').all() as Array<{
        id: number;
        c: number;
      }>;
      expect(conf.map((r) => r.c)).toEqual([cal(0.6), cal(1), 1]);
      expect(Number(store.db.getState('unsorted_threshold'))).toBeCloseTo(cal(0.6), 12);
      const payload = JSON.parse((store.db.raw.prepare('SELECT payload FROM edits').get() as { payload: string }).payload);
      expect(payload.before.assignments).toEqual([
        [run, ids[0], gid, cal(0.6), 0],
        [run, ids[2], gid, 1, 1],
        [run, 99],
      ]);
      expect(payload.after.assignments[0][3]).toBeCloseTo(cal(0.9), 12);
    } finally {
      store.close();
    }
  });

  it('an older database that is opened read-only is not migrated', () => {
    const file = path.join(dir, 'old-ro.db');
    openStore(file, { migrations: MIGRATIONS.slice(0, 1) }).close();
    const before = fileHash(file);
    expect(() => openDatabase(file, { readonly: true })).toThrow(DatabaseReadOnlyError);
    expect(fileHash(file)).toBe(before);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.bak-'))).toEqual([]);
  });

  it('a write-protected file or folder gives DatabaseReadOnlyError (run as an unprivileged user)', () => {
    // root ignores file permissions, so when the tests run as root the check runs as `nobody`.
    const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p));
    if (isRoot && !setpriv) return;
    const sub = path.join(dir, 'perm');
    fs.mkdirSync(sub);
    const file = path.join(sub, 'perm.db');
    const w = openStore(file);
    seedImages(w, path.join(dir, 'photos'), 3);
    w.close();
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(file, 0o444);
    fs.chmodSync(sub, 0o555);
    const before = fileHash(file);
    const tryWrite = (): Record<string, unknown> => {
      const script = new URL('./fixtures/try-write.ts', import.meta.url).pathname;
      const args = ['--import', 'tsx', script, file];
      const r = isRoot
        ? spawnSync(setpriv!, ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...args], { encoding: 'utf8' })
        : spawnSync(process.execPath, args, { encoding: 'utf8' });
      return JSON.parse(r.stdout) as Record<string, unknown>;
    };
    // Read-only file in a read-only folder: WAL cannot start, refused at open.
    expect(tryWrite()).toEqual({ openError: 'DatabaseReadOnlyError' });
    // Read-only file in a writable folder: opens for browsing, writes are refused.
    fs.chmodSync(sub, 0o777);
    expect(tryWrite()).toEqual({ opened: true, total: 3, writeError: 'DatabaseReadOnlyError' });
    expect(fileHash(file)).toBe(before);
  });

  it('refuses an async transaction body and rolls it back', () => {
    const store = openStore(path.join(dir, 'a.db'));
    try {
      expect(() =>
        store.db.write(async () => {
          store.libraries.add(path.join(dir, 'p'));
          await Promise.resolve();
        }),
      ).toThrow(StoreUsageError);
      expect(store.libraries.list()).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('disk full (max_page_count) gives DiskFullError and keeps the previous state', () => {
    const store = openStore(path.join(dir, 'full.db'));
    try {
      const seeded = seedImages(store, path.join(dir, 'photos'), 50, 16);
      const snapshot = () =>
        JSON.stringify({
          emb: store.db.raw.prepare('SELECT content_hash, model, view, hex(vector) FROM embeddings ORDER BY id').all(),
          img: store.db.raw.prepare('SELECT * FROM images ORDER BY id').all(),
        });
      const before = snapshot();
      const pages = store.db.raw.pragma('page_count', { simple: true }) as number;
      store.db.raw.pragma(`max_page_count = ${pages + 2}`);
      const big = Array.from({ length: 200 }, (_, i) => ({ contentHash: hashOf(`big-${i}`), vector: vec(i, 1280) }));
      let err: unknown;
      try {
        store.db.write(() => {
          store.images.markSkipped([{ id: seeded.imageIds[0]!, reason: 'half-written?' }]);
          store.embeddings.putMany('m', big);
        });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DiskFullError);
      expect((err as DiskFullError).userMessage).toMatch(/full/);
      expect(snapshot()).toBe(before);
      expect(store.db.inTransaction).toBe(false);
      // After space is freed the same batch goes through.
      store.db.raw.pragma('max_page_count = 1073741823');
      store.embeddings.putMany('m', big);
      expect(store.embeddings.models().find((m) => m.model === 'm')!.count).toBe(250);
      expect(store.db.integrityCheck().ok).toBe(true);
    } finally {
      store.close();
    }
  });
});
