/**
 * The backbone's files: MobileNetV2 x1.4 (ImageNet) as shipped by the MIT-licensed `nsfwjs`
 * package (its `mobilenet_v2_mid` graph model, weights quantized to uint8, base64 in .min.js
 * files). Read without loading TensorFlow.js, so the ONNX engine's worker can convert them.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';

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
