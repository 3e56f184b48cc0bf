/**
 * The real backend selection, overlapping first calls (this file runs in its own fork, so
 * tfjs starts uninitialised, as in the app's main process).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initTf } from '../../core/embed/backend.js';

describe('initTf', () => {
  it('overlapping first calls all get the same backend, and the process stays on it', async () => {
    const [a, b, c] = await Promise.all([initTf(), initTf(), initTf()]);
    // Before the calls were queued, one of them fell through to 'cpu' and switched the process.
    expect(b.backend).toEqual(a.backend);
    expect(c.backend).toEqual(a.backend);
    expect(a.backend.choice).not.toBe('cpu');
    expect(tf.getBackend()).toBe(a.backend.tfBackend);
  });
});
