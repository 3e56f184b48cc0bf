/**
 * SIGKILL inside the final write of a cluster run (what the outside attack pass could not time,
 * issue 22): a re-cluster of a grouping the user has edited is held inside each of its last
 * write transactions (the new run's assignments, its model, the edit that makes it current)
 * and killed there. After each kill the database is intact, the
 * user's grouping, names, pins and undo history are as before, and the next run ends equal to
 * one that was never interrupted.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ari } from '../../core/icon/metrics.js';
import { openStore } from '../../core/store/index.js';
import { demoImages, repoRoot, runCli } from '../helpers/cli.js';
import { testTempDir } from '../helpers/tempDir.js';

/**
 * Preloaded into the real CLI (`node --import data:...`; a data: URL, as worker threads, which
 * inherit the flag, cannot load a .ts file): the first statement run inside a transaction whose
 * SQL contains PAUSE_IN_SQL prints "paused in: <sql>" and blocks the process there for good.
 * It patches better-sqlite3's Statement, the module instance the CLI loads; the CLI is unchanged.
 */
const PAUSE_IN_SQL = `
  import { createRequire } from 'node:module';
  const needle = process.env.PAUSE_IN_SQL;
  if (needle) {
    const Database = createRequire(${JSON.stringify(path.join(repoRoot, 'package.json'))})('better-sqlite3');
    const probe = new Database(':memory:');
    const proto = Object.getPrototypeOf(probe.prepare('SELECT 1'));
    probe.close();
    const run = proto.run;
    proto.run = function (...args) {
      if (this.database.inTransaction && this.source.includes(needle)) {
        process.stderr.write('paused in: ' + this.source.trim().split('\\n')[0] + '\\n');
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
      }
      return run.apply(this, args);
    };
  }`;

/** Runs `cluster` held inside the write transaction whose SQL contains `sql`, then SIGKILLs it there. */
function killInside(args: string[], sql: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', `data:text/javascript,${encodeURIComponent(PAUSE_IN_SQL)}`, path.join(repoRoot, 'bin', 'constellate.js'), ...args],
      { cwd: repoRoot, env: { ...process.env, PAUSE_IN_SQL: sql }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    let paused = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /^paused in: (.*)$/m.exec(stderr);
      if (m && !paused) {
        paused = m[1]!;
        child.kill('SIGKILL');
      }
    });
    child.on('close', (_code, signal) =>
      signal === 'SIGKILL' && paused ? resolve(paused) : reject(new Error(`not paused in ${sql}: ${stderr}`)),
    );
  });
}

interface State {
  integrity: string;
  activeRun: number;
  groups: Map<string, string>; // rel path -> group name (the partition, named)
  pinned: string[];
  names: string[];
  edits: string[];
  running: number;
}

function readState(db: string): State {
  const sql = new Database(db, { readonly: true });
  try {
    const activeRun = Number((sql.prepare("SELECT value FROM app_state WHERE key = 'active_run_id'").get() as { value: string }).value);
    const rows = sql
      .prepare(
        'SELECT i.rel_path AS p, g.name AS g, a.pinned AS pinned FROM assignments a JOIN images i ON i.id = a.image_id JOIN groups g ON g.id = a.group_id WHERE a.run_id = ? ORDER BY p',
      )
      .all(activeRun) as Array<{ p: string; g: string; pinned: number }>;
    return {
      integrity: sql.pragma('integrity_check', { simple: true }) as string,
      activeRun,
      groups: new Map(rows.map((r) => [r.p, r.g])),
      pinned: rows.filter((r) => r.pinned).map((r) => r.p),
      names: [...new Set(rows.map((r) => r.g))].sort(),
      edits: (sql.prepare('SELECT kind FROM edits WHERE undone = 0 ORDER BY id').all() as Array<{ kind: string }>).map((r) => r.kind),
      running: (sql.prepare("SELECT count(*) AS n FROM runs WHERE status = 'running'").get() as { n: number }).n,
    };
  } finally {
    sql.close();
  }
}

const partitionOf = (m: Map<string, string>) => [...m.keys()].sort().map((k) => m.get(k)!);

describe('SIGKILL inside the final write of a cluster run', () => {
  it('leaves the edited grouping as it was, and the next run equals an uninterrupted one', async () => {
    const work = testTempDir('cs-final-write-');
    const photos = path.join(work, 'photos');
    for (const cls of ['animals_fish', 'food_fruit', 'space_planets', 'vehicles']) {
      for (const f of readdirSync(path.join(demoImages, cls)).sort().slice(0, 6))
        cpSync(path.join(demoImages, cls, f), path.join(photos, cls, f));
    }
    const db = path.join(work, 'db', 'c.db');
    const first = await runCli(['cluster', photos, '--db', db, '--groups', '3', '--seed', '1']);
    expect(first.code, first.stderr).toBe(0);

    // The user's work: a name and two pins, undoable edits.
    const store = openStore(db);
    try {
      const run = store.runs.activeRunId()!;
      const [a, b] = store.groups.listAssignments(run).filter((x) => x.groupId !== null);
      store.edits.renameGroup(a!.groupId!, 'My fish');
      store.edits.pinImages([a!.imageId, b!.imageId], true);
    } finally {
      store.close();
    }
    const edited = readState(db);
    expect(edited.edits).toEqual(['rename', 'pin']);
    expect(edited.pinned).toHaveLength(2);

    // What an uninterrupted re-cluster makes of it, on a copy.
    const refDb = path.join(work, 'ref', 'c.db');
    mkdirSync(path.dirname(refDb));
    copyFileSync(db, refDb);
    const recluster = (file: string) => ['cluster', photos, '--db', file, '--groups', '4', '--seed', '1'];
    const ref = await runCli(recluster(refDb));
    expect(ref.code, ref.stderr).toBe(0);
    const reference = readState(refDb);
    expect(reference.edits).toEqual(['rename', 'pin', 'recluster']);

    for (const sql of ['VALUES (?, ?, ?, ?, 0)', 'INSERT INTO run_models', 'INSERT INTO edits']) {
      const paused = await killInside(recluster(db), sql);
      expect(paused).toMatch(/^INSERT INTO (assignments|run_models|edits) /);
      const after = readState(db);
      expect(after.integrity, sql).toBe('ok');
      expect(after.activeRun, sql).toBe(edited.activeRun);
      expect(after.groups, sql).toEqual(edited.groups);
      expect(after.pinned, sql).toEqual(edited.pinned);
      expect(after.edits, sql).toEqual(['rename', 'pin']);
    }

    const done = await runCli(recluster(db));
    expect(done.code, done.stderr).toBe(0);
    const final = readState(db);
    expect(final.integrity).toBe('ok');
    expect(final.running).toBe(0); // the killed runs are marked interrupted
    expect(final.names).toEqual(reference.names);
    expect(final.pinned).toEqual(reference.pinned);
    expect(final.edits).toEqual(['rename', 'pin', 'recluster']);
    expect([...final.groups.keys()]).toEqual([...reference.groups.keys()]);
    expect(
      ari(
        partitionOf(reference.groups).map((n) => reference.names.indexOf(n)),
        partitionOf(final.groups).map((n) => final.names.indexOf(n)),
      ),
    ).toBeCloseTo(1, 6);
  }, 900_000);
});
