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
