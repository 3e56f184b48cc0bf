/**
 * TensorFlow.js graph model -> ONNX ModelProto, for the ops of convolutional image backbones
 * such as MobileNetV2: Placeholder, Const, Identity, (fused) Conv2D and DepthwiseConv2dNative
 * with BiasAdd and Relu/Relu6, Relu, Relu6, Add/AddV2/Sub/Mul/RealDiv, AvgPool, MaxPool, Mean
 * over the spatial axes, Squeeze. Only the ancestors of the requested outputs are converted, so
 * a classifier head after the feature layer (here nsfwjs's MatMul + Softmax) is never touched.
 * Anything else is refused with the op's name: a wrong model must not load silently.
 *
 * Layout: TensorFlow's graph is NHWC, ONNX's Conv is NCHW. The input is transposed once, every
 * 4-D activation is kept NCHW inside (kernels are permuted when written: HWIO -> OIHW, depthwise
 * HWCM -> (C*M)1HW with group = C), and a 4-D output is transposed back; axis attributes
 * (Squeeze, Mean) are mapped. 'SAME' padding becomes explicit pads where the spatial size is
 * known (TensorFlow puts the odd pixel at the end, as ONNX's SAME_UPPER does), so every
 * execution provider reads the same numbers.
 *
 * The ModelProto is written with `onnx-proto` (the ONNX schema compiled for protobufjs).
 */
import onnxProto from 'onnx-proto';
import {
  attrBool,
  attrInts,
  attrString,
  attrStrings,
  dataInputs,
  decodeWeights,
  placeholderShape,
  type DecodedWeight,
  type TfGraphModel,
  type TfNode,
} from './tfjsGraph.js';

const { onnx } = onnxProto;

export interface ConvertOptions {
  /** Nodes whose values become the model's outputs (named as the nodes). */
  outputs: readonly string[];
  /** Written into the model (producer_version). */
  producerVersion?: string;
  /** The name of the batch dimension of inputs and outputs. Default 'batch'. */
  batchDim?: string;
}

/** ONNX opset: Squeeze takes its axes as an input and Clip its bounds from 13 on. */
export const OPSET = 13;

interface Activation {
  kind: 'value';
  name: string;
  /** 'nchw': a 4-D tensor that TensorFlow sees as NHWC, stored NCHW. 'plain': as in TensorFlow. */
  layout: 'nchw' | 'plain';
  /** TensorFlow's shape (NHWC for a 4-D one); -1 where unknown. */
  shape: number[];
}

interface Constant {
  kind: 'const';
  node: string;
  weight: DecodedWeight;
}

type Operand = Activation | Constant;

const NHWC_TO_NCHW_AXIS = [0, 2, 3, 1];

