import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { debias, debiasedLog } from '../../core/icon/debias.js';
import { clusterIconLoss, iconLoss, meanEntropy, meanKl } from '../../core/icon/loss.js';
import { clusterKernel, rowNormalize } from '../../core/icon/kernels.js';
import { Rng } from '../../core/icon/rng.js';
import { setupTf } from './helpers.js';

beforeAll(setupTf);

const val = (t: tf.Tensor): number => t.dataSync()[0]!;

describe('debiasing in probability space', () => {
  it('(1-a) K + a/N, then log', () => {
    const q = tf.tensor2d([
      [1, 0],
      [0.25, 0.75],
    ]);
    const d = debias(q, 0.5).arraySync();
    expect(d[0]![0]).toBeCloseTo(0.75, 6);
    expect(d[0]![1]).toBeCloseTo(0.25, 6);
    const lq = debiasedLog(q, 0.5);
    const e = tf.exp(lq).arraySync();
    // exp of the debiased log is a distribution; log-space mixing
    // (1-a) log q + a log(1/N) would give exp = [1^0.5 * 0.5^0.5, 0] = [0.707, 0] (not normalised)
    expect(e[0]![0]! + e[0]![1]!).toBeCloseTo(1, 6);
    expect(e[0]![0]).toBeCloseTo(0.75, 5);
    expect(e[0]![0]).not.toBeCloseTo(Math.sqrt(0.5), 2);
    expect(e[1]![0]).toBeCloseTo(0.5 * 0.25 + 0.25, 5);
    tf.dispose([q, lq]);
  });
});

