/**
 * The real CLI on real labelled images (the built-in demo: 60 tuxpaint images, 6 classes),
 * with the real model, sharp and SQLite: cluster, check the database, export three ways,
 * re-run incrementally (rename, delete, add), and evaluate.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKBONE } from '../../core/embed/backboneInfo.js';
import { initTf } from '../../core/embed/backend.js';
import { chooseK } from '../../core/icon/choosek.js';
import { hungarianAccuracy, hungarianMatch } from '../../core/icon/metrics.js';
import { ActiveModel } from '../../core/jobs/grouping/activeModel.js';
import { Rng } from '../../core/icon/rng.js';
import { openStore } from '../../core/store/index.js';
import { DEFAULT_UNSORTED_THRESHOLD } from '../../core/store/unsorted.js';
import { EXPORT_MARKER } from '../../core/library/exportMarker.js';
import { demoImages, runCli } from '../helpers/cli.js';

const work = mkdtempSync(path.join(tmpdir(), 'cs-cli-'));
const photos = path.join(work, 'photos');
const db = path.join(work, 'app', 'constellate.db');
afterAll(() => rmSync(work, { recursive: true, force: true }));

function hashTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(dir);
  return out;
}

function labelOf(p: string): string {
  return path.relative(photos, p).split(path.sep)[0]!;
}

describe('constellate CLI on real images', () => {
  let before: Map<string, string>;
  let first: { stdout: string; stderr: string; code: number | null };

  beforeAll(async () => {
    cpSync(demoImages, photos, { recursive: true });
    writeFileSync(path.join(photos, 'notes.txt'), 'not an image');
    writeFileSync(path.join(photos, 'broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
    before = hashTree(photos);
    first = await runCli(['cluster', photos, '--db', db, '--groups', '6', '--seed', '1']);
  }, 600_000);

  it('clusters, prints progress and a summary, and exits 0 despite bad files', () => {
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/^embed\s+61\/61/m); // 60 images + broken.jpg (notes.txt is skipped by the scan)
    expect(first.stdout).toContain('Images clustered: 60');
    expect(first.stdout).toMatch(/Skipped: 2 \(.*not-an-image|Skipped: 2/);
    expect(first.stdout).toMatch(/Groups: 6 \(K=6, set by --groups\)/);
    expect(first.stdout).toMatch(/Backend: onnx \(CPU \(ONNX Runtime, \d+ threads?\); views in 8 bits\)/);
    expect(first.stdout).toMatch(/Time: scan .*embed .*train/);
  });

  it('stores images, embeddings, a run, groups and assignments in SQLite (WAL)', () => {
    const sql = new Database(db, { readonly: true });
    try {
      expect(sql.pragma('journal_mode', { simple: true })).toBe('wal');
      const counts = Object.fromEntries(
        (sql.prepare('SELECT status, count(*) AS n FROM images GROUP BY status').all() as Array<{ status: string; n: number }>).map((r) => [
          r.status,
          r.n,
        ]),
      );
      expect(counts).toEqual({ ok: 60, skipped: 2 });
      const reasons = sql.prepare("SELECT rel_path AS p, skip_reason AS r FROM images WHERE status = 'skipped' ORDER BY p").all() as Array<{
        p: string;
        r: string;
      }>;
      expect(reasons[0]!.p).toBe('broken.jpg');
      expect(reasons[0]!.r).toMatch(/^(truncated|decode-error|not-an-image|corrupt)/);
      expect(reasons[1]!.p).toBe('notes.txt');
      const emb = sql.prepare("SELECT count(*) AS n, min(length(vector)) AS bytes FROM embeddings WHERE view = ''").get() as {
        n: number;
        bytes: number;
      };
      expect(emb).toEqual({ n: 60, bytes: 1792 * 4 });
      const run = sql.prepare('SELECT k, status, backend FROM runs ORDER BY id DESC LIMIT 1').get() as {
        k: number;
        status: string;
        backend: string;
      };
      expect(run).toMatchObject({ k: 6, status: 'done' });
      const assigned = sql.prepare('SELECT count(*) AS n, min(confidence) AS lo, max(confidence) AS hi FROM assignments').get() as {
        n: number;
        lo: number;
        hi: number;
      };
      expect(assigned.n).toBe(60);
      expect(assigned.lo).toBeGreaterThan(0);
      expect(assigned.hi).toBeLessThanOrEqual(1);
      // Thumbnails exist in the cache next to the database, not in the photo folder.
      const thumbs = sql.prepare("SELECT thumb_path AS t FROM images WHERE status = 'ok'").all() as Array<{ t: string }>;
      for (const { t } of thumbs) expect(statSync(path.join(path.dirname(db), 'thumbnails', t)).size).toBeGreaterThan(100);
    } finally {
      sql.close();
    }
  });

  it("shows a suggestion's percentage as how often such a first suggestion is right (issue 17: it said 90%+ where half were)", async () => {
    const store = openStore(db);
    const active = new ActiveModel(store);
    try {
      const rows = store.db.raw
        .prepare('SELECT a.image_id AS id, a.group_id AS g, i.rel_path AS p FROM assignments a JOIN images i ON i.id = a.image_id')
        .all() as Array<{ id: number; g: number; p: string }>;
      const classOf = (p: string) => p.split('/')[0]!;
      const classes = [...new Set(rows.map((r) => classOf(r.p)))];
      const match = hungarianMatch(
        rows.map((r) => classes.indexOf(classOf(r.p))),
        rows.map((r) => r.g),
      );
      const groupOfClass = new Map([...match].map(([g, c]) => [classes[c]!, g]));
      const first = await active.suggestionsMany(
        rows.map((r) => r.id),
        1,
      );
      const shown = rows.map((r) => first.get(r.id)![0]!.probability);
      const right = rows.map((r) => Number(first.get(r.id)![0]!.groupId === groupOfClass.get(classOf(r.p))));
      const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;
      // here 0.66 shown for 0.47 right; the ranking-only temperature showed 0.96 (docs/scale.md)
      expect(Math.abs(mean(shown) - mean(right))).toBeLessThan(0.25);
    } finally {
      await active.close();
      store.close();
    }
  });

  it('exports CSV and JSON whose groups match the labels far above chance', async () => {
    const csv = await runCli(['export', '--db', db, '--format', 'csv']);
    expect(csv.code, csv.stderr).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe(
      'path,group_id,group_name,confidence,image_id,user_confirmed,suggested_group_id,suggested_group_name,library,relative_path,content_hash,taken_at,duplicate_of',
    );
    expect(lines).toHaveLength(61);
    const jsonOut = path.join(work, 'groups.json');
    const json = await runCli(['export', '--db', db, '--format', 'json', '--out', jsonOut]);
    expect(json.code, json.stderr).toBe(0);
    expect(json.stdout.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^wrote 60 images in \\d+ groups to ${jsonOut}$`))]);
    const records = JSON.parse(readFileSync(jsonOut, 'utf8')) as Array<{
      path: string;
      group_id: number | null;
      group_name: string;
      confidence: number | null;
    }>;
    expect(Object.keys(records[0]!).slice(0, 4)).toEqual(['path', 'group_id', 'group_name', 'confidence']);
    const classes = [...new Set(records.map((r) => labelOf(r.path)))].sort();
    const truth = records.map((r) => classes.indexOf(labelOf(r.path)));
    const pred = records.map((r) => r.group_id ?? -1);
    const acc = hungarianAccuracy(truth, pred);
    // Chance, measured: the same group sizes with the images shuffled among them.
    const shuffled: number[] = [];
    for (let t = 0; t < 300; t++) {
      const p = [...pred];
      for (let i = p.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [p[i], p[j]] = [p[j]!, p[i]!];
      }
      shuffled.push(hungarianAccuracy(truth, p));
    }
    const chanceMean = shuffled.reduce((a, b) => a + b, 0) / shuffled.length; // about 0.31 here
    expect(acc).toBeGreaterThan(Math.max(...shuffled)); // better than every shuffle
    expect(acc).toBeGreaterThan(chanceMean + 0.15);
  });

  it('exports one folder per group by copy, without touching originals, never overwrites, and does not double on a second export', async () => {
    const out = path.join(work, 'export');
    const dry = await runCli(['export', '--db', db, '--format', 'folders', '--out', out, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/: \d+ to write, 0 already there$/m);
    expect(() => statSync(out)).toThrow();
    const r1 = await runCli(['export', '--db', db, '--format', 'folders', '--out', out, '--mode', 'copy']);
    expect(r1.code, r1.stderr).toBe(0);
    const folders = readdirSync(out).filter((f) => f !== EXPORT_MARKER); // the marker keeps scans out
    expect(readdirSync(out)).toContain(EXPORT_MARKER);
    expect(folders.length).toBeGreaterThanOrEqual(6);
    const files = folders.flatMap((f) => readdirSync(path.join(out, f)).map((n) => path.join(f, n)));
    expect(files).toHaveLength(60);
    // One exported copy edited since: the second export keeps it and writes the original
    // beside it; the other 59 are already there and are not doubled.
    writeFileSync(path.join(out, files[0]!), 'edited copy');
    const r2 = await runCli(['export', '--db', db, '--format', 'folders', '--out', out, '--mode', 'hardlink']);
    expect(r2.code, r2.stderr).toBe(0);
    expect(folders.flatMap((f) => readdirSync(path.join(out, f)))).toHaveLength(61);
    expect(r2.stderr).toMatch(/^1 written; 59 already there; 1 name conflicts$/m);
    expect(r2.stdout).toMatch(/name conflict/);
    expect(readFileSync(path.join(out, files[0]!), 'utf8')).toBe('edited copy');
    expect(hashTree(photos)).toEqual(before);
  });

  it('re-runs incrementally: a renamed file reuses its embedding, a deleted one is marked missing', async () => {
    const fishDir = path.join(photos, 'animals_fish');
    const [a, b] = readdirSync(fishDir).sort();
    renameSync(path.join(fishDir, a!), path.join(photos, 'moved-' + a!));
    rmSync(path.join(fishDir, b!));
    const r = await runCli(['cluster', photos, '--db', db, '--groups', '6', '--seed', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Images clustered: 59');
    const sql = new Database(db, { readonly: true });
    try {
      const statuses = Object.fromEntries(
        (sql.prepare('SELECT status, count(*) AS n FROM images GROUP BY status').all() as Array<{ status: string; n: number }>).map((x) => [
          x.status,
          x.n,
        ]),
      );
      expect(statuses).toEqual({ ok: 59, skipped: 2, missing: 1 });
      // Nothing was embedded twice: one embedding per content.
      expect((sql.prepare("SELECT count(*) AS n FROM embeddings WHERE view = ''").get() as { n: number }).n).toBe(60);
      const moved = sql.prepare('SELECT rel_path AS p FROM images WHERE rel_path = ?').get('moved-' + a!) as { p: string } | undefined;
      expect(moved?.p).toBe('moved-' + a!);
    } finally {
      sql.close();
    }
    expect(r.stderr).not.toMatch(/embed\s+[1-9]\d*\/[1-9]/); // nothing to embed
  });

  it('places new images into the current groups with the trained head (--place-new), without retraining', async () => {
    const planets = path.join(photos, 'space_planets');
    const sources = readdirSync(planets).sort().slice(0, 3);
    for (const f of sources)
      await sharp(path.join(planets, f))
        .flop()
        .png()
        .toFile(path.join(planets, `mirrored-${f}`));
    const runsBefore = (() => {
      const sql = new Database(db, { readonly: true });
      const n = (sql.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n;
      sql.close();
      return n;
    })();
    const r = await runCli(['cluster', photos, '--db', db, '--place-new']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Placed 3 new or changed images in the current groups/);
    const sql = new Database(db, { readonly: true });
    try {
      expect((sql.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n).toBe(runsBefore);
      const active = Number((sql.prepare("SELECT value FROM app_state WHERE key = 'active_run_id'").get() as { value: string }).value);
      const placed = sql
        .prepare(
          "SELECT a.group_id AS g FROM assignments a JOIN images i ON i.id = a.image_id WHERE a.run_id = ? AND i.rel_path LIKE '%mirrored-%'",
        )
        .all(active) as Array<{ g: number | null }>;
      expect(placed).toHaveLength(3);
      // A mirrored planet lands with the planets: the group most of the originals are in.
      const planetGroups = sql
        .prepare(
          "SELECT a.group_id AS g, count(*) AS n FROM assignments a JOIN images i ON i.id = a.image_id WHERE a.run_id = ? AND i.rel_path LIKE 'space_planets/%' AND i.rel_path NOT LIKE '%mirrored-%' GROUP BY 1 ORDER BY 2 DESC",
        )
        .all(active) as Array<{ g: number; n: number }>;
      expect(placed.filter((p) => p.g === planetGroups[0]!.g).length).toBeGreaterThanOrEqual(2);
    } finally {
      sql.close();
    }
  });

  it('chooses K from the data when --groups is not given', async () => {
    const r = await runCli(['cluster', photos, '--db', db, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { k: number; kChosenBy: string; groups: unknown[] };
    expect(s.kChosenBy).toBe('auto');
    expect(s.k).toBeGreaterThanOrEqual(3);
    expect(s.k).toBeLessThanOrEqual(12);
    // The same images in other orders (renamed, moved, indexed otherwise) get the same K: before,
    // chooseK's k-means partitions depended on the row order (the demo in ten orders: K 3 to 7).
    await initTf();
    const store = openStore(db);
    try {
      const m = store.embeddings.loadAll(BACKBONE.id);
      const rng = new Rng(11);
      for (let t = 0; t < 4; t++) {
        const perm = t === 0 ? Int32Array.from({ length: m.count }, (_, i) => i) : rng.permutation(m.count);
        const x = new Float32Array(m.count * m.dim);
        perm.forEach((src, i) => x.set(m.vectors.subarray(src * m.dim, (src + 1) * m.dim), i * m.dim));
        expect(chooseK(x, m.count, m.dim).k).toBe(s.k);
      }
    } finally {
      store.close();
    }
  });

  it('eval prints I-Con and k-means scores as JSON', async () => {
    const r = await runCli(['eval', demoImages, '--seeds', '2', '--pins', '3', '--json', '--db', path.join(work, 'eval.db')]);
    expect(r.code, r.stderr).toBe(0);
    type Scores = Record<'acc' | 'nmi' | 'ari', number>;
    const o = JSON.parse(r.stdout) as {
      icon: Scores;
      kmeans: Scores;
      n: number;
      k: number;
      unsorted: Record<string, number>;
      pinned: Scores & { perClass: number };
      fixed: Scores & { perClass: number };
    };
    expect(o.n).toBe(60);
    expect(o.k).toBe(6);
    // every image and its 4 augmented views, embedded by ONNX Runtime on the CPU (the default engine
    // here), the views by its 8-bit copy
    expect((o as unknown as { engines: Record<string, number> }).engines).toEqual({
      'onnx/CPUExecutionProvider': 60,
      'onnx/CPUExecutionProvider+int8': 240,
    });
    for (const m of [o.icon, o.kmeans]) expect(Object.keys(m).sort()).toEqual(['acc', 'ari', 'nmi']);
    // Hungarian ACC of shuffled labels on 60 images / 6 groups is about 0.25: both are well
    // above chance; I-Con measured 0.450 on every seed (k-means 0.47-0.55 by seed)
    expect(o.kmeans.acc).toBeGreaterThan(0.35);
    expect(o.icon.acc).toBeGreaterThan(0.4);
    // the app's default Unsorted threshold: a small pile (measured 1.7% = 1 image of 60)
    expect(o.unsorted.threshold).toBe(DEFAULT_UNSORTED_THRESHOLD);
    expect(o.unsorted.share).toBeLessThan(0.1);
    expect(o.unsorted.accSorted).toBeGreaterThan(0.4);
    // Regrouped after the user's edits (3 per class): pins and fixes both help. The pinned and
    // fixed images alone are 18 of 60 (at most 0.3 of ACC).
    expect(o.pinned.perClass).toBe(3);
    expect(o.fixed.perClass).toBe(3);
    expect(o.pinned.acc).toBeGreaterThan(o.icon.acc);
    expect(o.fixed.acc).toBeGreaterThan(o.icon.acc);
  });

  it('eval --view-draw embeds another set of views of the same images, in a database of its own', async () => {
    // after the test above: eval.db holds the app's views (draw 0) of the demo images
    const drawDb = path.join(work, 'eval-draw1.db');
    const r = await runCli(['eval', demoImages, '--seeds', '1', '--no-peers', '--json', '--view-draw', '1', '--db', drawDb]);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { viewDraw: number }).viewDraw).toBe(1);
    const rows = (file: string, view: string) => {
      const store = openStore(file, { readonly: true });
      try {
        const m = store.embeddings.loadAll(BACKBONE.id, { view });
        return { count: m.count, vectors: m.vectors };
      } finally {
        store.close();
      }
    };
    // the images' own rows are the same; every view is another crop
    const own = [rows(path.join(work, 'eval.db'), ''), rows(drawDb, '')];
    expect(own[1]!.count).toBe(60);
    expect(own[1]!.vectors).toEqual(own[0]!.vectors);
    const a = rows(path.join(work, 'eval.db'), 'aug0');
    const b = rows(drawDb, 'aug0');
    expect(b.count).toBe(60);
    const d = a.vectors.length / a.count;
    let same = 0;
    for (let i = 0; i < a.count; i++) {
      let diff = 0;
      for (let j = 0; j < d; j++) diff = Math.max(diff, Math.abs(a.vectors[i * d + j]! - b.vectors[i * d + j]!));
      if (diff < 1e-6) same++;
    }
    expect(same).toBe(0);
    // a database holds one draw: another one, or the app's, would take its views as their own
    for (const [db, draw] of [
      [drawDb, '2'],
      [path.join(work, 'eval.db'), '1'],
    ] as const) {
      const bad = await runCli(['eval', demoImages, '--seeds', '1', '--no-peers', '--view-draw', draw, '--db', db]);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(new RegExp(`holds the views of draw \\d, not ${draw}`));
    }
  });

  it('--assign-new (the old name of --place-new) also places changed files again, and reports the files recognised as moved or renamed and the files missing', async () => {
    // After a delete, a rename and two additions the summary names each kind of change, and a
    // file whose content changed is placed again rather than keeping its old content's group.
    const fruit = path.join(photos, 'food_fruit');
    const [gone, renamed, src1, src2, changed] = readdirSync(fruit).sort();
    rmSync(path.join(fruit, gone!));
    renameSync(path.join(fruit, renamed!), path.join(fruit, `renamed-${renamed!}`));
    for (const f of [src1!, src2!])
      await sharp(path.join(fruit, f))
        .flop()
        .png()
        .toFile(path.join(fruit, `flopped-${f}`));
    // `changed` now holds the bytes of an image grouped apart from the fruit (earlier tests here
    // regroup with a K chosen from the data, so which class that is depends on them)
    const groupOfIn = (sql: Database.Database, rel: string) =>
      (
        sql
          .prepare(
            "SELECT a.group_id AS g FROM assignments a JOIN images i ON i.id = a.image_id WHERE a.run_id = (SELECT value FROM app_state WHERE key = 'active_run_id') AND i.rel_path = ?",
          )
          .get(rel) as { g: number } | undefined
      )?.g;
    const other = (() => {
      const sql = new Database(db, { readonly: true });
      try {
        const fruitGroup = groupOfIn(sql, `food_fruit/${src1!}`);
        for (const cls of ['space_planets', 'vehicles', 'animals_fish', 'animals_birds', 'plants_flowers']) {
          const f = readdirSync(path.join(photos, cls))
            .sort()
            .find((x) => !x.startsWith('mirrored-'))!;
          const g = groupOfIn(sql, `${cls}/${f}`);
          if (g !== undefined && g !== fruitGroup) return `${cls}/${f}`;
        }
        throw new Error('every class is grouped with the fruit');
      } finally {
        sql.close();
      }
    })();
    writeFileSync(path.join(fruit, changed!), readFileSync(path.join(photos, other)));
    const missingBefore = (() => {
      const sql = new Database(db, { readonly: true });
      const n = (sql.prepare("SELECT count(*) AS n FROM images WHERE status = 'missing'").get() as { n: number }).n;
      sql.close();
      return n; // earlier tests here delete a file too
    })();
    const r = await runCli(['cluster', photos, '--db', db, '--assign-new']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Placed 3 new or changed images in the current groups/);
    expect(r.stdout).toContain('Moved or renamed (kept their groups): 1\n');
    expect(r.stdout).toContain(`Missing (no longer in the folder): ${missingBefore + 1} (1 since the last scan)\n`);
    const sql = new Database(db, { readonly: true });
    try {
      // the same bytes as `other`: the head puts it where that image is, not with the fruit
      expect(groupOfIn(sql, `food_fruit/${changed!}`)).toBe(groupOfIn(sql, other));
    } finally {
      sql.close();
    }
  });
});
