/**
 * A second thread for a training run (trainWorker.ts): choosing K, or the 2-D map, neither of
 * which waits for the fit, run beside it on another core. Reads the embeddings from the
 * database with its own read-only connection, like the training worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initTf } from '../../embed/backend.js';
import { chooseKSource } from '../../icon/choosek.js';
import { tsneMapSource } from '../../icon/tsne.js';
import { openStore } from '../../store/index.js';
import type { HelperAnswer, HelperTask } from './trainProtocol.js';

const task = workerData as HelperTask;

async function run(): Promise<HelperAnswer> {
  await initTf();
  const store = openStore(task.source.file, { readonly: true, alreadyChecked: true });
  try {
    const src = store.embeddings.rowSource(task.source.model, task.source.imageIds);
    const t = performance.now();
    if (task.task === 'chooseK') {
      const r = chooseKSource(src, undefined, { seed: task.seed });
      return { task: 'chooseK', k: r.k, scores: r.scores, ms: performance.now() - t };
    }
    const xy = tsneMapSource(src, { seed: task.seed }).points;
    return { task: 'map', xy, ms: performance.now() - t };
  } finally {
    store.close();
  }
}

run().then(
  (a) => parentPort!.postMessage({ ok: a }, a.task === 'map' ? [a.xy.buffer as ArrayBuffer] : []),
  (err: unknown) => parentPort!.postMessage({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
);
