/**
 * The image backbone on the fastest engine that loads (see core/embed/engine.ts): ONNX Runtime
 * first, then the TensorFlow.js chain. Each engine's module is imported only when it is tried,
 * so a worker running ONNX Runtime never loads TensorFlow.js, and the reverse.
 *
 * tfjs-models style: `await loadBackbone()` then plain `embed()` calls.
 */
import { BACKBONE } from './backboneInfo.js';
import { engineOrder, type EngineChoice, type EngineInfo } from './engine.js';
import type { BackendChoice } from './backendNames.js';

export interface Backbone {
  readonly id: string;
  readonly dim: number;
  readonly inputSize: number;
  readonly engine: EngineInfo;
  /**
   * Embeds `count` images given as one HWC float array (count x 224 x 224 x 3, RGB in [0,1]).
   * Returns count x dim features, row-major. tfjs answers synchronously, ONNX Runtime with a promise.
   */
  embed(pixels: Float32Array, count: number): Float32Array | Promise<Float32Array>;
  /** The augmented views, where they run through another model than `embed` (EngineInfo.views). */
  embedViews?(pixels: Float32Array, count: number): Promise<Float32Array>;
  /** Frees the model; ONNX Runtime's session is released when the promise settles. */
  dispose(): void | Promise<void>;
}

export interface LoadBackboneOptions {
  /** Engines to try, in order (default: `engineOrder()`, from the environment). */
  order?: readonly EngineChoice[];
}

export async function loadBackbone(options: LoadBackboneOptions = {}): Promise<Backbone> {
  const order = options.order ?? engineOrder();
  const unavailable: EngineInfo['unavailable'] = [];
  if (order.includes('onnx')) {
    try {
      const { loadOrtBackbone } = await import('./onnx/ortBackbone.js');
      const { backboneOnnxInt8 } = await import('./onnx/backboneModel.js');
      const ort = await loadOrtBackbone({ inputSize: BACKBONE.inputSize, viewModel: () => backboneOnnxInt8().source });
      return {
        id: BACKBONE.id,
        dim: BACKBONE.dim,
        inputSize: BACKBONE.inputSize,
        engine: ort.engine,
        embed: (pixels, count) => ort.embed(pixels, count),
        ...(ort.embedViews ? { embedViews: ort.embedViews } : {}),
        dispose: () => ort.dispose(),
      };
    } catch (err) {
      const passed = (err as { unavailable?: EngineInfo['unavailable'] }).unavailable;
      if (passed) unavailable.push(...passed);
      else unavailable.push({ choice: 'onnx', reason: reason(err) });
    }
  }
  const tfjs = order.filter((c): c is BackendChoice => c !== 'onnx');
  if (tfjs.length === 0)
    throw new Error(`no embedding engine could be loaded: ${unavailable.map((u) => `${u.choice}: ${u.reason}`).join('; ')}`);
  const { loadTfjsBackbone } = await import('./mobilenet.js');
  try {
    const bb = await loadTfjsBackbone(tfjs);
    return {
      ...bb,
      embed: bb.embed,
      dispose: bb.dispose,
      engine: { ...bb.engine, unavailable: [...unavailable, ...bb.engine.unavailable] },
    };
  } catch (err) {
    throw new Error(
      `no embedding engine could be loaded: ${[...unavailable.map((u) => `${u.choice}: ${u.reason}`), (err as Error).message].join('; ')}`,
    );
  }
}

function reason(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') return 'not installed';
  return (e?.message ?? String(err)).split('\n')[0]!.slice(0, 200);
}
