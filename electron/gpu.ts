/**
 * Engine selection for the desktop app. The main process decides once, at start-up, which
 * embedding engine the job workers use: ONNX Runtime with its best provider, else tfjs-node-gpu,
 * tfjs-node, wasm, cpu (see core/embed/engine.ts). The probe itself runs in a short-lived worker
 * thread, so no ML runtime (nor CUDA) loads on the main thread. The choice goes into
 * `CONSTELLATE_BACKEND`, which the job workers inherit, so they start from the engine that
 * worked instead of retrying the ones that did not.
 */
import type { Worker } from 'node:worker_threads';
import { describeEngine, type EngineInfo } from '../core/embed/engine.js';
import { siblingModule, startWorker } from '../core/runtime/workers.js';

export type ProbedEngine = Pick<EngineInfo, 'choice' | 'device' | 'unavailable'>;
export type BackendProbe = () => Promise<ProbedEngine>;

/** Runs `backendProbe` in a worker thread and resolves with its choice. */
export function probeBackendInWorker(options: { timeoutMs?: number; start?: () => Worker } = {}): Promise<ProbedEngine> {
  const start = options.start ?? (() => startWorker(siblingModule(import.meta.url, 'backendProbe')));
  const timeoutMs = options.timeoutMs ?? 120_000;
  return new Promise<ProbedEngine>((resolvePromise, reject) => {
    const worker = start();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      // Still inside a runtime's start (ONNX Runtime aborts the process if its thread is ended
      // mid-call): left to finish on its own, unable to keep the app alive.
      worker.unref();
      finish(new Error(`the backend probe did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    let settled = false;
    const finish = (err: Error | null, info?: ProbedEngine) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // it answered after releasing its session, or it exited: nothing of ONNX Runtime runs in it
      if (!timedOut) void worker.terminate();
      if (err) reject(err);
      else resolvePromise(info!);
    };
    worker.once('message', (msg: { ok: true; backend: ProbedEngine } | { ok: false; message: string }) => {
      if (msg.ok) finish(null, msg.backend);
      else finish(new Error(msg.message));
    });
    worker.once('error', (err) => finish(err));
    worker.once('exit', (code) => finish(new Error(`the backend probe exited with code ${code}`)));
  });
}

/** One line for the log: the engine, the device, and why faster options were passed over. */
export function describeBackend(info: Pick<EngineInfo, 'choice' | 'device' | 'unavailable'>): string {
  return describeEngine(info);
}

/**
 * Picks the backend and pins it for the job workers. Returns null (and leaves the workers to
 * choose for themselves) if the probe fails.
 */
export async function selectBackend(
  options: { probe?: BackendProbe; env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {},
): Promise<ProbedEngine | null> {
  const probe = options.probe ?? (() => probeBackendInWorker());
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.log(`constellate: ${line}`));
  try {
    const info = await probe();
    env.CONSTELLATE_BACKEND = info.choice;
    log(describeBackend(info));
    return info;
  } catch (err) {
    log(`could not probe the embedding engine (${(err as Error).message}); the workers will choose`);
    return null;
  }
}
