/**
 * stopWorkerGently: a worker that may be inside ONNX Runtime is asked to stop and waited for,
 * never terminated (that aborts the process mid-call: test/api/quit.test.ts).
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { stopWorkerGently } from '../../core/runtime/workers.js';

/** A worker that exits `busyMs` after it is told to stop, as one finishing an ONNX Runtime call would. */
const worker = (busyMs: number) =>
  new Worker(
    `const { parentPort } = require('node:worker_threads');
     parentPort.on('message', (m) => { if (m.type === 'stop') setTimeout(() => process.exit(0), ${busyMs}); });`,
    { eval: true },
  );

describe('stopWorkerGently', () => {
  it('resolves once the worker has exited on its own', async () => {
    const w = worker(150);
    await new Promise((r) => w.once('online', r));
    const t = performance.now();
    await expect(stopWorkerGently(w, 10_000)).resolves.toBe(true);
    expect(performance.now() - t).toBeGreaterThanOrEqual(140);
    expect(w.threadId).toBe(-1);
  });

  it('past the grace it stops waiting and leaves the worker to end by itself, never terminated', async () => {
    const w = worker(1500);
    await new Promise((r) => w.once('online', r));
    let exited = false;
    w.once('exit', () => (exited = true));
    await expect(stopWorkerGently(w, 100)).resolves.toBe(false);
    expect(exited).toBe(false); // not terminated
    expect(w.threadId).toBeGreaterThan(0);
    await new Promise((r) => w.once('exit', r)); // it ends by itself
  });

  it('resolves at once for a worker already gone', async () => {
    const w = worker(0);
    await new Promise((r) => w.once('online', r));
    await w.terminate();
    await expect(stopWorkerGently(w, 10_000)).resolves.toBe(true);
  });
});
