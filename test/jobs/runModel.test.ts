import { describe, expect, it } from 'vitest';
import { decodeRunModel, encodeRunModel, type RunArtifacts } from '../../core/jobs/grouping/runModel.js';

describe('run model blob', () => {
  it('round-trips the head with PCA, the map and the kNN graph through an unaligned buffer', () => {
    const art: RunArtifacts = {
      head: {
        preprocessor: {
          options: { l2normalize: true, pcaDims: 2, renormalize: true, seed: 3 },
          pca: {
            d: 3,
            r: 2,
            mean: Float32Array.of(1, 2, 3),
            components: Float32Array.of(1, 0, 0, 1, 0, 0),
            variances: Float32Array.of(2, 1),
          },
          dIn: 3,
          dOut: 2,
        },
        weights: Float32Array.of(0.5, -0.5, 1, 2),
        bias: Float32Array.of(0.1, 0.2),
        shape: [2, 2],
      },
      imageIds: Uint32Array.of(7, 9, 11),
      map: Float32Array.of(0, 1, 2, 3, 4, 5),
      graph: { n: 3, k: 1, indices: Int32Array.of(1, 0, 1), sims: Float32Array.of(0.9, 0.9, 0.8) },
    };
    const enc = encodeRunModel(art);
    // SQLite hands BLOBs back as Buffers that may sit at any offset of a larger allocation.
    const padded = Buffer.alloc(enc.data.length + 3);
    enc.data.forEach((b, i) => (padded[i + 3] = b));
    const dec = decodeRunModel({
      format: enc.format,
      meta: JSON.parse(JSON.stringify(enc.meta)) as Record<string, unknown>,
      data: padded.subarray(3),
    });
    expect(dec).toEqual(art);
  });

  it('refuses an unknown format', () => {
    expect(() => decodeRunModel({ format: 'other/9', meta: {}, data: new Uint8Array() })).toThrow(/unknown run model format/);
  });
});
