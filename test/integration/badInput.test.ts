/**
 * The reliability corpus (zero-byte, truncated, bit-flipped, lying extensions, HEIC/JXL,
 * a decompression bomb, odd sizes and colour models, every EXIF orientation, odd names,
 * symlink loops, unreadable entries, 10,000 non-image files) through the real CLI: each file
 * ends as a correct embedding or a recorded skip reason, the run finishes with exit code 0,
 * the summary shows the reasons, and no original changes (run, export, undo).
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBadCorpus, removeBadCorpus, type BadCorpus } from '../fixtures/badCorpus.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { suiteTempDir } from '../helpers/tempDir.js';
import { dispatch } from '../../core/api/host.js';
import { createService } from '../../core/api/service.js';
import { openStore } from '../../core/store/index.js';

// Removed after the corpus, which restores the permissions of its locked entries first.
const work = suiteTempDir('cs-bad-');
const corpusDir = path.join(work, 'corpus');
const db = path.join(work, 'db', 'c.db');
let corpus: BadCorpus;
let run: CliResult;
let before: Map<string, string>;

/** Content hash of every readable regular file (symlinks not followed). */
function hashTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        try {
          out.set(path.relative(dir, p), createHash('sha256').update(readFileSync(p)).digest('hex') + ':' + lstatSync(p).mtimeMs);
        } catch {
          out.set(path.relative(dir, p), 'unreadable');
        }
      }
    }
  };
  walk(dir);
  return out;
}

beforeAll(async () => {
  corpus = await makeBadCorpus(corpusDir);
  before = hashTree(corpus.root);
  run = await runCli(['cluster', corpus.root, '--db', db, '--groups', '3']);
}, 900_000);

afterAll(() => removeBadCorpus(corpusDir));

describe('bad input through the whole pipeline', () => {
  it('finishes with exit code 0 and shows skip reasons in the summary', () => {
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    expect(run.stdout).toMatch(/Skipped: \d+ \(.*not-an-image \d+/);
    expect(run.stdout).toMatch(/unsupported-format \d+/);
    expect(run.stdout).toMatch(/too-many-pixels 1/);
  });

  it('records every case as embedded or skipped with the expected reason', () => {
    const sql = new Database(db, { readonly: true });
    try {
      const rows = sql.prepare('SELECT rel_path AS p, status, skip_reason AS r FROM images').all() as Array<{
        p: string;
        status: string;
        r: string | null;
      }>;
      const byPath = new Map(rows.map((r) => [r.p.split(path.sep).join('/'), r]));
      const problems: string[] = [];
      for (const c of corpus.expected) {
        if (c.outcome !== 'ok' && c.outcome.skip === 'vanished') continue; // deleted mid-scan: may never be seen
        const row = byPath.get(c.name);
        if (!row) {
          problems.push(`${JSON.stringify(c.name)}: not recorded`);
          continue;
        }
        if (c.outcome === 'ok') {
          if (row.status !== 'ok') problems.push(`${JSON.stringify(c.name)}: expected ok, got ${row.status} (${row.r})`);
        } else if (row.status !== 'skipped' || !row.r?.startsWith(`${c.outcome.skip}:`)) {
          problems.push(`${JSON.stringify(c.name)}: expected skip ${c.outcome.skip}, got ${row.status} (${row.r})`);
        }
      }
      for (const ignored of corpus.ignored) if (byPath.has(ignored)) problems.push(`${ignored}: should be ignored`);
      expect(problems).toEqual([]);
      const ok = rows.filter((r) => r.status === 'ok').length;
      const embedded = (sql.prepare("SELECT count(DISTINCT content_hash) AS n FROM embeddings WHERE view = ''").get() as { n: number }).n;
      expect(embedded).toBeGreaterThan(0);
      expect(embedded).toBeLessThanOrEqual(ok);
      expect(rows.filter((r) => r.p.startsWith('not-images')).length).toBe(10_000);
    } finally {
      sql.close();
    }
  });

  it('never changes an original: after the run, an export and an undo all files are byte-identical', async () => {
    const store = openStore(db);
    const host = createService({ store });
    try {
      const { groups } = (await dispatch(host, 'listGroups', {})) as { groups: Array<{ id: number }> };
      await dispatch(host, 'renameGroup', { groupId: groups[0]!.id, name: 'Renamed' });
      await dispatch(host, 'exportGroups', { format: 'folders', out: path.join(work, 'export'), mode: 'copy' });
      await dispatch(host, 'undo', {});
    } finally {
      await host.close();
      store.close();
    }
    expect(hashTree(corpus.root)).toEqual(before);
  });
});
