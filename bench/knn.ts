/**
 * kNN graph construction at 10k / 100k / 1M rows: exact blocked matmul (`knnGraph`) against
 * HNSW (`knnGraphHnsw`, hnswlib-node), with recall@k of HNSW against exact on 1,000 sampled
 * query rows, and peak RSS. Input: synthetic clustered 128-d L2-normalised rows, the shape of
 * what the pipeline's kNN sees (1792-d backbone features reduced by PCA to 128).
 *
 * `npx tsx bench/run.ts --only knn [--quick]` (`--quick`: 5k rows, CI). Every case runs in a
 * child process so that the peak RSS it reports is its own, not the largest case's so far;
 * one case alone: `npx tsx bench/knn.ts --case '{"n":100000,"method":"hnsw","k":3,"queries":1000}'`.
 * Timings share two cores with whatever else runs: each note carries the 1-minute load average.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { initTf } from '../core/embed/backend.js';
import { DEFAULTS } from '../core/icon/clustering.js';
import { HNSW_DEFAULTS, knnGraph, knnGraphHnsw, knnRecall } from '../core/icon/knn.js';
import { Rng } from '../core/icon/rng.js';
import type { Figure } from './report.js';

interface Case {
  n: number;
  method: 'exact' | 'hnsw';
  k: number;
  /** Sampled query rows for recall (HNSW only; exact is the reference). */
  queries: number;
  /** HNSW parameters (default HNSW_DEFAULTS); 'clustering' = what the I-Con fit uses. */
  params?: 'default' | 'clustering';
  /** Row width (default D; the fit searches its knnPcaDims). */
  d?: number;
}

interface CaseResult {
  buildS: number;
  recall: number | null;
  /** Peak RSS of the case's process once the graph is built (data + graph + index), GiB. */
  peakRssGiB: number;
  backend: string;
  loadBefore: number;
  loadAfter: number;
}

const D = 128;
/** Exact at 100k is run only when its time, extrapolated from 10k (O(n^2)), is under this. */
const EXACT_BUDGET_S = 120;

/**
 * Clustered rows, L2-normalised: one cluster per ~1,000 rows, centres N(0, I), noise with
 * a decaying spectrum (std 1.5 / sqrt(1 + j/4) along axis j, effective dimension ~25) as
 * PCA components of real features have; isotropic 128-d noise would be a harder, less
 * realistic case for any approximate search.
 */
export function clusteredFeatures(n: number, d: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const clusters = Math.max(10, Math.round(n / 1000));
  const centres = rng.normalArray(clusters * d, 1);
  const std = Float32Array.from({ length: d }, (_, j) => 1.5 / Math.sqrt(1 + j / 4));
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = rng.int(clusters);
    const o = i * d;
    let s = 0;
    for (let j = 0; j < d; j++) {
      const v = centres[c * d + j]! + std[j]! * rng.normal();
      x[o + j] = v;
      s += v * v;
    }
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < d; j++) x[o + j] = x[o + j]! * inv;
  }
  return x;
}

async function runCase(c: Case): Promise<CaseResult> {
  const { backend } = await initTf();
  const d = c.d ?? D;
  const x = clusteredFeatures(c.n, d, 1);
  const loadBefore = loadavg()[0]!;
  const t0 = performance.now();
  const g =
    c.method === 'exact'
      ? knnGraph(x, c.n, d, c.k)
      : knnGraphHnsw(x, c.n, d, c.k, { seed: 0, ...(c.params === 'clustering' ? DEFAULTS.hnsw : {}) });
  const buildS = (performance.now() - t0) / 1000;
  const peakRssGiB = (process.resourceUsage().maxRSS * 1024) / 2 ** 30;
  const loadAfter = loadavg()[0]!;
  let recall: number | null = null;
  if (c.method === 'hnsw') {
    const sample = new Rng(2).permutation(c.n).subarray(0, Math.min(c.queries, c.n));
    recall = knnRecall(g, x, c.n, d, sample);
  }
  return { buildS, recall, peakRssGiB, backend: backend.choice, loadBefore, loadAfter };
}

