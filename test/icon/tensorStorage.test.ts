/**
 * ownStorage: the tensor's own memory on the backends that let JS address it (wasm, cpu), so
 * that a write through it is what the tensor then holds; null where it cannot be had.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownStorage } from '../../core/icon/tensorStorage.js';
import { setupTf } from './helpers.js';

beforeAll(setupTf);
afterAll(async () => {
  await tf.setBackend('wasm');
});

describe('ownStorage', () => {
  it.each(['wasm', 'cpu'])('on %s: a write through it is what the tensor holds', async (name) => {
    expect(await tf.setBackend(name)).toBe(true);
    const t = tf.matMul(tf.ones([3, 2]), tf.ones([2, 5]));
    const view = ownStorage(t)!;
    expect(view).toBeInstanceOf(Float32Array);
    expect(Array.from(view)).toEqual(new Array(15).fill(2));
    view[7] = -1;
    const after = tf.add(t, 0).dataSync();
    expect(after[7]).toBe(-1);
    expect(after[6]).toBe(2);
    const ints = tf.tensor1d([1, 2], 'int32');
    expect(ownStorage(ints)).toBeNull();
    tf.dispose([t, ints]);
    expect(ownStorage(t)).toBeNull(); // disposed
  });
});
