/**
 * The tfjs -> ONNX converter on small generated graphs: each graph runs in TensorFlow.js (its cpu
 * backend, the reference implementation of every op) and, converted, in ONNX Runtime, and the
 * outputs must agree. The graphs cover what the converter claims: fused convolutions with odd
 * sizes and stride 2 ('SAME' puts the odd pixel at the end), depthwise with a channel multiplier,
 * residual adds, scalar and per-channel constants, pooling, Mean, Squeeze, quantized weights, an
 * unknown spatial size, and a refusal for an op it does not know.
 */
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { tfjsGraphToOnnx } from '../../core/embed/onnx/convert.js';
import { disableOrtTelemetry } from '../../core/embed/onnx/ortEnv.js';
import { decodeWeights, type TfNode, type WeightSpec } from '../../core/embed/onnx/tfjsGraph.js';
import { Rng } from '../../core/icon/rng.js';

beforeAll(async () => {
  disableOrtTelemetry();
  await tf.setBackend('cpu');
});

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const ints = (...v: number[]) => ({ list: { i: v.map(String) } });
const strs = (...v: string[]) => ({ list: { s: v.map(b64) } });

/** Builds a graph: nodes plus float32 (or uint8-quantized) weights. */
class GraphBuilder {
  nodes: TfNode[] = [];
  specs: WeightSpec[] = [];
  chunks: Uint8Array[] = [];
  rng = new Rng(7);

  input(name: string, shape: number[]): string {
    this.nodes.push({
      name,
      op: 'Placeholder',
      attr: { shape: { shape: { dim: shape.map((s) => ({ size: String(s) })) } }, dtype: { type: 'DT_FLOAT' } },
    });
    return name;
  }