/** Runs one case in a child process (same loader flags, e.g. tsx's) and returns its result. */
function runChild(c: Case): CaseResult {
  const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--case', JSON.stringify(c)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 16 * 2 ** 20,
  });
  if (r.status !== 0) throw new Error(`knn case ${JSON.stringify(c)} exited with ${r.status ?? r.signal}`);
  const last = r.stdout.trim().split('\n').pop()!;
  return JSON.parse(last) as CaseResult;
}

export async function benchKnn(quick: boolean): Promise<Figure[]> {
  const command = `npx tsx bench/run.ts --only knn${quick ? ' --quick' : ''}`;
  const figs: Figure[] = [];
  const describe = (h: { m: number; efConstruction: number; efSearch: number }): string =>
    `m ${h.m}, efConstruction ${h.efConstruction}, efSearch ${h.efSearch}`;
  const log = (f: Figure): void => {
    figs.push(f);
    console.error(`  ${f.name}: ${f.value === null ? 'n/a' : f.value.toFixed(3)} ${f.unit}  (${f.note ?? ''})  [${f.command}]`);
  };
  const record = (c: Case, r: CaseResult): void => {
    const tag = `${c.method}${c.params === 'clustering' ? '.clustering' : ''}.n${c.n}.k${c.k}${c.d ? `.d${c.d}` : ''}`;
    const params = c.params === 'clustering' ? `I-Con fit's settings: ${describe(DEFAULTS.hnsw)}` : describe(HNSW_DEFAULTS);
    const load = `load ${r.loadBefore.toFixed(1)} -> ${r.loadAfter.toFixed(1)}`;
    const how = c.method === 'exact' ? `blocked matmul, tfjs ${r.backend}` : `hnswlib-node, ${params}, 1 thread`;
    log({ name: `knn.build.${tag}`, value: r.buildS, unit: 's', command, note: `${how}; ${c.d ?? D}-d; ${load}` });
    if (r.recall !== null)
      log({
        name: `knn.recall.${tag}`,
        value: r.recall,
        unit: `recall@${c.k}`,
        command,
        note: `vs exact on ${Math.min(c.queries, c.n)} sampled rows`,
      });
    log({ name: `knn.peakRss.${tag}`, value: r.peakRssGiB, unit: 'GiB', command, note: 'process peak after data + graph' });
  };
  const run = (c: Case): CaseResult => {
    const r = runChild(c);
    record(c, r);
    return r;
  };

  if (quick) {
    for (const method of ['exact', 'hnsw'] as const) run({ n: 5000, method, k: 3, queries: 500 });
    return figs;
  }
  const exact10k = run({ n: 10000, method: 'exact', k: 3, queries: 0 });
  run({ n: 10000, method: 'hnsw', k: 3, queries: 1000 });
  const predicted = exact10k.buildS * 100;
  if (predicted < EXACT_BUDGET_S) run({ n: 100000, method: 'exact', k: 3, queries: 0 });
  else
    log({
      name: 'knn.build.exact.n100000.k3',
      value: null,
      unit: 's',
      command,
      note: `skipped: ~${predicted.toFixed(0)} s extrapolated from 10k (budget ${EXACT_BUDGET_S} s)`,
    });
  run({ n: 100000, method: 'hnsw', k: 3, queries: 1000 });
  run({ n: 100000, method: 'hnsw', k: 10, queries: 1000 });
  // the clustering's own, cheaper settings (its kNN kernel tolerates a few missed neighbours), as
  // the fit uses them: its graph's k (knn 10, spectralKnn 10) on its knnPcaDims-wide rows
  run({ n: 100000, method: 'hnsw', k: DEFAULTS.knn, queries: 1000, params: 'clustering', d: DEFAULTS.knnPcaDims });
  run({ n: 1000000, method: 'hnsw', k: DEFAULTS.knn, queries: 1000, params: 'clustering', d: DEFAULTS.knnPcaDims });
  return figs;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const at = process.argv.indexOf('--case');
  if (at >= 0) {
    // child: one case, its result as the last line of stdout
    console.log(JSON.stringify(await runCase(JSON.parse(process.argv[at + 1]!) as Case)));
  } else {
    const figs = await benchKnn(process.argv.includes('--quick'));
    for (const f of figs) console.log(`${f.name}\t${f.value?.toFixed(3) ?? 'n/a'}\t${f.unit}\t${f.note ?? ''}\t${f.command}`);
  }
}
