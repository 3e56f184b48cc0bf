/**
 * The image backbone: MobileNetV2 x1.4 (ImageNet), as shipped by the MIT-licensed `nsfwjs`
 * package (its `mobilenet_v2_mid` graph model, weights quantized to uint8, base64 in .min.js
 * files). We read its 1792-d global-pooled feature vector, not its NSFW head.
 *
 * tfjs-models style: `await loadBackbone()` then plain `embed()` calls.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { initTf, type BackendInfo } from './backend.js';
import { BACKBONE } from './backboneInfo.js';

export { BACKBONE };


const require = createRequire(import.meta.url);

/** The model files are not in nsfwjs's `exports`, so locate the package and read them by path. */
export function backboneModelDir(): string {
  const entry = require.resolve('nsfwjs'); // <pkg>/dist/cjs/index.js
  return join(dirname(dirname(dirname(entry))), 'dist', 'models', 'mobilenet_v2_mid');
}

interface ModelJson {
  modelTopology: unknown;
  weightsManifest: Array<{ paths: string[]; weights: tfTypes.io.WeightsManifestEntry[] }>;
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
}

/** Reads the model topology and the weight shards from the nsfwjs package. */
export function readBackboneArtifacts(): tfTypes.io.ModelArtifacts {
  const dir = backboneModelDir();
  const model = require(join(dir, 'model.min.js')) as ModelJson;
  const manifest = model.weightsManifest[0];
  if (!manifest) throw new Error('backbone model has no weights manifest');
  const shards = manifest.paths.map((p) => Buffer.from(require(join(dir, `${p}.min.js`)) as string, 'base64'));
  const weights = Buffer.concat(shards);
  return {
    modelTopology: model.modelTopology as object,
    weightSpecs: manifest.weights,
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    format: model.format,
    generatedBy: model.generatedBy,
    convertedBy: model.convertedBy,
  };
}

export interface Backbone {
  readonly id: string;
  readonly dim: number;
  readonly inputSize: number;
  readonly backend: BackendInfo;
  /**
   * Embeds `count` images given as one HWC float array (count x 224 x 224 x 3, RGB in [0,1]).
   * Returns count x dim features, row-major.
   */
  embed(pixels: Float32Array, count: number): Float32Array;
  dispose(): void;
}

export async function loadBackbone(): Promise<Backbone> {
  const { tf, backend } = await initTf();
  const model = await tf.loadGraphModel(tf.io.fromMemory(readBackboneArtifacts()));
  const size = BACKBONE.inputSize;
  return {
    id: BACKBONE.id,
    dim: BACKBONE.dim,
    inputSize: size,
    backend,
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