  weight(name: string, shape: number[], options: { quantize?: boolean; values?: number[]; dtype?: 'int32' } = {}): string {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = options.values ?? Array.from({ length: size }, () => this.rng.normal() * 0.5);
    const dtype = options.dtype ?? 'float32';
    this.nodes.push({
      name,
      op: 'Const',
      attr: {
        value: {
          tensor: { dtype: dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT', tensorShape: { dim: shape.map((s) => ({ size: String(s) })) } },
        },
        dtype: { type: dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT' },
      },
    });
    if (dtype === 'int32') {
      this.specs.push({ name, shape, dtype: 'int32' });
      this.chunks.push(new Uint8Array(Int32Array.from(values).buffer));
    } else if (options.quantize) {
      const min = Math.min(...values);
      const scale = (Math.max(...values) - min) / 255 || 1;
      this.specs.push({ name, shape, dtype: 'float32', quantization: { dtype: 'uint8', min, scale } });
      this.chunks.push(Uint8Array.from(values, (v) => Math.round((v - min) / scale)));
    } else {
      this.specs.push({ name, shape, dtype: 'float32' });
      this.chunks.push(new Uint8Array(Float32Array.from(values).buffer));
    }
    return name;
  }

  op(name: string, op: string, input: string[], attr: TfNode['attr'] = {}): string {
    this.nodes.push({ name, op, input, attr: { T: { type: 'DT_FLOAT' }, ...attr } });
    return name;
  }

  conv(
    name: string,
    x: string,
    kernel: number[],
    options: {
      stride?: number;
      padding?: string;
      fused?: string[];
      depthwise?: boolean;
      quantize?: boolean;
      dilation?: number;
      explicit?: number[];
    } = {},
  ): string {
    const w = this.weight(`${name}/w`, kernel, { quantize: options.quantize });
    const fused = options.fused ?? [];
    const inputs = [x, w];
    if (fused.includes('BiasAdd'))
      inputs.push(this.weight(`${name}/b`, [options.depthwise ? kernel[2]! * kernel[3]! : kernel[3]!], { quantize: options.quantize }));
    const s = options.stride ?? 1;
    const d = options.dilation ?? 1;
    const attr: TfNode['attr'] = {
      strides: ints(1, s, s, 1),
      dilations: ints(1, d, d, 1),
      padding: { s: b64(options.padding ?? 'SAME') },
      data_format: { s: b64('NHWC') },
      ...(options.explicit ? { explicit_paddings: ints(...options.explicit) } : {}),
    };
    if (fused.length === 0) return this.op(name, options.depthwise ? 'DepthwiseConv2dNative' : 'Conv2D', inputs, attr);
    return this.op(name, options.depthwise ? 'FusedDepthwiseConv2dNative' : '_FusedConv2D', inputs, {
      ...attr,
      fused_ops: strs(...fused),
      num_args: { i: String(fused.includes('BiasAdd') ? 1 : 0) },
    });
  }

  model() {
    const total = this.chunks.reduce((a, c) => a + c.length, 0);
    const data = new Uint8Array(total);
    let o = 0;
    for (const c of this.chunks) {
      data.set(c, o);
      o += c.length;
    }
    return { nodes: this.nodes, weightSpecs: this.specs, weightData: data.buffer };
  }
}

async function compare(
  g: GraphBuilder,
  output: string,
  inputShape: number[],
): Promise<{ maxAbs: number; scale: number; shape: readonly number[] }> {
  const model = g.model();
  const rng = new Rng(3);
  const x = Float32Array.from({ length: inputShape.reduce((a, b) => a * b, 1) }, () => rng.normal());
  const graph = await tf.loadGraphModel(
    tf.io.fromMemory({
      modelTopology: { node: model.nodes, versions: { producer: 175 } },
      weightSpecs: model.weightSpecs as tf.io.WeightsManifestEntry[],
      weightData: model.weightData,
    }),
  );
  const expected = tf.tidy(() => (graph.execute(tf.tensor(x, inputShape), output) as tf.Tensor).dataSync().slice());
  graph.dispose();
  const session = await ort.InferenceSession.create(tfjsGraphToOnnx(model, { outputs: [output] }));
  const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', x, inputShape) });
  const got = out[session.outputNames[0]!]!;
  await session.release();
  const data = got.data as Float32Array;
  expect(data.length).toBe(expected.length);
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < data.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(data[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return { maxAbs, scale, shape: got.dims };
}

describe('tfjs graph -> ONNX', () => {
  it('a MobileNetV2-style block: scale/shift, stride-2 SAME conv with odd padding (12x10), depthwise, projection, residual, pooling, squeeze', async () => {
    const g = new GraphBuilder();
    const x = g.input('input', [-1, 12, 10, 3]);
    const two = g.weight('two', [], { values: [2] });
    const one = g.weight('one', [], { values: [1] });
    const scaled = g.op('mul', 'Mul', [two, x]);
    const shifted = g.op('sub', 'Sub', [scaled, one]);
    const c1 = g.conv('conv1', shifted, [3, 3, 3, 8], { stride: 2, fused: ['BiasAdd', 'Relu6'] });
    const dw = g.conv('dw', c1, [3, 3, 8, 1], { depthwise: true, fused: ['BiasAdd', 'Relu6'] });
    const proj = g.conv('proj', dw, [1, 1, 8, 8], { fused: ['BiasAdd'] });
    const res = g.op('add', 'AddV2', [c1, proj]);
    const pool = g.op('pool', 'AvgPool', [res], {
      ksize: ints(1, 6, 5, 1),
      strides: ints(1, 1, 1, 1),
      padding: { s: b64('VALID') },
      data_format: { s: b64('NHWC') },
    });
    const sq = g.op('squeeze', 'Squeeze', [pool], { squeeze_dims: ints(1, 2) });
    // A head after the output must not be converted (nsfwjs's MatMul + Softmax).
    g.op('head', 'Softmax', [sq]);
    const r = await compare(g, sq, [2, 12, 10, 3]);
    expect(r.shape).toEqual([2, 8]);
    expect(r.maxAbs).toBeLessThan(1e-5 * Math.max(1, r.scale));
  });

  it('depthwise with a channel multiplier and stride 2, dilated and explicitly padded convs, quantized weights', async () => {
    const g = new GraphBuilder();
    const x = g.input('input', [-1, 10, 9, 4]);
    const dw = g.conv('dw', x, [3, 3, 4, 2], { depthwise: true, stride: 2, fused: ['BiasAdd', 'Relu'], quantize: true });
    const dil = g.conv('dil', dw, [3, 3, 8, 5], { dilation: 2, quantize: true });
    const ex = g.conv('ex', dil, [2, 2, 5, 3], { padding: 'EXPLICIT', explicit: [0, 0, 1, 0, 0, 2, 0, 0], fused: ['BiasAdd'] });
    const r = await compare(g, ex, [1, 10, 9, 4]);
    expect(r.shape).toEqual([1, 5, 6, 3]);
    expect(r.maxAbs).toBeLessThan(1e-4 * Math.max(1, r.scale));
  });

  it('per-channel constants, MaxPool SAME stride 2, Relu6, Mean over H and W', async () => {
    const g = new GraphBuilder();
    const x = g.input('input', [-1, 7, 9, 3]);
    const gain = g.weight('gain', [3], { values: [2, -1, 0.5] });
    const bias = g.weight('bias', [3], { values: [0.1, 0.2, -0.3] });
    const y = g.op('add', 'Add', [g.op('mul', 'Mul', [x, gain]), bias]);
    const div = g.op('div', 'RealDiv', [y, g.weight('d', [], { values: [0.25] })]);
    const relu = g.op('relu6', 'Relu6', [div]);
    const mp = g.op('mp', 'MaxPool', [relu], {
      ksize: ints(1, 3, 3, 1),
      strides: ints(1, 2, 2, 1),
      padding: { s: b64('SAME') },
      data_format: { s: b64('NHWC') },
    });
    const mean = g.op('mean', 'Mean', [mp, g.weight('axes', [2], { values: [1, 2], dtype: 'int32' })], {
      keep_dims: { b: false },
      Tidx: { type: 'DT_INT32' },
    });
    const r = await compare(g, mean, [3, 7, 9, 3]);
    expect(r.shape).toEqual([3, 3]);
    expect(r.maxAbs).toBeLessThan(1e-5 * Math.max(1, r.scale));
  });

  it('a 4-D output comes back NHWC; a graph whose size is unknown pads with SAME_UPPER', async () => {
    const g = new GraphBuilder();
    const x = g.input('input', [-1, -1, -1, 2]);
    const c = g.conv('c', x, [3, 3, 2, 4], { stride: 2, fused: ['BiasAdd', 'Relu6'] });
    const r = await compare(g, c, [1, 9, 6, 2]);
    expect(r.shape).toEqual([1, 5, 3, 4]);
    expect(r.maxAbs).toBeLessThan(1e-5 * Math.max(1, r.scale));
  });

  it('refuses an op it does not convert, naming it, and a missing output', () => {
    const g = new GraphBuilder();
    const x = g.input('input', [-1, 4, 4, 2]);
    const s = g.op('soft', 'Softmax', [x]);
    expect(() => tfjsGraphToOnnx(g.model(), { outputs: [s] })).toThrow(/soft: TensorFlow op Softmax is not supported/);
    expect(() => tfjsGraphToOnnx(g.model(), { outputs: ['nope'] })).toThrow(/output nope is not in the graph/);
    const h = new GraphBuilder();
    const y = h.input('input', [-1, 4, 4, 2]);
    const bn = h.conv('bn', y, [1, 1, 2, 2], { fused: ['BiasAdd', 'Elu'] });
    expect(() => tfjsGraphToOnnx(h.model(), { outputs: [bn] })).toThrow(/fused op Elu is not supported/);
  });

  it('decodes weights as tfjs does (float32, uint8 and uint16 quantization, int32)', () => {
    const specs: WeightSpec[] = [
      { name: 'f', shape: [3], dtype: 'float32' },
      { name: 'q8', shape: [4], dtype: 'float32', quantization: { dtype: 'uint8', min: -1.25, scale: 0.0123 } },
      { name: 'q16', shape: [2], dtype: 'float32', quantization: { dtype: 'uint16', min: 0.5, scale: 1e-4 } },
      { name: 'i', shape: [2], dtype: 'int32' },
    ];
    const parts = [
      new Uint8Array(Float32Array.of(1.5, -2, 3.25).buffer),
      Uint8Array.of(0, 7, 128, 255),
      new Uint8Array(Uint16Array.of(3, 65535).buffer),
      new Uint8Array(Int32Array.of(-4, 9).buffer),
    ];
    const data = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      data.set(p, o);
      o += p.length;
    }
    const ours = decodeWeights(specs, data.buffer);
    const theirs = tf.io.decodeWeights(data.buffer, specs as tf.io.WeightsManifestEntry[]);
    for (const s of specs) expect(Array.from(ours.get(s.name)!.values)).toEqual(Array.from(theirs[s.name]!.dataSync()));
    expect(() => decodeWeights(specs, data.buffer.slice(0, 20))).toThrow(/weight data ends/);
  });
});
