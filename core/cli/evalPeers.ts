/**
 * scikit-learn's clusterers on the same stored embeddings as `eval` scores I-Con on: a
 * measuring stick run through Python where it is installed (Debian: python3-sklearn), never a
 * dependency of the app. The rows go over as .npy files in a temporary folder; the labels come
 * back and are scored with the CLI's own metrics, as I-Con's are.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../app/paths.js';
import { scoreAll, type Scores } from '../icon/metrics.js';
import { l2normalize } from '../icon/preprocess.js';

export interface PeerScores {
  acc: number;
  nmi: number;
  ari: number;
  /** Seeds run (1 for deterministic methods). */
  runs: number;
}

export type PeersResult = { peers: Record<string, PeerScores> } | { unavailable: string };

/** The .npy (format 1.0) bytes of a row-major float32 matrix. */
export function npyBytes(x: Float32Array, rows: number, cols: number): Buffer {
  if (x.length !== rows * cols) throw new Error('npyBytes: length != rows * cols');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  // magic (6) + version (2) + length (2) + header + '\n', padded to a multiple of 64
  header = header.padEnd(Math.ceil((10 + header.length + 1) / 64) * 64 - 10 - 1, ' ') + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(x.buffer, x.byteOffset, x.byteLength)]);
}

/**
 * The first Python that imports sklearn: python3, /usr/bin/python3 (Debian's, where a pyenv or
 * venv python3 comes first on PATH without sklearn), python; $CONSTELLATE_PYTHON alone when set.
 */
export function findSklearnPython(): string | null {
  const candidates = process.env.CONSTELLATE_PYTHON ? [process.env.CONSTELLATE_PYTHON] : ['python3', '/usr/bin/python3', 'python'];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import sklearn, numpy'], { stdio: 'ignore', timeout: 60_000 });
    if (r.status === 0) return py;
  }
  return null;
}

/**
 * Scores KMeans (k-means++, n_init 10), SpectralClustering (nearest_neighbors, 10),
 * AgglomerativeClustering (ward; average with cosine) and GaussianMixture (diag, on PCA-64) on
 * each named feature space, `seeds` runs where the method is random. Peer names are
 * `<method>.<space>`.
 */
export function scorePeers(
  spaces: Record<string, { x: Float32Array; d: number }>,
  n: number,
  truth: ArrayLike<number>,
  k: number,
  seeds: number[],
): PeersResult {
  const py = findSklearnPython();
  if (!py)
    return {
      unavailable: `scikit-learn not found (no ${process.env.CONSTELLATE_PYTHON ?? 'python3'} that imports sklearn; on Debian: apt-get install python3-sklearn)`,
    };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'constellate-peers-'));
  try {
    for (const [name, { x, d }] of Object.entries(spaces)) writeFileSync(path.join(dir, `${name}.npy`), npyBytes(x, n, d));
    writeFileSync(path.join(dir, 'params.json'), JSON.stringify({ k, seeds, spaces: Object.keys(spaces) }));
    const r = spawnSync(py, [path.join(packageRoot(), 'scripts', 'sklearn_peers.py'), dir], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0)
      return { unavailable: `scikit-learn peers failed: ${(r.stderr || r.error?.message || '').trim().split('\n').at(-1) ?? 'no output'}` };
    const labels = JSON.parse(readFileSync(path.join(dir, 'labels.json'), 'utf8')) as Record<string, number[][]>;
    const peers: Record<string, PeerScores> = {};
    for (const [name, runs] of Object.entries(labels)) {
      const s = runs.map((l) => scoreAll(truth, l));
      const mean = (f: (x: Scores) => number): number => s.reduce((a, x) => a + f(x), 0) / s.length;
      peers[name] = { acc: mean((x) => x.acc), nmi: mean((x) => x.nmi), ari: mean((x) => x.ari), runs: s.length };
    }
    return { peers };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The two spaces eval compares on: the embeddings L2-normalised, and the trainer's own features. */
export function peerSpaces(
  features: Float32Array,
  n: number,
  d: number,
  pre: { x: Float32Array; d: number },
): Record<string, { x: Float32Array; d: number }> {
  return { l2: { x: l2normalize(features, n, d), d }, pre };
}