describe('I-Con loss', () => {
  it('equals mean KL(p||q) + mean H(p) (KL up to a constant for fixed p)', () => {
    const rng = new Rng(4);
    const p = tf.tidy(() => rowNormalize(tf.relu(tf.tensor2d(rng.normalArray(64), [8, 8])) as tf.Tensor2D));
    const q1 = tf.tidy(() => tf.softmax(tf.tensor2d(rng.normalArray(64), [8, 8])) as tf.Tensor2D);
    const q2 = tf.tidy(() => tf.softmax(tf.tensor2d(rng.normalArray(64), [8, 8])) as tf.Tensor2D);
    const l1 = val(iconLoss(p, tf.log(q1) as tf.Tensor2D, 8));
    const l2 = val(iconLoss(p, tf.log(q2) as tf.Tensor2D, 8));
    const h = val(meanEntropy(p));
    expect(l1).toBeCloseTo(val(meanKl(p, q1)) + h, 5);
    expect(l1 - l2).toBeCloseTo(val(meanKl(p, q1)) - val(meanKl(p, q2)), 5);
    // hand case: p = [0.5, 0.5, 0], q = [0.25, 0.25, 0.5] -> -(0.5 ln .25 + 0.5 ln .25) = ln 4
    const ph = tf.tensor2d([[0.5, 0.5, 0]]);
    const qh = tf.tensor2d([[0.25, 0.25, 0.5]]);
    expect(val(iconLoss(ph, tf.log(qh) as tf.Tensor2D, 1))).toBeCloseTo(Math.log(4), 6);
    expect(val(meanKl(ph, qh))).toBeCloseTo(Math.log(2), 6);
    tf.dispose([p, q1, q2, ph, qh]);
  });

  it('skips p = 0 entries even where log q = -inf', () => {
    const p = tf.tensor2d([[1, 0]]);
    const lq = tf.tensor2d([[Math.log(0.5), -Infinity]]);
    expect(val(iconLoss(p, lq, 1))).toBeCloseTo(Math.log(2), 6);
    tf.dispose([p, lq]);
  });

  it('fused cluster loss has the value and gradient of the composed kernels', () => {
    const rng = new Rng(8);
    const B = 40;
    const A = 12;
    const logits = tf.tensor2d(rng.normalArray(B * 5, 2), [B, 5]);
    const p = tf.tidy(() => rowNormalize(tf.relu(tf.tensor2d(rng.normalArray(A * B), [A, B])) as tf.Tensor2D));
    const composed = (l: tf.Tensor): tf.Scalar => {
      const phi = tf.softmax(l) as tf.Tensor2D;
      const q = clusterKernel(phi).slice([0, 0], [A, B]) as tf.Tensor2D; // rows = anchors (first A)
      return iconLoss(p, debiasedLog(q, 0.7), A);
    };
    const fused = (l: tf.Tensor): tf.Scalar => {
      const phi = tf.softmax(l) as tf.Tensor2D;
      return clusterIconLoss(phi.slice([0, 0], [A, 5]), phi, p, 0.7, A);
    };
    const a = tf.valueAndGrad(composed)(logits);
    const b = tf.valueAndGrad(fused)(logits);
    expect(val(b.value)).toBeCloseTo(val(a.value), 5);
    const ga = a.grad.dataSync();
    const gb = b.grad.dataSync();
    const scale = Math.max(...Array.from(ga).map(Math.abs));
    for (let i = 0; i < ga.length; i++) expect(Math.abs(ga[i]! - gb[i]!)).toBeLessThan(1e-4 * scale + 1e-7);
    tf.dispose([logits, p, a.value, a.grad, b.value, b.grad]);
  });

  it('fused cluster loss: a cluster of exactly zero mass in the batch gives no NaN (epsilon), in value and gradient', () => {
    // the loss the trainer runs, on hard assignments with cluster 2 empty: its mass is exactly 0
    const phi = tf.tensor2d([
      [1, 0, 0],
      [1, 0, 0],
      [0, 1, 0],
      [0, 1, 0],
    ]);
    const p = tf.tensor2d([
      [0, 1, 0, 0],
      [1, 0, 0, 0],
      [0, 0, 0, 1],
      [0, 0, 1, 0],
    ]);
    const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) =>
      clusterIconLoss(a as tf.Tensor2D, b as tf.Tensor2D, p, 0.5, 4),
    )([phi, phi]);
    expect(Number.isFinite(val(value))).toBe(true);
    for (const g of grads) expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([phi, p, value, ...grads]);
  });

  it('the uniform + sparse form of a debiased p gives the dense value and gradient', () => {
    const rng = new Rng(9);
    const B = 600; // long rows: the running product of q is folded into the log-sum
    const A = 7;
    const a = 0.6;
    const logits = tf.tensor2d(rng.normalArray(B * 4, 3), [B, 4]);
    // sparse kNN-like part: 3 columns per row (row 5 unsupervised), then debiased
    const uniform = new Float32Array(A);
    const rowPtr = new Int32Array(A + 1);
    const colIdx: number[] = [];
    const vals: number[] = [];
    const dense = new Float32Array(A * B);
    for (let i = 0; i < A; i++) {
      if (i !== 5) {
        uniform[i] = a / B;
        for (let j = 0; j < B; j++) dense[i * B + j] = a / B;
        for (let t = 0; t < 3; t++) {
          const j = (i * 37 + t * 101) % B;
          colIdx.push(j);
          vals.push((1 - a) / 3);
          dense[i * B + j] = dense[i * B + j]! + (1 - a) / 3;
        }
      }
      rowPtr[i + 1] = colIdx.length;
    }
    const ker = { rows: A, cols: B, uniform, rowPtr, colIdx: Int32Array.from(colIdx), vals: Float32Array.from(vals) };
    const run = (pp: Float32Array | typeof ker) =>
      tf.valueAndGrad((l: tf.Tensor): tf.Scalar => {
        const phi = tf.softmax(l) as tf.Tensor2D;
        return clusterIconLoss(phi.slice([0, 0], [A, 4]), phi, pp, 0.7, 6);
      })(logits);
    const d = run(dense);
    const k = run(ker);
    expect(val(k.value)).toBeCloseTo(val(d.value), 4);
    expect(Number.isFinite(val(k.value))).toBe(true);
    const gd = d.grad.dataSync();
    const gk = k.grad.dataSync();
    const scale = Math.max(...Array.from(gd).map(Math.abs));
    expect(scale).toBeGreaterThan(0);
    for (let i = 0; i < gd.length; i++) expect(Math.abs(gd[i]! - gk[i]!)).toBeLessThan(1e-4 * scale);
    tf.dispose([logits, d.value, d.grad, k.value, k.grad]);
  });
});