export function tfjsGraphToOnnx(model: TfGraphModel, options: ConvertOptions): Uint8Array {
  const byName = new Map(model.nodes.map((n) => [n.name, n]));
  const weights = decodeWeights(model.weightSpecs, model.weightData);
  const batchDim = options.batchDim ?? 'batch';
  const nodes: onnxProto.onnx.INodeProto[] = [];
  const initializers: onnxProto.onnx.ITensorProto[] = [];
  const inputs: onnxProto.onnx.IValueInfoProto[] = [];
  const outputs: onnxProto.onnx.IValueInfoProto[] = [];
  const done = new Map<string, Operand>();
  const used = new Set<string>();
  let counter = 0;
  const fresh = (base: string) => {
    let name = base;
    while (used.has(name)) name = `${base}__${++counter}`;
    used.add(name);
    return name;
  };
  const addNode = (opType: string, ins: string[], outName: string, attrs: onnxProto.onnx.IAttributeProto[] = []) => {
    nodes.push({ opType, input: ins, output: [outName], name: fresh(`${outName}#${opType}`), attribute: attrs });
    return outName;
  };
  const addFloat = (base: string, dims: number[], values: Float32Array) => {
    const name = fresh(base);
    initializers.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytesOf(values) });
    return name;
  };
  const addInt64 = (base: string, values: number[]) => {
    const name = fresh(base);
    initializers.push({
      name,
      dims: [values.length],
      dataType: onnx.TensorProto.DataType.INT64,
      rawData: bytesOf(BigInt64Array.from(values, BigInt)),
    });
    return name;
  };
  const shared = new Map<string, string>();
  const scalar = (v: number) => {
    const key = `scalar:${v}`;
    if (!shared.has(key)) shared.set(key, addFloat(`const_${v}`, [], Float32Array.of(v)));
    return shared.get(key)!;
  };
  const toPlain = (a: Activation): Activation => {
    if (a.layout === 'plain') return a;
    const name = addNode('Transpose', [a.name], fresh(`${a.name}_nhwc`), [ints('perm', [0, 2, 3, 1])]);
    return { kind: 'value', name, layout: 'plain', shape: a.shape };
  };

  const operand = (tfName: string, consumer: TfNode): Operand => {
    const hit = done.get(tfName);
    if (hit) return hit;
    const node = byName.get(tfName);
    if (!node) throw new Error(`node ${consumer.name}: its input ${tfName} is not in the graph`);
    const result = convertNode(node);
    done.set(tfName, result);
    return result;
  };

  const activation = (tfName: string, consumer: TfNode): Activation => {
    const o = operand(tfName, consumer);
    if (o.kind !== 'value')
      throw new Error(`node ${consumer.name} (${consumer.op}): expected a computed input, got the constant ${tfName}`);
    return o;
  };

  const constant = (tfName: string, consumer: TfNode): DecodedWeight => {
    const o = operand(tfName, consumer);
    if (o.kind !== 'const')
      throw new Error(
        `node ${consumer.name} (${consumer.op}): ${tfName} must be a constant (weights computed in the graph are not supported)`,
      );
    if (o.weight.dtype !== 'float32') throw new Error(`node ${consumer.name}: constant ${tfName} is ${o.weight.dtype}, float32 expected`);
    return o.weight;
  };

  const convertNode = (node: TfNode): Operand => {
    const ins = dataInputs(node);
    switch (node.op) {
      case 'Const': {
        const weight = weights.get(node.name);
        if (!weight) throw new Error(`constant ${node.name} has no weights in the manifest`);
        return { kind: 'const', node: node.name, weight };
      }
      case 'Placeholder': {
        const shape = placeholderShape(node);
        if (!shape) throw new Error(`input ${node.name} has no shape`);
        const dtype = node.attr?.dtype?.type;
        if (dtype && dtype !== 'DT_FLOAT') throw new Error(`input ${node.name} is ${dtype}; only float inputs are supported`);
        inputs.push(valueInfo(fresh(node.name), shape, batchDim));
        if (shape.length !== 4) return { kind: 'value', name: node.name, layout: 'plain', shape };
        const name = addNode('Transpose', [node.name], fresh(`${node.name}_nchw`), [ints('perm', [0, 3, 1, 2])]);
        return { kind: 'value', name, layout: 'nchw', shape };
      }
      case 'Identity':
        return operand(one(node, ins), node);
      case 'Relu':
      case 'Relu6': {
        const x = activation(one(node, ins), node);
        return { ...x, name: activate(node.op, x.name, node.name) };
      }
      case 'Add':
      case 'AddV2':
      case 'Sub':
      case 'Mul':
      case 'RealDiv':
        return elementwise(node, ins);
      case 'Conv2D':
      case '_FusedConv2D':
      case 'DepthwiseConv2dNative':
      case 'FusedDepthwiseConv2dNative':
        return conv(node, ins);
      case 'AvgPool':
      case 'MaxPool':
        return pool(node, ins);
      case 'Mean':
        return mean(node, ins);
      case 'Squeeze':
        return squeeze(node, ins);
      default:
        throw new Error(`node ${node.name}: TensorFlow op ${node.op} is not supported by the ONNX converter`);
    }
  };

  const activate = (kind: string, input: string, base: string): string => {
    if (kind === 'Relu') return addNode('Relu', [input], fresh(base));
    if (kind === 'Relu6') return addNode('Clip', [input, scalar(0), scalar(6)], fresh(base));
    throw new Error(`activation ${kind} is not supported by the ONNX converter`);
  };

  const elementwise = (node: TfNode, ins: string[]): Operand => {
    if (ins.length !== 2) throw new Error(`node ${node.name} (${node.op}): expected 2 inputs, got ${ins.length}`);
    const [a, b] = [operand(ins[0]!, node), operand(ins[1]!, node)];
    const act = a.kind === 'value' ? a : b.kind === 'value' ? b : null;
    if (!act) throw new Error(`node ${node.name} (${node.op}): both inputs are constants (fold them before converting)`);
    if (a.kind === 'value' && b.kind === 'value' && a.layout !== b.layout) {
      throw new Error(`node ${node.name} (${node.op}): inputs of different ranks are not supported`);
    }
    const name = (o: Operand): string => {
      if (o.kind === 'value') return o.name;
      const w = o.weight;
      const size = w.values.length;
      if (w.dtype !== 'float32') throw new Error(`node ${node.name}: constant ${o.node} is ${w.dtype}`);
      if (size === 1) return addFloat(o.node, [], w.values as Float32Array);
      if (act.layout === 'nchw' && w.shape.length === 1 && w.shape[0] === act.shape[3])
        return addFloat(o.node, [size, 1, 1], w.values as Float32Array);
      if (act.layout === 'plain') return addFloat(o.node, w.shape, w.values as Float32Array);
      throw new Error(
        `node ${node.name} (${node.op}): cannot broadcast constant ${o.node} of shape [${w.shape.join(', ')}] over an NHWC tensor`,
      );
    };
    const op = { Add: 'Add', AddV2: 'Add', Sub: 'Sub', Mul: 'Mul', RealDiv: 'Div' }[node.op as 'Add']!;
    const out = addNode(op, [name(a), name(b)], fresh(node.name));
    const shape = a.kind === 'value' && b.kind === 'value' ? a.shape.map((d, k) => Math.max(d, b.shape[k] ?? d)) : act.shape;
    return { kind: 'value', name: out, layout: act.layout, shape };
  };

  const conv = (node: TfNode, ins: string[]): Operand => {
    nhwcOnly(node);
    const depthwise = node.op.includes('Depthwise');
    const x = activation(ins[0]!, node);
    if (x.layout !== 'nchw') throw new Error(`node ${node.name}: a convolution needs a 4-D input`);
    const w = constant(ins[1]!, node);
    if (w.shape.length !== 4) throw new Error(`node ${node.name}: kernel of rank ${w.shape.length}`);
    const [kh, kw, ci, co] = w.shape as [number, number, number, number];
    const inC = x.shape[3]!;
    if (inC !== -1 && inC !== ci) throw new Error(`node ${node.name}: kernel expects ${ci} input channels, the input has ${inC}`);
    const strides = spatialPair(node, 'strides');
    const dilations = spatialPair(node, 'dilations');
    const pads = padsFor(node, x.shape, [kh, kw], strides, dilations);
    const outC = depthwise ? ci * co : co;
    const kernel = depthwise
      ? depthwiseToOnnx(w.values as Float32Array, kh, kw, ci, co)
      : convToOnnx(w.values as Float32Array, kh, kw, ci, co);
    const convIns = [x.name, addFloat(`${ins[1]}_onnx`, [outC, depthwise ? 1 : ci, kh, kw], kernel)];
    const fused = node.op.startsWith('_Fused') || node.op.startsWith('Fused') ? attrStrings(node, 'fused_ops') : [];
    let activationKind: string | null = null;
    for (const f of fused) {
      if (f === 'BiasAdd') {
        const bias = constant(ins[2] ?? '', node);
        if (bias.values.length !== outC) throw new Error(`node ${node.name}: bias of ${bias.values.length} for ${outC} channels`);
        convIns.push(addFloat(ins[2]!, [outC], bias.values as Float32Array));
      } else if ((f === 'Relu' || f === 'Relu6') && activationKind === null) activationKind = f;
      else throw new Error(`node ${node.name}: fused op ${f} is not supported by the ONNX converter`);
    }
    const attrs = [ints('kernel_shape', [kh, kw]), ints('strides', strides), ints('dilations', dilations)];
    if (pads === 'SAME_UPPER') attrs.push(str('auto_pad', 'SAME_UPPER'));
    else attrs.push(ints('pads', pads));
    if (depthwise) attrs.push(int('group', ci));
    let out = addNode('Conv', convIns, fresh(activationKind ? `${node.name}_conv` : node.name), attrs);
    if (activationKind) out = activate(activationKind, out, node.name);
    return { kind: 'value', name: out, layout: 'nchw', shape: outShape(x.shape, [kh, kw], strides, dilations, node, outC) };
  };

  const pool = (node: TfNode, ins: string[]): Operand => {
    nhwcOnly(node);
    const x = activation(one(node, ins), node);
    if (x.layout !== 'nchw') throw new Error(`node ${node.name}: pooling needs a 4-D input`);
    const ksize = attrInts(node, 'ksize');
    if (!ksize || ksize.length !== 4 || ksize[0] !== 1 || ksize[3] !== 1) throw new Error(`node ${node.name}: unsupported ksize ${ksize}`);
    const k: [number, number] = [ksize[1]!, ksize[2]!];
    const strides = spatialPair(node, 'strides');
    const pads = padsFor(node, x.shape, k, strides, [1, 1]);
    const attrs = [ints('kernel_shape', k), ints('strides', strides)];
    if (pads === 'SAME_UPPER') attrs.push(str('auto_pad', 'SAME_UPPER'));
    else attrs.push(ints('pads', pads));
    const out = addNode(node.op === 'AvgPool' ? 'AveragePool' : 'MaxPool', [x.name], fresh(node.name), attrs);
    return { kind: 'value', name: out, layout: 'nchw', shape: outShape(x.shape, k, strides, [1, 1], node, x.shape[3]!) };
  };

  const mean = (node: TfNode, ins: string[]): Operand => {
    if (ins.length !== 2) throw new Error(`node ${node.name} (Mean): expected 2 inputs`);
    const x = activation(ins[0]!, node);
    const axesConst = operand(ins[1]!, node);
    if (axesConst.kind !== 'const') throw new Error(`node ${node.name} (Mean): axes must be a constant`);
    const rank = x.shape.length;
    const axes = Array.from(axesConst.weight.values, (v) => (v < 0 ? v + rank : v));
    const keep = attrBool(node, 'keep_dims') ?? false;
    const src = x.layout === 'nchw' && !keep && !isSpatialPair(axes) ? toPlain(x) : x;
    const mapped = src.layout === 'nchw' ? axes.map((a) => NHWC_TO_NCHW_AXIS[a]!) : axes;
    const out = addNode('ReduceMean', [src.name], fresh(node.name), [ints('axes', mapped), int('keepdims', keep ? 1 : 0)]);
    const shape = keep ? src.shape.map((d, k) => (axes.includes(k) ? 1 : d)) : src.shape.filter((_, k) => !axes.includes(k));
    return { kind: 'value', name: out, layout: keep ? src.layout : 'plain', shape };
  };

  const squeeze = (node: TfNode, ins: string[]): Operand => {
    const x = activation(one(node, ins), node);
    const rank = x.shape.length;
    const dims = attrInts(node, 'squeeze_dims') ?? attrInts(node, 'axis') ?? [];
    const axes = (dims.length ? dims : x.shape.flatMap((d, k) => (d === 1 ? [k] : []))).map((a) => (a < 0 ? a + rank : a));
    // Removing H and W leaves [N, C] in either layout; any other squeeze works on the NHWC tensor.
    const src = x.layout === 'nchw' && !isSpatialPair(axes) ? toPlain(x) : x;
    const mapped = src.layout === 'nchw' ? axes.map((a) => NHWC_TO_NCHW_AXIS[a]!) : axes;
    const out = addNode('Squeeze', [src.name, addInt64(`${node.name}_axes`, mapped)], fresh(node.name));
    return { kind: 'value', name: out, layout: 'plain', shape: src.shape.filter((_, k) => !axes.includes(k)) };
  };

  for (const name of options.outputs) {
    const node = byName.get(name);
    if (!node) throw new Error(`output ${name} is not in the graph`);
    const o = operand(name, node);
    if (o.kind !== 'value') throw new Error(`output ${name} is a constant`);
    const plain = toPlain(o);
    const outName = fresh(`${name}:0`);
    addNode('Identity', [plain.name], outName);
    outputs.push(valueInfo(outName, plain.shape, batchDim));
  }

  const proto = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'constellate tfjs-to-onnx',
    producerVersion: options.producerVersion ?? '1',
    graph: { name: 'converted', node: nodes, initializer: initializers, input: inputs, output: outputs },
  });
  return onnx.ModelProto.encode(proto).finish();
}

