/**
 * GPU selection for the desktop app. The main process decides once, at start-up, which
 * TensorFlow.js backend the job workers use: `@tensorflow/tfjs-node-gpu` when it is installed and
 * loads (CUDA), else `@tensorflow/tfjs-node`, else wasm, else cpu (see core/embed/backend.ts).
 * The probe itself runs in a short-lived worker thread, so libtensorflow/CUDA never load into
 * the main process. The choice goes into `CONSTELLATE_BACKEND`, which the job workers inherit,
 * so they start from the backend that worked instead of retrying the ones that did not.
 */
import type { Worker } from 'node:worker_threads';
import type { BackendInfo } from '../core/embed/backend.js';
import { siblingModule, startWorker } from '../core/runtime/workers.js';

export type BackendProbe = () => Promise<BackendInfo>;

/** Runs `backendProbe` in a worker thread and resolves with its choice. */
export function probeBackendInWorker(options: { timeoutMs?: number; start?: () => Worker } = {}): Promise<BackendInfo> {
  const start = options.start ?? (() => startWorker(siblingModule(import.meta.url, 'backendProbe')));
  const timeoutMs = options.timeoutMs ?? 120_000;
  return new Promise<BackendInfo>((resolvePromise, reject) => {
    const worker = start();
    const timer = setTimeout(() => finish(new Error(`the backend probe did not answer within ${timeoutMs} ms`)), timeoutMs);
    let settled = false;
    const finish = (err: Error | null, info?: BackendInfo) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      if (err) reject(err);
      else resolvePromise(info!);
    };
    worker.once('message', (msg: { ok: true; backend: BackendInfo } | { ok: false; message: string }) => {
      if (msg.ok) finish(null, msg.backend);
      else finish(new Error(msg.message));
    });
    worker.once('error', (err) => finish(err));
    worker.once('exit', (code) => finish(new Error(`the backend probe exited with code ${code}`)));
  });
}

/** One line for the log: the choice, the device, and why faster options were passed over. */
export function describeBackend(info: BackendInfo): string {
  const skipped = info.unavailable.map((u) => `${u.choice}: ${u.reason}`).join('; ');
  return `TensorFlow.js backend: ${info.choice} (${info.device})${skipped ? `; passed over ${skipped}` : ''}`;
}

/**
 * Picks the backend and pins it for the job workers. Returns null (and leaves the workers to
 * choose for themselves) if the probe fails.
 */
export async function selectBackend(
  options: { probe?: BackendProbe; env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {},
): Promise<BackendInfo | null> {
  const probe = options.probe ?? (() => probeBackendInWorker());
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.log(`constellate: ${line}`));
  try {
    const info = await probe();
    env.CONSTELLATE_BACKEND = info.choice;
    log(describeBackend(info));
    return info;
  } catch (err) {
    log(`could not probe the TensorFlow.js backend (${(err as Error).message}); the workers will choose`);
    return null;
  }
}
