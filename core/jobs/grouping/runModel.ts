/**
 * What a run keeps besides its assignments, in the store's one model blob per run: the trained
 * I-Con head (with its preprocessing: L2 + PCA), so new images are assigned without
 * retraining, and the 2-D map coordinates. Typed arrays are concatenated in one buffer; the
 * JSON meta holds the scalars and where each array lives.
 */
import type { HeadExport } from '../../icon/clustering.js';
import type { KnnGraph } from '../../icon/knn.js';

export const RUN_MODEL_FORMAT = 'constellate-run/1';

type Arr = Float32Array | Uint32Array;
type Layout = Record<string, { type: 'f32' | 'u32'; offset: number; length: number }>;

export interface RunArtifacts {
  head: HeadExport;
  /** Rows in `imageIds` order: the 2-D map, and the kNN graph (reused when re-clustering the same images). */
  imageIds: Uint32Array;
  map: Float32Array | null;
  graph: KnnGraph | null;
}

export function encodeRunModel(a: RunArtifacts): { format: string; meta: Record<string, unknown>; data: Uint8Array } {
  const arrays: Record<string, Arr> = { weights: a.head.weights, bias: a.head.bias };
  if (a.head.preprocessor.pca) {
    arrays.pcaMean = a.head.preprocessor.pca.mean;
    arrays.pcaComponents = a.head.preprocessor.pca.components;
    arrays.pcaVariances = a.head.preprocessor.pca.variances;
  }
  arrays.imageIds = a.imageIds;
  if (a.map) arrays.mapXy = a.map;
  if (a.graph) {
    arrays.graphIndices = new Uint32Array(a.graph.indices.buffer, a.graph.indices.byteOffset, a.graph.indices.length);
    arrays.graphSims = a.graph.sims;
  }
  const layout: Layout = {};
  let bytes = 0;
  for (const [name, arr] of Object.entries(arrays)) {
    layout[name] = { type: arr instanceof Float32Array ? 'f32' : 'u32', offset: bytes, length: arr.length };
    bytes += arr.byteLength;
  }
  const data = new Uint8Array(bytes);
  for (const [name, arr] of Object.entries(arrays))
    data.set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength), layout[name]!.offset);
  const { pca, ...pre } = a.head.preprocessor;
  const meta = {
    layout,
    shape: a.head.shape,
    preprocessor: { ...pre, pca: pca ? { d: pca.d, r: pca.r } : null },
    graph: a.graph ? { n: a.graph.n, k: a.graph.k } : null,
  };
  return { format: RUN_MODEL_FORMAT, meta, data };
}

export function decodeRunModel(model: { format: string; meta: Record<string, unknown>; data: Uint8Array }): RunArtifacts {
  if (model.format !== RUN_MODEL_FORMAT) throw new Error(`unknown run model format "${model.format}"`);
  const meta = model.meta as {
    layout: Layout;
    shape: [number, number];
    preprocessor: Omit<HeadExport['preprocessor'], 'pca'> & { pca: { d: number; r: number } | null };
    graph: { n: number; k: number } | null;
  };
  // Copy out: the blob's Buffer may be a view into a larger, unaligned buffer.
  const get = <T extends Arr>(name: string): T | null => {
    const l = meta.layout[name];
    if (!l) return null;
    const bytes = new Uint8Array(l.length * 4);
    bytes.set(model.data.subarray(l.offset, l.offset + l.length * 4));
    return (l.type === 'f32' ? new Float32Array(bytes.buffer) : new Uint32Array(bytes.buffer)) as T;
  };
  const pca = meta.preprocessor.pca
    ? {
        d: meta.preprocessor.pca.d,
        r: meta.preprocessor.pca.r,
        mean: get<Float32Array>('pcaMean')!,
        components: get<Float32Array>('pcaComponents')!,
        variances: get<Float32Array>('pcaVariances')!,
      }
    : null;
  const indices = get<Uint32Array>('graphIndices');
  return {
    head: {
      preprocessor: { ...meta.preprocessor, pca },
      weights: get<Float32Array>('weights')!,
      bias: get<Float32Array>('bias')!,
      shape: meta.shape,
    },
    imageIds: get<Uint32Array>('imageIds') ?? new Uint32Array(0),
    map: get<Float32Array>('mapXy'),
    graph:
      meta.graph && indices
        ? { n: meta.graph.n, k: meta.graph.k, indices: new Int32Array(indices.buffer), sims: get<Float32Array>('graphSims')! }
        : null,
  };
}
