/**
 * Embedding engines, fastest first: ONNX Runtime (with the best execution provider that loads:
 * CUDA, DirectML, CoreML, then the CPU with every core), then the TensorFlow.js chain
 * (tfjs-node-gpu, tfjs-node, wasm, cpu). Names, order and the user's choice only: loading
 * lives in the worker (core/embed/backbone.ts), so the main process and the HTTP server never
 * load an ML runtime by importing this.
 *
 * What the user sees as the device is what the runtime reports it is using (the execution
 * provider ONNX Runtime actually ran the graph's nodes on; tfjs's `isUsingGpuDevice`), never
 * the name of the package.
 */
import { BACKEND_ORDER, type BackendChoice } from './backendNames.js';

export type EngineChoice = 'onnx' | BackendChoice;
export const ENGINE_ORDER: readonly EngineChoice[] = ['onnx', ...BACKEND_ORDER];

export interface EngineInfo {
  /** The engine that runs the backbone. */
  choice: EngineChoice;
  /** What the runtime reports it is using, in words (the status bar, `--json`'s backend.device). */
  device: string;
  /** True only where the runtime reports a GPU (or CoreML) doing the work. */
  gpu: boolean;
  /** ONNX Runtime's execution provider that ran most nodes, or tfjs's backend name. */
  provider: string;
  /** Threads one forward pass uses. */
  threads: number;
  /**
   * Several workers help: the wasm and cpu backends run one thread each. ONNX Runtime and the
   * native tfjs backends use their own threads (or a GPU) from a single worker: a second one
   * would only compete (and loading libtensorflow twice fails, tfjs#8388; several ONNX Runtime
   * sessions in worker threads crash, onnxruntime#24486).
   */
  parallelWorkers: boolean;
  /**
   * 'int8': the augmented views run through an 8-bit copy of the model (ONNX Runtime on the
   * CPU, core/embed/onnx/quantize.ts); absent: through the model itself.
   */
  views?: 'int8';
  /** Why each faster engine was passed over. */
  unavailable: Array<{ choice: string; reason: string }>;
}

/** The engine names `--engine` and `CONSTELLATE_ENGINE` accept. */
export function parseEngine(value: string): EngineChoice {
  if ((ENGINE_ORDER as readonly string[]).includes(value)) return value as EngineChoice;
  throw new Error(`the engine must be one of ${ENGINE_ORDER.join(', ')} (got "${value}")`);
}

/**
 * The engines to try, in order. `CONSTELLATE_ENGINE` (set by `--engine`) forces exactly one:
 * benchmarks and bug reports want that engine or an error, not a quiet fallback.
 * `CONSTELLATE_BACKEND` (the desktop app pins its start-up probe's result there) starts the
 * search from that engine.
 */
export function engineOrder(env: NodeJS.ProcessEnv = process.env): EngineChoice[] {
  if (env.CONSTELLATE_ENGINE) return [parseEngine(env.CONSTELLATE_ENGINE)];
  if (!env.CONSTELLATE_BACKEND) return [...ENGINE_ORDER];
  const i = ENGINE_ORDER.indexOf(env.CONSTELLATE_BACKEND as EngineChoice);
  if (i < 0) throw new Error(`CONSTELLATE_BACKEND must be one of ${ENGINE_ORDER.join(', ')} (got "${env.CONSTELLATE_BACKEND}")`);
  return ENGINE_ORDER.slice(i);
}

/** One line for logs and bug reports: the engine, the device, and why faster ones were passed over. */
export function describeEngine(info: Pick<EngineInfo, 'choice' | 'device' | 'unavailable'>): string {
  const skipped = info.unavailable.map((u) => `${u.choice}: ${u.reason}`).join('; ');
  return `embedding engine: ${info.choice} (${info.device})${skipped ? `; passed over ${skipped}` : ''}`;
}

/** The short tag stored with each embedding: which engine, on which provider, made it. */
export function engineTag(info: Pick<EngineInfo, 'choice' | 'provider' | 'gpu'>): string {
  if (info.choice === 'onnx') return `onnx/${info.provider}`;
  if (info.choice === 'tfjs-node-gpu') return `tfjs-node-gpu/${info.gpu ? 'gpu' : 'cpu'}`;
  return info.choice;
}

/** The tag stored with the augmented views' embeddings: the engine's, marked where they ran in 8 bits. */
export function viewsEngineTag(info: Pick<EngineInfo, 'choice' | 'provider' | 'gpu' | 'views'>): string {
  return info.views === 'int8' ? `${engineTag(info)}+int8` : engineTag(info);
}
