import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findSklearnPython, npyBytes, scorePeers } from '../../core/cli/evalPeers.js';
import { Rng } from '../../core/icon/rng.js';

const python = findSklearnPython();

describe('scikit-learn peers for eval', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('writes .npy files numpy reads back exactly', () => {
    const py = ['python3', '/usr/bin/python3'].find((p) => spawnSync(p, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0);
    if (!py) return expect(npyBytes(new Float32Array(6), 2, 3).subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'npy-'));
    try {
      const x = Float32Array.from([1.5, -2, 3.25, 1e-7, 0, 42]);
      writeFileSync(path.join(dir, 'x.npy'), npyBytes(x, 2, 3));
      const r = spawnSync(
        py,
        ['-c', `import json, numpy as np; a = np.load('${dir}/x.npy'); print(json.dumps([str(a.dtype), a.shape, a.ravel().tolist()]))`],
        { encoding: 'utf8' },
      );
      expect(JSON.parse(r.stdout)).toEqual(['float32', [2, 3], Array.from(x)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.runIf(python !== null)('scores every peer on both spaces with the CLI metrics (real scikit-learn)', () => {
    // three well separated blobs: every peer finds them
    const rng = new Rng(2);
    const n = 90;
    const d = 4;
    const truth = Array.from({ length: n }, (_, i) => i % 3);
    // close enough that the kNN graph is connected (spectral clustering needs that), far enough to separate
    const x = Float32Array.from({ length: n * d }, (_, e) => 1 + 3 * (truth[Math.floor(e / d)]! === e % d ? 1 : 0) + 0.7 * rng.normal());
    const r = scorePeers({ l2: { x, d }, pre: { x, d } }, n, truth, 3, [0, 1]);
    if (!('peers' in r)) throw new Error(r.unavailable);
    const names = Object.keys(r.peers).sort();
    expect(names).toEqual([
      'average-cosine.l2',
      'average-cosine.pre',
      'gmm-diag-pca64.l2',
      'gmm-diag-pca64.pre',
      'kmeans.l2',
      'kmeans.pre',
      'spectral.l2',
      'spectral.pre',
      'ward.l2',
      'ward.pre',
    ]);
    for (const [name, p] of Object.entries(r.peers)) expect([name, p.acc >= 0.95]).toEqual([name, true]);
    expect(r.peers['kmeans.l2']!.runs).toBe(2);
    expect(r.peers['ward.l2']!.runs).toBe(1);
  });

  it('without a Python that has scikit-learn, says so in one line', () => {
    process.env.CONSTELLATE_PYTHON = '/nonexistent/python';
    const r = scorePeers({ l2: { x: new Float32Array(8), d: 2 } }, 4, [0, 0, 1, 1], 2, [0]);
    expect(r).toEqual({
      unavailable: 'scikit-learn not found (no /nonexistent/python that imports sklearn; on Debian: apt-get install python3-sklearn)',
    });
  });
});
