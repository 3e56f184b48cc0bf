/**
 * The image backbone: MobileNetV2 x1.4 (ImageNet), as shipped by the MIT-licensed `nsfwjs`
 * package (its `mobilenet_v2_mid` graph model, weights quantized to uint8, base64 in .min.js
 * files). We read its 1792-d global-pooled feature vector, not its NSFW head.
 *
 * The TensorFlow.js engine (core/embed/backbone.ts chooses among engines).
 */
import { availableParallelism } from 'node:os';
import type * as tfTypes from '@tensorflow/tfjs';
import { initTf, type BackendChoice, type BackendInfo } from './backend.js';
import type { Backbone } from './backbone.js';
import type { EngineInfo } from './engine.js';
import { BACKBONE } from './backboneInfo.js';
import { readBackboneArtifacts } from './backboneFiles.js';

export { BACKBONE };
export { backboneModelDir, readBackboneArtifacts } from './backboneFiles.js';

/** The backbone on the first of `prefer` that loads (default: the tfjs chain from the environment). */
export async function loadTfjsBackbone(prefer?: readonly BackendChoice[]): Promise<Backbone> {
  const { tf, backend } = await initTf(prefer ? { prefer } : {});
  const model = await tf.loadGraphModel(tf.io.fromMemory(readBackboneArtifacts()));
  const size = BACKBONE.inputSize;
  return {
    id: BACKBONE.id,
    dim: BACKBONE.dim,
    inputSize: size,
    engine: engineInfoOf(backend),
    embed(pixels, count) {
      if (pixels.length !== count * size * size * 3) {
        throw new Error(`expected ${count}x${size}x${size}x3 pixels, got ${pixels.length} values`);
      }
      const out = tf.tidy(() => {
        const input = tf.tensor4d(pixels, [count, size, size, 3]);
        return model.execute(input, BACKBONE.outputNode) as tfTypes.Tensor;
      });
      const data = out.dataSync() as Float32Array;
      out.dispose();
      return data;
    },
    dispose() {
      model.dispose();
    },
  };
}

/** A tfjs backend as an embedding engine: the wasm and cpu backends run one thread per worker. */
export function engineInfoOf(b: BackendInfo): EngineInfo {
  const parallel = b.choice === 'wasm' || b.choice === 'cpu';
  return {
    choice: b.choice,
    device: b.device,
    gpu: b.gpu,
    provider: b.tfBackend,
    threads: parallel ? 1 : availableParallelism(),
    parallelWorkers: parallel,
    unavailable: [...b.unavailable],
  };
}
