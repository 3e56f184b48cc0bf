/**
 * Ordered schema migrations. `PRAGMA user_version` holds the number of the
 * last migration applied. Each migration runs in its own transaction together
 * with the user_version bump, so a crash mid-migration leaves the previous
 * version intact. Never edit a released migration: append a new one.
 */
import type BetterSqlite3 from 'better-sqlite3';

export interface Migration {
  /** 1-based, consecutive; becomes PRAGMA user_version once applied. */
  readonly version: number;
  readonly description: string;
  readonly up: (db: BetterSqlite3.Database) => void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'core tables',
    // eslint-disable-next-line max-lines-per-function -- the whole first schema, one SQL script read as one; a released migration is never edited, split included
    up(db) {
      db.exec(`
        CREATE TABLE libraries (
          id              INTEGER PRIMARY KEY,
          root_path       TEXT    NOT NULL UNIQUE,
          name            TEXT    NOT NULL,
          added_at        INTEGER NOT NULL,
          scan_generation INTEGER NOT NULL DEFAULT 0,
          last_scan_at    INTEGER
        );

        CREATE TABLE images (
          id              INTEGER PRIMARY KEY,
          library_id      INTEGER NOT NULL REFERENCES libraries(id) ON DELETE CASCADE,
          rel_path        TEXT    NOT NULL,
          name            TEXT    NOT NULL,
          size            INTEGER NOT NULL,
          mtime_ms        INTEGER NOT NULL,
          content_hash    TEXT,
          status          TEXT    NOT NULL DEFAULT 'pending'
                                  CHECK (status IN ('pending', 'ok', 'skipped', 'missing')),
          skip_reason     TEXT,
          width           INTEGER,
          height          INTEGER,
          display_width   INTEGER,
          display_height  INTEGER,
          orientation     INTEGER,
          format          TEXT,
          taken_at        INTEGER,
          camera          TEXT,
          thumb_path      TEXT,
          seen_generation INTEGER NOT NULL DEFAULT 0,
          first_seen_at   INTEGER NOT NULL,
          updated_at      INTEGER NOT NULL,
          missing_since   INTEGER,
          UNIQUE (library_id, rel_path)
        );

        CREATE TABLE embeddings (
          id           INTEGER PRIMARY KEY,
          content_hash TEXT    NOT NULL,
          model        TEXT    NOT NULL,
          view         TEXT    NOT NULL DEFAULT '',
          dim          INTEGER NOT NULL,
          vector       BLOB    NOT NULL,
          created_at   INTEGER NOT NULL,
          UNIQUE (content_hash, model, view)
        );

        CREATE TABLE runs (
          id           INTEGER PRIMARY KEY AUTOINCREMENT,
          kind         TEXT    NOT NULL DEFAULT 'cluster',
          library_id   INTEGER REFERENCES libraries(id) ON DELETE SET NULL,
          model        TEXT,
          k            INTEGER,
          params_json  TEXT    NOT NULL DEFAULT '{}',
          backend      TEXT,
          timings_json TEXT    NOT NULL DEFAULT '{}',
          metrics_json TEXT    NOT NULL DEFAULT '{}',
          status       TEXT    NOT NULL DEFAULT 'running'
                               CHECK (status IN ('running', 'done', 'failed', 'cancelled')),
          error        TEXT,
          started_at   INTEGER NOT NULL,
          finished_at  INTEGER
        );

        CREATE TABLE run_models (
          run_id     INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
          format     TEXT    NOT NULL,
          meta_json  TEXT    NOT NULL DEFAULT '{}',
          data       BLOB    NOT NULL,
          created_at INTEGER NOT NULL
        );

        CREATE TABLE groups (
          id            INTEGER PRIMARY KEY AUTOINCREMENT,
          run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          cluster_index INTEGER,
          name          TEXT    NOT NULL DEFAULT '',
          origin        TEXT    NOT NULL DEFAULT 'run' CHECK (origin IN ('run', 'user')),
          user_named    INTEGER NOT NULL DEFAULT 0,
          created_at    INTEGER NOT NULL
        );

        CREATE TABLE assignments (
          run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          image_id   INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
          group_id   INTEGER REFERENCES groups(id) ON DELETE SET NULL,
          confidence REAL    NOT NULL DEFAULT 0,
          pinned     INTEGER NOT NULL DEFAULT 0,
          PRIMARY KEY (run_id, image_id)
        ) WITHOUT ROWID;

        CREATE TABLE edits (
          id         INTEGER PRIMARY KEY AUTOINCREMENT,
          kind       TEXT    NOT NULL,
          label      TEXT    NOT NULL,
          run_id     INTEGER,
          ref_run_id INTEGER,
          payload    TEXT    NOT NULL,
          undone     INTEGER NOT NULL DEFAULT 0,
          created_at INTEGER NOT NULL
        );

        CREATE TABLE app_state (
          key   TEXT PRIMARY KEY,
          value TEXT
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 2,
    description: 'indexes for pipeline resumption and UI queries',
    up(db) {
      db.exec(`
        CREATE INDEX images_status_id       ON images (status, id);
        CREATE INDEX images_content_hash    ON images (content_hash);
        CREATE INDEX images_library_seen    ON images (library_id, seen_generation);
        CREATE INDEX groups_run             ON groups (run_id);
        -- group ids are unique across runs; this index also serves the groups(id) foreign key
        -- (merge/undo delete groups) and covers counts, mean confidence, pins and typical images.
        CREATE INDEX assignments_group      ON assignments (group_id, confidence, image_id, pinned);
        CREATE INDEX assignments_image      ON assignments (image_id);
        CREATE INDEX edits_undone           ON edits (undone, id);
      `);
    },
  },
  {
    version: 3,
    description: 'a colour slot per group, carried with its name through re-clustering',
    up(db) {
      // The map coloured points by group id, so every regroup (new ids) changed every colour.
      // Existing groups take slots 0..n-1 within their run, in id order.
      db.exec(`
        ALTER TABLE groups ADD COLUMN color INTEGER;
        UPDATE groups SET color = (SELECT count(*) FROM groups g2 WHERE g2.run_id = groups.run_id AND g2.id < groups.id);
      `);
    },
  },
  {
    version: 4,
    description: 'the engine that made each embedding',
    up(db) {
      // Engines whose features agree (cosine >= 0.9999 per image) share the model's embeddings,
      // so switching engines does not re-embed; each row keeps which one made it (NULL: before
      // this was recorded, the tfjs engine).
      db.exec(`ALTER TABLE embeddings ADD COLUMN engine TEXT;`);
    },
  },
  {
    version: 5,
    description: 'confidences on the calibrated scale',
    up(db) {
      // Confidences were the head's max phi; they are now the calibrated probability of being in
      // the right group, sigmoid(3.152 phi - 2.178) (core/icon/calibration.ts at this schema; the
      // numbers are frozen here as the migration is). Same order, so the same images sort first;
      // the user's Unsorted threshold moves with them, and so do the snapshots Undo restores.
      // Pinned rows (the user's own placements) keep 1.
      const cal = (c: number): number => 1 / (1 + Math.exp(-(3.152 * c - 2.178)));
      db.function('constellate_calibrate', { deterministic: true }, (c: unknown) => cal(Number(c)));
      db.exec(`UPDATE assignments SET confidence = constellate_calibrate(confidence) WHERE pinned = 0`);
      const t = db.prepare(`SELECT value FROM app_state WHERE key = 'unsorted_threshold'`).get() as { value: string } | undefined;
      if (t && Number.isFinite(Number(t.value)))
        db.prepare(`UPDATE app_state SET value = ? WHERE key = 'unsorted_threshold'`).run(String(cal(Number(t.value))));
      const edits = db.prepare('SELECT id, payload FROM edits').all() as Array<{ id: number; payload: string }>;
      const put = db.prepare('UPDATE edits SET payload = ? WHERE id = ?');
      type Snap = { assignments?: Array<[number, number, number | null, number, number] | [number, number]> };
      const mapSnap = (s: Snap | undefined): void => {
        for (const a of s?.assignments ?? []) if (a.length === 5 && a[4] === 0) a[3] = cal(a[3]);
      };
      for (const e of edits) {
        const p = JSON.parse(e.payload) as { before?: Snap; after?: Snap };
        mapSnap(p.before);
        mapSnap(p.after);
        put.run(JSON.stringify(p), e.id);
      }
    },
  },
  {
    version: 6,
    description: 'photo organizer: date offsets, perceptual hashes, the details pass, watched libraries',
    up(db) {
      // taken_at stays the EXIF wall clock (as if UTC); taken_offset its zone in minutes east of
      // UTC where the file records one. phash: 64-bit perceptual hash (16 hex digits) for
      // near-duplicates. details_version: which version of the details pass (EXIF dates, phash)
      // has read the image: rows indexed before it are read again (the dates of files with only
      // IFD0's DateTime were lost). watch: a library's folder is watched while the app runs.
      db.exec(`
        ALTER TABLE images ADD COLUMN taken_offset INTEGER;
        ALTER TABLE images ADD COLUMN phash TEXT;
        ALTER TABLE images ADD COLUMN details_version INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE libraries ADD COLUMN watch INTEGER NOT NULL DEFAULT 1;
        CREATE INDEX images_details ON images (details_version, id) WHERE status = 'ok';
        CREATE INDEX images_phash ON images (phash) WHERE phash IS NOT NULL;
      `);
    },
  },
];

export const LATEST_VERSION: number = MIGRATIONS.length;

/** Checks the list is 1..n consecutive (guards against editing mistakes). */
export function validateMigrations(list: readonly Migration[]): void {
  list.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration #${i} has version ${m.version}, expected ${i + 1}`);
  });
}
