/**
 * `npx tsx bench/duplicates.ts [--originals N] [--negatives DIR]`: duplicate detection measured on
 * a generated set (test/fixtures/duplicateSet.ts: N pictures of tuxpaint300, each with an exact
 * copy and 7 edits), indexed with the real model: for each perceptual-hash distance and
 * embedding cosine, the share of true pairs found and the false pairs; then the false pairs the
 * chosen thresholds make among `--negatives` (fashion-mnist-1k: 1,000 distinct look-alikes).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { BACKBONE } from '../core/embed/backboneInfo.js';
import { indexLibraries } from '../core/jobs/indexing/indexLibrary.js';
import { DUPLICATE_DEFAULTS } from '../core/library/duplicates.js';
import { ProgressTracker } from '../core/runtime/progress.js';
import { openStore, type Store } from '../core/store/index.js';
import { makeDuplicateSet, pickOriginals, scorePairs } from '../test/fixtures/duplicateSet.js';

const opts = new Command()
  .option('--originals <n>', 'originals', '120')
  .option('--dataset <dir>', 'pictures', '/work/shared/datasets/tuxpaint300')
  .option('--negatives <dir>', 'distinct look-alikes', '/work/shared/datasets/fashion-mnist-1k')
  .parse(process.argv)
  .opts<{ originals: string; dataset: string; negatives: string }>();

const work = mkdtempSync(path.join(tmpdir(), 'cs-dupes-'));
try {
  const t0 = performance.now();
  const families = await makeDuplicateSet(pickOriginals(opts.dataset, Number(opts.originals)), path.join(work, 'photos'));
  const store = openStore(path.join(work, 'c.db'));
  store.libraries.add(path.join(work, 'photos'));
  await indexLibraries({ db: store.db, progress: new ProgressTracker() });
  const t1 = performance.now();
  const images = store.db.raw
    .prepare(
      "SELECT i.id, l.root_path || '/' || i.rel_path AS file FROM images i JOIN libraries l ON l.id = i.library_id WHERE status = 'ok'",
    )
    .all() as Array<{ id: number; file: string }>;
  console.log(
    `${images.length} images (${families.length} families of ${families[0]!.variants.length + 1}), indexed in ${((t1 - t0) / 1000).toFixed(0)} s`,
  );
  const idOf = new Map(images.map((r) => [r.file, r.id]));
  const measure = (s: Store, maxDistance: number, minCosine: number) => {
    const t = performance.now();
    const index = s.duplicates.find(BACKBONE.id, { maxDistance, minCosine });
    const ms = performance.now() - t;
    return {
      ms,
      score: scorePairs(families, (file) => {
        const id = idOf.get(file);
        return id === undefined ? null : (index.keeperOf.get(id) ?? (index.setOf.has(id) ? id : null));
      }),
    };
  };
  console.log('\nmaxDistance minCosine  truePairsFound  falsePairs  per edit (found/of)');
  for (const minCosine of [0.75, 0.8, 0.85]) {
    for (const maxDistance of [6, 8, 10, 12, 14]) {
      const { score, ms } = measure(store, maxDistance, minCosine);
      const edits = Object.entries(score.byEdit)
        .map(([e, v]) => `${e} ${v.found}/${v.of}`)
        .join(', ');
      console.log(
        `${String(maxDistance).padStart(11)} ${minCosine.toFixed(2).padStart(9)}  ${((score.found / score.truePairs) * 100).toFixed(1).padStart(6)}% (${score.found}/${score.truePairs})  ${String(score.falsePairs).padStart(10)}  ${edits}  [${ms.toFixed(0)} ms]`,
      );
    }
  }
  store.close();
  // Hard negatives: distinct images that look alike.
  const neg = openStore(path.join(work, 'neg.db'));
  neg.libraries.add(opts.negatives);
  await indexLibraries({ db: neg.db, progress: new ProgressTracker() });
  const n = neg.db.raw.prepare("SELECT count(*) FROM images WHERE status = 'ok'").pluck().get() as number;
  for (const maxDistance of [8, 10, 12]) {
    const sets = neg.duplicates.find(BACKBONE.id, { maxDistance, minCosine: DUPLICATE_DEFAULTS.minCosine }).sets;
    const pairs = sets.reduce((a, s) => a + ((s.members.length + 1) * s.members.length) / 2, 0);
    console.log(
      `negatives (${n} distinct images): maxDistance ${maxDistance}, minCosine ${DUPLICATE_DEFAULTS.minCosine}: ${pairs} false pairs in ${sets.length} sets`,
    );
  }
  neg.close();
} finally {
  rmSync(work, { recursive: true, force: true });
}
