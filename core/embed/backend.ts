/**
 * Chooses the TensorFlow.js backend at run time, fastest first:
 * tfjs-node-gpu (CUDA) -> tfjs-node (native CPU) -> wasm (SIMD) -> cpu (pure JS).
 *
 * tfjs-node and tfjs-node-gpu are optionalDependencies: where their native library cannot be
 * installed (offline, unsupported platform) npm drops them and we fall through to wasm.
 * Each worker thread calls this once; tfjs keeps its backend in module state, so a process
 * (or worker) has exactly one active backend.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BACKEND_ORDER, nativeTfjsDevice, type BackendChoice } from './backendNames.js';

export type { BackendChoice } from './backendNames.js';
export { BACKEND_ORDER, deviceOf } from './backendNames.js';

export interface BackendInfo {
  /** Which package/backend won. */
  choice: BackendChoice;
  /** tfjs's own backend name ('tensorflow', 'wasm', 'cpu'). */
  tfBackend: string;
  /** The device, as the runtime reports it: shown in the UI and stored in run records. */
  device: string;
  /** True only where libtensorflow reports a GPU device (`isUsingGpuDevice`). */
  gpu: boolean;
  /** Why each faster option was passed over. */
  unavailable: Array<{ choice: BackendChoice; reason: string }>;
}

export type Tf = typeof tf;

const require = createRequire(import.meta.url);

/** Loads one backend or throws with the reason it is unavailable. Exported for tests. */
export type BackendLoader = (choice: BackendChoice) => Promise<{ tfBackend: string; device: string; gpu?: boolean }>;

export const defaultLoader: BackendLoader = async (choice) => {
  switch (choice) {
    case 'tfjs-node-gpu':
    case 'tfjs-node':
      return loadNativeBackend(choice);
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      // The default wasm location is a CDN: point it at the files shipped in node_modules.
      wasm.setWasmPaths(wasmDistDir() + '/');
      const ok = await tf.setBackend('wasm');
      if (!ok) throw new Error('the wasm backend failed to initialise');
      return { tfBackend: 'wasm', device: 'CPU (WebAssembly SIMD, 1 thread per worker)', gpu: false };
    }
    case 'cpu': {
      await tf.setBackend('cpu');
      return { tfBackend: 'cpu', device: 'CPU (plain JavaScript)', gpu: false };
    }
  }
};

/**
 * Loads a native backend and asks libtensorflow which device it found. The GPU package imports
 * fine without CUDA 11.2 / cuDNN 8.1 and then runs on the CPU (tensorflow#74459, tfjs#8269), so
 * the package name says nothing: `isUsingGpuDevice` (the binding's check of TensorFlow's device
 * list for a GPU) does. `importPackage` is for tests, which register a backend of their own.
 */
export async function loadNativeBackend(
  choice: 'tfjs-node-gpu' | 'tfjs-node',
  importPackage: (name: string) => Promise<unknown> = (name) => import(name),
): Promise<{ tfBackend: string; device: string; gpu: boolean }> {
  // Importing the package registers the native 'tensorflow' backend.
  await importPackage(`@tensorflow/${choice}`);
  const ok = await tf.setBackend('tensorflow');
  if (!ok) throw new Error('the tensorflow backend failed to initialise');
  const gpu = (tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice === true;
  return { tfBackend: 'tensorflow', device: nativeTfjsDevice(choice, gpu), gpu };
}

export function wasmDistDir(): string {
  return dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
}

let active: BackendInfo | undefined;
/** The initialisation in progress; each call waits for the one before it. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * Picks and activates the first backend that loads, in `tfjsOrder`: `CONSTELLATE_BACKEND` (one
 * of the choices) restricts the search to that one and the ones after it, e.g. `wasm` to skip
 * native libraries; `CONSTELLATE_ENGINE` naming a tfjs backend forces it.
 *
 * Calls run one at a time: of two overlapping first calls (the UI asking for two images'
 * suggestions at once), tfjs failed the second `setBackend('wasm')` while the first was
 * initialising, so that call fell through to the cpu backend and switched the process to it.
 */
export function initTf(
  options: { prefer?: readonly BackendChoice[]; loader?: BackendLoader } = {},
): Promise<{ tf: Tf; backend: BackendInfo }> {
  const next = queue.then(() => initTfNow(options));
  queue = next.catch(() => undefined);
  return next;
}

async function initTfNow(options: {
  prefer?: readonly BackendChoice[];
  loader?: BackendLoader;
}): Promise<{ tf: Tf; backend: BackendInfo }> {
  if (active && !options.loader && !options.prefer) return { tf, backend: active };
  const order = options.prefer ?? tfjsOrder(process.env);
  const loader = options.loader ?? defaultLoader;
  const unavailable: BackendInfo['unavailable'] = [];
  for (const choice of order) {
    try {
      const { tfBackend, device, gpu } = await loader(choice);
      const info: BackendInfo = { choice, tfBackend, device, gpu: gpu ?? false, unavailable };
      if (!options.loader) active = info;
      return { tf, backend: info };
    } catch (err) {
      unavailable.push({ choice, reason: shortReason(err) });
    }
  }
  throw new Error(`no TensorFlow.js backend could be loaded: ${unavailable.map((u) => `${u.choice}: ${u.reason}`).join('; ')}`);
}

/**
 * The tfjs backends to try: `CONSTELLATE_ENGINE` naming a tfjs backend (`--engine`) forces that
 * one; otherwise from `CONSTELLATE_BACKEND` on. ONNX Runtime is not a tfjs backend: pinned or
 * forced, it leaves the tfjs side (training, the head's inference) the whole chain.
 */
export function tfjsOrder(env: NodeJS.ProcessEnv): BackendChoice[] {
  const forced = env.CONSTELLATE_ENGINE;
  if (forced && forced !== 'onnx') {
    if (!BACKEND_ORDER.includes(forced as BackendChoice))
      throw new Error(`CONSTELLATE_ENGINE must be one of onnx, ${BACKEND_ORDER.join(', ')} (got "${forced}")`);
    return [forced as BackendChoice];
  }
  return orderFromEnv(env.CONSTELLATE_BACKEND);
}

export function orderFromEnv(value: string | undefined): BackendChoice[] {
  if (!value || value === 'onnx') return [...BACKEND_ORDER];
  const i = BACKEND_ORDER.indexOf(value as BackendChoice);
  if (i < 0) throw new Error(`CONSTELLATE_BACKEND must be one of ${BACKEND_ORDER.join(', ')} (got "${value}")`);
  return BACKEND_ORDER.slice(i);
}

export function shortReason(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') return 'not installed';
  return (e?.message ?? String(err)).split('\n')[0]!.slice(0, 200);
}
