/** Runs I-Con training (and the map) in a worker thread, forwarding its progress. */
import type { ProgressTracker } from '../../runtime/progress.js';
import type { FromTrainWorker, TrainRequest, TrainResult } from './trainProtocol.js';
import { siblingModule, startWorker } from '../../runtime/workers.js';

export function trainInWorker(
  request: TrainRequest,
  progress: ProgressTracker | null,
  signal?: AbortSignal,
): Promise<{ result: TrainResult; backend: { choice: string; device: string } }> {
  return new Promise((resolve, reject) => {
    // The features are copied into the worker (not transferred): the caller keeps its matrix.
    const worker = startWorker(siblingModule(import.meta.url, 'trainWorker'), { workerData: request });
    let phase: 'train' | 'map' | null = null;
    const onAbort = () => {
      void worker.terminate();
      reject(new DOMException('cancelled', 'AbortError'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: FromTrainWorker) => {
      if (m.type === 'progress') {
        if (!progress) return;
        if (m.phase !== phase) {
          phase = m.phase;
          progress.start(m.phase, m.total);
        }
        const now = progress.snapshot().find((p) => p.name === m.phase);
        // the first epoch's total, for the 'train' phase started (and timed) when the worker was
        if (now?.total !== m.total) progress.setTotal(m.total);
        progress.advance(m.done - (now?.done ?? 0));
      } else if (m.type === 'done') {
        progress?.finish();
        signal?.removeEventListener('abort', onAbort);
        void worker.terminate();
        resolve({ result: m.result, backend: m.backend });
      } else {
        signal?.removeEventListener('abort', onAbort);
        void worker.terminate();
        reject(new Error(`training failed: ${m.message}`));
      }
    });
    worker.on('error', (err) => reject(err));
    worker.on('exit', (code) => {
      if (code !== 0) reject(new Error(`training worker exited with code ${code}`));
    });
    // Training is timed from here: K, the PCA, the graph and the start come before the first epoch.
    phase = 'train';
    progress?.start('train', null);
  });
}
