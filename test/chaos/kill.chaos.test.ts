/**
 * Crash safety: SIGKILL the real CLI at chosen moments of every phase (scan, check for copies,
 * embed, train, write), 20+ times, restart it each time, and check after every kill that the
 * database is intact, nothing was embedded twice or lost, and the user's edits are there;
 * finally the result equals an uninterrupted run's with the same seed.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ari } from '../../core/icon/metrics.js';
import { demoImages, repoRoot, runCli } from '../helpers/cli.js';
import { testTempDir } from '../helpers/tempDir.js';
import { DEFAULT_VIEWS } from '../../core/jobs/indexing/views.js';

/**
 * Decoding has no phase of its own: decoder workers run during "embed" and die with it. "check"
 * only does I/O when new files have the size of known content (copies), so it is killed in a
 * round of its own, below.
 */
const PHASES = ['scan', 'embed', 'train', 'write'] as const;
type Phase = (typeof PHASES)[number] | 'check';

/** How long after a phase's first progress line to kill: fast phases get short delays. */
const MAX_DELAY_MS: Record<Phase, number> = { scan: 20, check: 10, embed: 1500, train: 1500, write: 20 };

/**
 * Starts `cluster` and kills it with SIGKILL a random moment after `phase` begins. Returns
 * the phase the process was actually in when killed (the last progress line it printed), or
 * null if it finished first.
 */
function runAndKill(args: string[], phase: Phase, env: Record<string, string>): Promise<string | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'constellate.js'), ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stderr = '';
    let armed = false;
    let killedIn: string | null = null;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!armed && new RegExp(`^${phase}\\s`, 'm').test(stderr)) {
        armed = true;
        setTimeout(
          () => {
            const lines = stderr.trim().split('\n');
            killedIn = lines[lines.length - 1]!.split(/\s/)[0]!;
            child.kill('SIGKILL');
          },
          Math.floor(Math.random() * MAX_DELAY_MS[phase]),
        );
      }
    });
    child.on('close', (_code, signal) => resolve(signal === 'SIGKILL' ? killedIn : null));
  });
}

interface DbState {
  integrity: string;
  embeddings: number;
  duplicateEmbeddings: number;
  okImages: number;
  /** content hash + view -> digest of the stored vector */
  vectors: Map<string, string>;
  assignments: Map<string, number>;
  groupNames: string[];
  pinned: string[];
}

function readState(db: string): DbState {
  const sql = new Database(db, { readonly: true });
  try {
    const integrity = (sql.pragma('integrity_check', { simple: true }) as string) ?? 'missing';
    const embeddings = (sql.prepare('SELECT count(*) AS n FROM embeddings').get() as { n: number }).n;
    const duplicateEmbeddings = (
      sql
        .prepare('SELECT count(*) AS n FROM (SELECT content_hash, model, view FROM embeddings GROUP BY 1, 2, 3 HAVING count(*) > 1)')
        .get() as { n: number }
    ).n;
    const okImages = (sql.prepare("SELECT count(*) AS n FROM images WHERE status = 'ok'").get() as { n: number }).n;
    const vectors = new Map<string, string>();
    for (const r of sql.prepare('SELECT content_hash AS h, view AS v, vector AS b FROM embeddings').all() as Array<{
      h: string;
      v: string;
      b: Buffer;
    }>) {
      vectors.set(`${r.h}/${r.v}`, createHash('sha1').update(r.b).digest('hex'));
    }
    const active = sql.prepare("SELECT value FROM app_state WHERE key = 'active_run_id'").get() as { value: string } | undefined;
    const assignments = new Map<string, number>();
    let groupNames: string[] = [];
    let pinned: string[] = [];
    if (active) {
      for (const r of sql
        .prepare('SELECT i.rel_path AS p, a.group_id AS g FROM assignments a JOIN images i ON i.id = a.image_id WHERE a.run_id = ?')
        .all(Number(active.value)) as Array<{ p: string; g: number }>)
        assignments.set(r.p, r.g);
      groupNames = (sql.prepare('SELECT name FROM groups WHERE run_id = ?').all(Number(active.value)) as Array<{ name: string }>).map(
        (r) => r.name,
      );
      pinned = (
        sql
          .prepare(
            'SELECT i.rel_path AS p FROM assignments a JOIN images i ON i.id = a.image_id WHERE a.run_id = ? AND a.pinned = 1 ORDER BY p',
          )
          .all(Number(active.value)) as Array<{ p: string }>
      ).map((r) => r.p);
    }
    return { integrity, embeddings, duplicateEmbeddings, okImages, vectors, assignments, groupNames, pinned };
  } finally {
    sql.close();
  }
}

function samePartition(a: Map<string, number>, b: Map<string, number>): number {
  const keys = [...a.keys()].sort();
  return ari(
    keys.map((k) => a.get(k)!),
    keys.map((k) => b.get(k) ?? -1),
  );
}

