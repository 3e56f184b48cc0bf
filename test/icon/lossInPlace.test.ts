/**
 * The fused I-Con loss writes its gradient over q where JS can address the tensor's storage
 * (tensorStorage.ts). That path gives the copying path's value and gradient to the bit, and reads
 * no [anchors x batch] matrix out of the wasm backend.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { clusterIconLoss, type BatchKernel } from '../../core/icon/loss.js';
import { Rng } from '../../core/icon/rng.js';
import type * as TensorStorage from '../../core/icon/tensorStorage.js';
import { setupTf } from './helpers.js';

// ownStorage as it is, or null (the copying path of tfjs-node and WebGL) while `copy` is set
const mode = vi.hoisted(() => ({ copy: false }));
vi.mock('../../core/icon/tensorStorage.js', async (importOriginal) => {
  const real = await importOriginal<typeof TensorStorage>();
  return { ownStorage: (t: tf.Tensor) => (mode.copy ? null : real.ownStorage(t)) };
});

beforeAll(setupTf);
afterEach(() => {
  mode.copy = false;
  vi.restoreAllMocks();
});

/** A debiased kNN-like p: uniform + 6 entries a row, every fifth row unsupervised. */
function sparseP(A: number, B: number, rng: Rng): BatchKernel {
  const uniform = new Float32Array(A);
  const rowPtr = new Int32Array(A + 1);
  const colIdx: number[] = [];
  for (let i = 0; i < A; i++) {
    if (i % 5 !== 3) {
      uniform[i] = 0.3 / B;
      const cols = new Set<number>();
      while (cols.size < 6) cols.add(rng.int(B));
      colIdx.push(...cols);
    }
    rowPtr[i + 1] = colIdx.length;
  }
  return { rows: A, cols: B, uniform, rowPtr, colIdx: Int32Array.from(colIdx), vals: new Float32Array(colIdx.length).fill(0.7 / 6) };
}

/** A dense p with no uniform part (every positive entry listed), some rows empty. */
function denseP(A: number, B: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: A * B }, (_, e) => (Math.floor(e / B) % 4 === 1 || rng.next() > 0.2 ? 0 : rng.next()));
}

function valueAndGrad(logits: tf.Tensor2D, A: number, p: BatchKernel | Float32Array, upstream: number) {
  const C = logits.shape[1];
  const r = tf.valueAndGrad((l: tf.Tensor): tf.Scalar => {
    const phi = tf.softmax(l) as tf.Tensor2D;
    return tf.mul(clusterIconLoss(phi.slice([0, 0], [A, C]), phi, p, 0.6, A), upstream) as tf.Scalar;
  })(logits);
  const out = { value: r.value.dataSync()[0]!, grad: Float32Array.from(r.grad.dataSync()) };
  tf.dispose([r.value, r.grad]);
  return out;
}

describe('the fused loss in place', () => {
  it.each([
    ['sparse', 1],
    ['sparse', 2.5],
    ['dense', 1],
    ['dense', 2.5],
  ] as const)('gives the copying path value and gradient to the bit (%s p, upstream %d)', (kind, upstream) => {
    const rng = new Rng(kind === 'sparse' ? 3 : 4);
    const A = 60;
    const B = 700; // long rows: the running product is folded into the log-sum
    const logits = tf.tensor2d(rng.normalArray(B * 6, 2), [B, 6]);
    const p = kind === 'sparse' ? sparseP(A, B, rng) : denseP(A, B, rng);
    const inPlace = valueAndGrad(logits, A, p, upstream);
    mode.copy = true;
    const copied = valueAndGrad(logits, A, p, upstream);
    expect(Number.isFinite(inPlace.value)).toBe(true);
    expect(inPlace.value).toBe(copied.value);
    expect(inPlace.grad).toEqual(copied.grad);
    expect(inPlace.grad.some((g) => g !== 0)).toBe(true);
    logits.dispose();
  });

  it('reads no [anchors x batch] matrix out of the wasm backend, and leaks no tensor', () => {
    expect(tf.getBackend()).toBe('wasm');
    const rng = new Rng(5);
    const A = 50;
    const B = 400;
    const logits = tf.tensor2d(rng.normalArray(B * 4, 2), [B, 4]);
    const p = sparseP(A, B, rng);
    const before = tf.memory().numTensors;
    const backend = tf.backend();
    const read = backend.readSync.bind(backend);
    const sizes: number[] = [];
    const reads = vi.spyOn(backend, 'readSync').mockImplementation((dataId, ...rest) => {
      const values = read(dataId, ...rest);
      sizes.push(values.length);
      return values;
    });
    const big = () => sizes.filter((n) => n === A * B).length;
    valueAndGrad(logits, A, p, 1);
    expect(reads).toHaveBeenCalled();
    expect(big()).toBe(0);
    mode.copy = true;
    valueAndGrad(logits, A, p, 1);
    expect(big()).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
    logits.dispose();
  });
});