function one(node: TfNode, ins: string[]): string {
  if (ins.length !== 1) throw new Error(`node ${node.name} (${node.op}): expected 1 input, got ${ins.length}`);
  return ins[0]!;
}

function isSpatialPair(axes: number[]): boolean {
  return axes.length === 2 && axes.includes(1) && axes.includes(2);
}

function nhwcOnly(node: TfNode): void {
  const format = attrString(node, 'data_format') ?? 'NHWC';
  if (format !== 'NHWC') throw new Error(`node ${node.name}: data_format ${format} is not supported (NHWC only)`);
}

function spatialPair(node: TfNode, key: string): [number, number] {
  const v = attrInts(node, key) ?? [1, 1, 1, 1];
  if (v.length !== 4 || v[0] !== 1 || v[3] !== 1) throw new Error(`node ${node.name}: unsupported ${key} [${v.join(', ')}]`);
  return [v[1]!, v[2]!];
}

/** ONNX pads [top, left, bottom, right] for TensorFlow's padding, or SAME_UPPER where the size is unknown. */
function padsFor(node: TfNode, shape: number[], k: [number, number], s: [number, number], d: [number, number]): number[] | 'SAME_UPPER' {
  const padding = attrString(node, 'padding') ?? 'VALID';
  if (padding === 'VALID') return [0, 0, 0, 0];
  if (padding === 'EXPLICIT') {
    const e = attrInts(node, 'explicit_paddings') ?? [];
    if (e.length !== 8) throw new Error(`node ${node.name}: explicit_paddings must have 8 values`);
    return [e[2]!, e[4]!, e[3]!, e[5]!];
  }
  if (padding !== 'SAME') throw new Error(`node ${node.name}: padding ${padding} is not supported`);
  const h = shape[1]!;
  const w = shape[2]!;
  if (h < 0 || w < 0) return 'SAME_UPPER';
  const total = (size: number, i: 0 | 1) => Math.max((Math.ceil(size / s[i]) - 1) * s[i] + (k[i] - 1) * d[i] + 1 - size, 0);
  const th = total(h, 0);
  const tw = total(w, 1);
  return [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
}

function outShape(
  shape: number[],
  k: [number, number],
  s: [number, number],
  d: [number, number],
  node: TfNode,
  channels: number,
): number[] {
  const padding = attrString(node, 'padding') ?? 'VALID';
  const dim = (size: number, i: 0 | 1) => {
    if (size < 0) return -1;
    if (padding === 'SAME') return Math.ceil(size / s[i]);
    let padded = size;
    if (padding === 'EXPLICIT') {
      const e = attrInts(node, 'explicit_paddings')!;
      padded += e[2 + 2 * i]! + e[3 + 2 * i]!;
    }
    return Math.floor((padded - ((k[i] - 1) * d[i] + 1)) / s[i]) + 1;
  };
  return [shape[0]!, dim(shape[1]!, 0), dim(shape[2]!, 1), channels];
}

/** HWIO -> OIHW. */
function convToOnnx(w: Float32Array, kh: number, kw: number, ci: number, co: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++) out[((o * ci + i) * kh + y) * kw + x] = w[((y * kw + x) * ci + i) * co + o]!;
  return out;
}

/** Depthwise HW C M -> (C*M) 1 H W: TensorFlow's output channel c*M + m is ONNX's group c, member m. */
function depthwiseToOnnx(w: Float32Array, kh: number, kw: number, c: number, m: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let ch = 0; ch < c; ch++)
        for (let j = 0; j < m; j++) out[((ch * m + j) * kh + y) * kw + x] = w[((y * kw + x) * c + ch) * m + j]!;
  return out;
}

function bytesOf(a: Float32Array | BigInt64Array): Uint8Array {
  // ONNX raw data is little-endian, as are all the platforms the app ships for.
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function ints(name: string, values: number[]): onnxProto.onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: values };
}

function int(name: string, value: number): onnxProto.onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
}

function str(name: string, value: string): onnxProto.onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(value) };
}

function valueInfo(name: string, shape: number[], batchDim: string): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: shape.map((d, k) => (d >= 0 ? { dimValue: d } : k === 0 ? { dimParam: batchDim } : { dimParam: `d${k}` })) },
      },
    },
  };
}