describe('SIGKILL at any moment loses nothing', () => {
  it('survives 20+ kills across all phases and ends equal to an uninterrupted run', async () => {
    const work = testTempDir('cs-chaos-');
    const photos = path.join(work, 'photos');
    // The CLI's own temp folders (ONNX Runtime's profile of its first run) stay behind when it is
    // killed: they go in the test's folder.
    const env = { TMPDIR: path.join(work, 'tmp') };
    mkdirSync(env.TMPDIR);
    cpSync(demoImages, photos, { recursive: true });
    const args = (db: string) => ['cluster', photos, '--db', db, '--groups', '6', '--seed', '3'];

    const refDb = path.join(work, 'ref', 'c.db');
    const ref = await runCli(args(refDb), { env });
    expect(ref.code, ref.stderr).toBe(0);
    const reference = readState(refDb);

    const db = path.join(work, 'chaos', 'c.db');
    const kills: string[] = [];
    let lastEmbeddings = 0;
    const check = () => {
      const s = readState(db);
      expect(s.integrity).toBe('ok');
      expect(s.duplicateEmbeddings).toBe(0);
      expect(s.embeddings).toBeGreaterThanOrEqual(lastEmbeddings); // nothing committed is lost
      lastEmbeddings = s.embeddings;
      return s;
    };

    // Round 1: the first clustering of the folder, killed in every phase in turn.
    for (let round = 0; round < 8 && kills.length < 15; round++) {
      for (const phase of PHASES) {
        const killedIn = await runAndKill(args(db), phase, env);
        if (killedIn) kills.push(killedIn);
        check();
      }
    }
    const done = await runCli(args(db), { env });
    expect(done.code, done.stderr).toBe(0);
    const first = check();
    expect(first.okImages).toBe(60);
    expect(first.embeddings).toBe(60 * (1 + DEFAULT_VIEWS)); // image + its views per content, each once
    // Bit for bit what the uninterrupted run stored: a resumed run embeds the same pixels even
    // where the killed one had already cached the thumbnail.
    expect(first.vectors).toEqual(reference.vectors);
    expect(samePartition(reference.assignments, first.assignments)).toBeCloseTo(1, 6);

    // Copies of known files are recognised by content in the "check" phase (hashing, no
    // decoding). Each try adds a fresh folder of copies, so there is always a check to kill.
    let copyFolders = 0;
    let checkKills = 0;
    for (let attempt = 0; attempt < 8 && checkKills === 0; attempt++) {
      cpSync(demoImages, path.join(photos, `copies-${attempt}`), { recursive: true });
      copyFolders++;
      const killedIn = await runAndKill(args(db), 'check', env);
      if (killedIn) kills.push(killedIn);
      if (killedIn === 'check') checkKills++;
      check();
    }
    expect(checkKills, 'never killed while checking copies').toBe(1);
    const withCopies = await runCli(args(db), { env });
    expect(withCopies.code, withCopies.stderr).toBe(0);
    const afterCopies = check();
    expect(afterCopies.okImages).toBe(60 * (1 + copyFolders));
    expect(afterCopies.embeddings).toBe(60 * (1 + DEFAULT_VIEWS)); // the copies reuse what is stored

    // Round 2: the user edits, then re-clustering is killed again; edits must survive.
    const sql = new Database(db);
    const active = Number((sql.prepare("SELECT value FROM app_state WHERE key = 'active_run_id'").get() as { value: string }).value);
    const someImages = (
      sql.prepare('SELECT image_id AS id FROM assignments WHERE run_id = ? ORDER BY image_id LIMIT 3').all(active) as Array<{ id: number }>
    ).map((r) => r.id);
    sql.prepare('UPDATE assignments SET pinned = 1 WHERE run_id = ? AND image_id IN (?, ?, ?)').run(active, ...someImages);
    const renamed = sql
      .prepare(
        "UPDATE groups SET name = 'My fish', user_named = 1 WHERE id = (SELECT group_id FROM assignments WHERE run_id = ? AND image_id = ?)",
      )
      .run(active, someImages[0]);
    expect(renamed.changes).toBe(1);
    sql.close();
    const pinnedBefore = readState(db).pinned;
    expect(pinnedBefore).toHaveLength(3);
    // Nothing is new, so a plain `cluster` keeps the grouping and trains nothing: --new-map
    // makes it train (and write) again over the user's edits.
    const retrain = [...args(db), '--new-map'];
    for (let round = 0; round < 2 || (round < 6 && kills.length < 21); round++) {
      for (const phase of ['scan', 'train', 'write'] as const) {
        const killedIn = await runAndKill(retrain, phase, env);
        if (killedIn) kills.push(killedIn);
        const s = check();
        expect(s.pinned).toEqual(pinnedBefore);
        expect(s.groupNames).toContain('My fish');
      }
    }
    const again = await runCli(retrain, { env });
    expect(again.code, again.stderr).toBe(0);
    const final = check();
    expect(final.pinned).toEqual(pinnedBefore);
    expect(final.groupNames).toContain('My fish');

    console.log(
      `kills by phase: ${JSON.stringify(kills.reduce<Record<string, number>>((m, p) => ({ ...m, [p]: (m[p] ?? 0) + 1 }), {}))}; folders of copies tried: ${copyFolders}`,
    );
    expect(kills.length).toBeGreaterThanOrEqual(20);
    for (const p of [...PHASES, 'check']) expect(kills, `never killed during ${p}`).toContain(p);
  }, 1_500_000);
});
