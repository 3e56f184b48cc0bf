/**
 * Starts a worker thread from a module URL, both from compiled JS (dist/, the app) and from
 * TypeScript sources (tests and `tsx` development runs). Node 20 workers do not inherit tsx's
 * loader, so for a .ts entry we boot the worker through a tiny data: module that registers
 * tsx first.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

export function startWorker(entry: URL, options: WorkerOptions = {}): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  // require.resolve gives the CJS build; the ESM build sits beside it.
  const tsxApi = pathToFileURL(require.resolve('tsx/esm/api').replace(/index\.cjs$/, 'index.mjs')).href;
  const boot = `import { register } from ${JSON.stringify(tsxApi)}; register(); await import(${JSON.stringify(entry.href)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), options);
}

/** The sibling module of `from` with the same extension (.ts in sources, .js in dist/). */
export function siblingModule(from: string, name: string): URL {
  const ext = from.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${name}${ext}`, from);
}

/**
 * How long a stop waits for a worker inside ONNX Runtime: a model load or run ends well within it
 * (a large model's session on a GPU provider takes seconds to tens of seconds to create).
 */
export const STOP_GRACE_MS = 60_000;

/**
 * Stops a worker that may be inside ONNX Runtime, and resolves once it has exited (true), or
 * once `graceMs` have passed without that (false). The worker is sent `{ type: 'stop' }`: it
 * finishes the call in progress, releases its session and exits. It is never terminated:
 * ending a thread inside an ONNX Runtime call (loading a model or running one), or exiting the
 * process while one runs, aborts the whole process (the binding throws a Napi::Error as the
 * thread's environment is torn down). Past the grace it is unref'd and left to end when its call
 * returns.
 */
export function stopWorkerGently(worker: Worker, graceMs = STOP_GRACE_MS): Promise<boolean> {
  // threadId is -1 once the thread has gone (its 'exit' event already fired)
  if (worker.threadId === -1) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      worker.unref();
      resolve(false);
    }, graceMs);
    timer.unref();
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
    worker.postMessage({ type: 'stop' });
  });
}
