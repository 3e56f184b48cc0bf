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
 * The graph is written by ./onnxGraph.ts; the geometry of convolutions and pooling is in
 * ./convGeometry.ts.
 */
import { convToOnnx, depthwiseToOnnx, nhwcOnly, outShape, padsFor, spatialPair } from './convGeometry.js';
import { int, ints, OnnxGraphWriter, str, valueInfo } from './onnxGraph.js';
import {
  attrBool,
  attrInts,
  attrStrings,
  dataInputs,
  decodeWeights,
  placeholderShape,
  type DecodedWeight,
  type TfGraphModel,
  type TfNode,
} from './tfjsGraph.js';

export { OPSET } from './onnxGraph.js';

export interface ConvertOptions {
  /** Nodes whose values become the model's outputs (named as the nodes). */
  outputs: readonly string[];
  /** Written into the model (producer_version). */
  producerVersion?: string;
  /** The name of the batch dimension of inputs and outputs. Default 'batch'. */
  batchDim?: string;
}

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
  const converter = new GraphConverter(model, options.batchDim ?? 'batch');
  for (const name of options.outputs) converter.addOutput(name);
  return converter.graph.encode(options.producerVersion ?? '1');
}

/**
 * Converts nodes on demand, depth first from the outputs, each once: the ONNX graph gets its
 * nodes and initializers in the order the outputs need them.
 */
class GraphConverter {
  readonly graph = new OnnxGraphWriter();
  private readonly byName: Map<string, TfNode>;
  private readonly weights: Map<string, DecodedWeight>;
  private readonly done = new Map<string, Operand>();

  constructor(
    model: TfGraphModel,
    private readonly batchDim: string,
  ) {
    this.byName = new Map(model.nodes.map((n) => [n.name, n]));
    this.weights = decodeWeights(model.weightSpecs, model.weightData);
  }

  /** Makes node `name`'s value an output of the model, NHWC where it is 4-D. */
  addOutput(name: string): void {
    const node = this.byName.get(name);
    if (!node) throw new Error(`output ${name} is not in the graph`);
    const o = this.operand(name, node);
    if (o.kind !== 'value') throw new Error(`output ${name} is a constant`);
    const plain = this.toPlain(o);
    const outName = this.graph.fresh(`${name}:0`);
    this.graph.addNode('Identity', [plain.name], outName);
    this.graph.outputs.push(valueInfo(outName, plain.shape, this.batchDim));
  }

  private toPlain(a: Activation): Activation {
    if (a.layout === 'plain') return a;
    const name = this.graph.addNode('Transpose', [a.name], this.graph.fresh(`${a.name}_nhwc`), [ints('perm', [0, 2, 3, 1])]);
    return { kind: 'value', name, layout: 'plain', shape: a.shape };
  }

  private operand(tfName: string, consumer: TfNode): Operand {
    const hit = this.done.get(tfName);
    if (hit) return hit;
    const node = this.byName.get(tfName);
    if (!node) throw new Error(`node ${consumer.name}: its input ${tfName} is not in the graph`);
    const result = this.convertNode(node);
    this.done.set(tfName, result);
    return result;
  }

  private activation(tfName: string, consumer: TfNode): Activation {
    const o = this.operand(tfName, consumer);
    if (o.kind !== 'value')
      throw new Error(`node ${consumer.name} (${consumer.op}): expected a computed input, got the constant ${tfName}`);
    return o;
  }

  private constant(tfName: string, consumer: TfNode): DecodedWeight {
    const o = this.operand(tfName, consumer);
    if (o.kind !== 'const')
      throw new Error(
        `node ${consumer.name} (${consumer.op}): ${tfName} must be a constant (weights computed in the graph are not supported)`,
      );
    if (o.weight.dtype !== 'float32') throw new Error(`node ${consumer.name}: constant ${tfName} is ${o.weight.dtype}, float32 expected`);
    return o.weight;
  }

  private convertNode(node: TfNode): Operand {
    const ins = dataInputs(node);
    switch (node.op) {
      case 'Const': {
        const weight = this.weights.get(node.name);
        if (!weight) throw new Error(`constant ${node.name} has no weights in the manifest`);
        return { kind: 'const', node: node.name, weight };
      }
      case 'Placeholder':
        return this.placeholder(node);
      case 'Identity':
        return this.operand(one(node, ins), node);
      case 'Relu':
      case 'Relu6': {
        const x = this.activation(one(node, ins), node);
        return { ...x, name: this.activate(node.op, x.name, node.name) };
      }
      case 'Add':
      case 'AddV2':
      case 'Sub':
      case 'Mul':
      case 'RealDiv':
        return this.elementwise(node, ins);
      case 'Conv2D':
      case '_FusedConv2D':
      case 'DepthwiseConv2dNative':
      case 'FusedDepthwiseConv2dNative':
        return this.conv(node, ins);
      case 'AvgPool':
      case 'MaxPool':
        return this.pool(node, ins);
      case 'Mean':
        return this.mean(node, ins);
      case 'Squeeze':
        return this.squeeze(node, ins);
      default:
        throw new Error(`node ${node.name}: TensorFlow op ${node.op} is not supported by the ONNX converter`);
    }
  }

  /** A model input; a 4-D one is transposed to NCHW once, here. */
  private placeholder(node: TfNode): Operand {
    const shape = placeholderShape(node);
    if (!shape) throw new Error(`input ${node.name} has no shape`);
    const dtype = node.attr?.dtype?.type;
    if (dtype && dtype !== 'DT_FLOAT') throw new Error(`input ${node.name} is ${dtype}; only float inputs are supported`);
    this.graph.inputs.push(valueInfo(this.graph.fresh(node.name), shape, this.batchDim));
    if (shape.length !== 4) return { kind: 'value', name: node.name, layout: 'plain', shape };
    const name = this.graph.addNode('Transpose', [node.name], this.graph.fresh(`${node.name}_nchw`), [ints('perm', [0, 3, 1, 2])]);
    return { kind: 'value', name, layout: 'nchw', shape };
  }

  private activate(kind: string, input: string, base: string): string {
    if (kind === 'Relu') return this.graph.addNode('Relu', [input], this.graph.fresh(base));
    if (kind === 'Relu6') return this.graph.addNode('Clip', [input, this.graph.scalar(0), this.graph.scalar(6)], this.graph.fresh(base));
    throw new Error(`activation ${kind} is not supported by the ONNX converter`);
  }

  private elementwise(node: TfNode, ins: string[]): Operand {
    if (ins.length !== 2) throw new Error(`node ${node.name} (${node.op}): expected 2 inputs, got ${ins.length}`);
    const [a, b] = [this.operand(ins[0]!, node), this.operand(ins[1]!, node)];
    const act = a.kind === 'value' ? a : b.kind === 'value' ? b : null;
    if (!act) throw new Error(`node ${node.name} (${node.op}): both inputs are constants (fold them before converting)`);
    if (a.kind === 'value' && b.kind === 'value' && a.layout !== b.layout) {
      throw new Error(`node ${node.name} (${node.op}): inputs of different ranks are not supported`);
    }
    const op = { Add: 'Add', AddV2: 'Add', Sub: 'Sub', Mul: 'Mul', RealDiv: 'Div' }[node.op as 'Add']!;
    const out = this.graph.addNode(op, [this.broadcastable(a, act, node), this.broadcastable(b, act, node)], this.graph.fresh(node.name));
    const shape = a.kind === 'value' && b.kind === 'value' ? a.shape.map((d, k) => Math.max(d, b.shape[k] ?? d)) : act.shape;
    return { kind: 'value', name: out, layout: act.layout, shape };
  }

  /** An elementwise operand's name; a constant is written in a shape that broadcasts over `act`'s layout. */
  private broadcastable(o: Operand, act: Activation, node: TfNode): string {
    if (o.kind === 'value') return o.name;
    const w = o.weight;
    const size = w.values.length;
    if (w.dtype !== 'float32') throw new Error(`node ${node.name}: constant ${o.node} is ${w.dtype}`);
    if (size === 1) return this.graph.addFloat(o.node, [], w.values as Float32Array);
    if (act.layout === 'nchw' && w.shape.length === 1 && w.shape[0] === act.shape[3])
      return this.graph.addFloat(o.node, [size, 1, 1], w.values as Float32Array);
    if (act.layout === 'plain') return this.graph.addFloat(o.node, w.shape, w.values as Float32Array);
    throw new Error(
      `node ${node.name} (${node.op}): cannot broadcast constant ${o.node} of shape [${w.shape.join(', ')}] over an NHWC tensor`,
    );
  }

  private conv(node: TfNode, ins: string[]): Operand {
    nhwcOnly(node);
    const depthwise = node.op.includes('Depthwise');
    const x = this.activation(ins[0]!, node);
    if (x.layout !== 'nchw') throw new Error(`node ${node.name}: a convolution needs a 4-D input`);
    const w = this.constant(ins[1]!, node);
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
    const convIns = [x.name, this.graph.addFloat(`${ins[1]}_onnx`, [outC, depthwise ? 1 : ci, kh, kw], kernel)];
    const activationKind = this.fusedOps(node, ins, outC, convIns);
    const attrs = [ints('kernel_shape', [kh, kw]), ints('strides', strides), ints('dilations', dilations), padAttr(pads)];
    if (depthwise) attrs.push(int('group', ci));
    let out = this.graph.addNode('Conv', convIns, this.graph.fresh(activationKind ? `${node.name}_conv` : node.name), attrs);
    if (activationKind) out = this.activate(activationKind, out, node.name);
    return { kind: 'value', name: out, layout: 'nchw', shape: outShape(x.shape, [kh, kw], strides, dilations, node, outC) };
  }

  /** A fused convolution's BiasAdd (pushed onto `convIns`) and the activation after it, if any. */
  private fusedOps(node: TfNode, ins: string[], outC: number, convIns: string[]): string | null {
    const fused = node.op.startsWith('_Fused') || node.op.startsWith('Fused') ? attrStrings(node, 'fused_ops') : [];
    let activationKind: string | null = null;
    for (const f of fused) {
      if (f === 'BiasAdd') {
        const bias = this.constant(ins[2] ?? '', node);
        if (bias.values.length !== outC) throw new Error(`node ${node.name}: bias of ${bias.values.length} for ${outC} channels`);
        convIns.push(this.graph.addFloat(ins[2]!, [outC], bias.values as Float32Array));
      } else if ((f === 'Relu' || f === 'Relu6') && activationKind === null) activationKind = f;
      else throw new Error(`node ${node.name}: fused op ${f} is not supported by the ONNX converter`);
    }
    return activationKind;
  }

  private pool(node: TfNode, ins: string[]): Operand {
    nhwcOnly(node);
    const x = this.activation(one(node, ins), node);
    if (x.layout !== 'nchw') throw new Error(`node ${node.name}: pooling needs a 4-D input`);
    const ksize = attrInts(node, 'ksize');
    if (!ksize || ksize.length !== 4 || ksize[0] !== 1 || ksize[3] !== 1) throw new Error(`node ${node.name}: unsupported ksize ${ksize}`);
    const k: [number, number] = [ksize[1]!, ksize[2]!];
    const strides = spatialPair(node, 'strides');
    const pads = padsFor(node, x.shape, k, strides, [1, 1]);
    const attrs = [ints('kernel_shape', k), ints('strides', strides), padAttr(pads)];
    const out = this.graph.addNode(node.op === 'AvgPool' ? 'AveragePool' : 'MaxPool', [x.name], this.graph.fresh(node.name), attrs);
    return { kind: 'value', name: out, layout: 'nchw', shape: outShape(x.shape, k, strides, [1, 1], node, x.shape[3]!) };
  }

  private mean(node: TfNode, ins: string[]): Operand {
    if (ins.length !== 2) throw new Error(`node ${node.name} (Mean): expected 2 inputs`);
    const x = this.activation(ins[0]!, node);
    const axesConst = this.operand(ins[1]!, node);
    if (axesConst.kind !== 'const') throw new Error(`node ${node.name} (Mean): axes must be a constant`);
    const rank = x.shape.length;
    const axes = Array.from(axesConst.weight.values, (v) => (v < 0 ? v + rank : v));
    const keep = attrBool(node, 'keep_dims') ?? false;
    const src = x.layout === 'nchw' && !keep && !isSpatialPair(axes) ? this.toPlain(x) : x;
    const mapped = src.layout === 'nchw' ? axes.map((a) => NHWC_TO_NCHW_AXIS[a]!) : axes;
    const out = this.graph.addNode('ReduceMean', [src.name], this.graph.fresh(node.name), [
      ints('axes', mapped),
      int('keepdims', keep ? 1 : 0),
    ]);
    const shape = keep ? src.shape.map((d, k) => (axes.includes(k) ? 1 : d)) : src.shape.filter((_, k) => !axes.includes(k));
    return { kind: 'value', name: out, layout: keep ? src.layout : 'plain', shape };
  }

  private squeeze(node: TfNode, ins: string[]): Operand {
    const x = this.activation(one(node, ins), node);
    const rank = x.shape.length;
    const dims = attrInts(node, 'squeeze_dims') ?? attrInts(node, 'axis') ?? [];
    const axes = (dims.length ? dims : x.shape.flatMap((d, k) => (d === 1 ? [k] : []))).map((a) => (a < 0 ? a + rank : a));
    // Removing H and W leaves [N, C] in either layout; any other squeeze works on the NHWC tensor.
    const src = x.layout === 'nchw' && !isSpatialPair(axes) ? this.toPlain(x) : x;
    const mapped = src.layout === 'nchw' ? axes.map((a) => NHWC_TO_NCHW_AXIS[a]!) : axes;
    const out = this.graph.addNode('Squeeze', [src.name, this.graph.addInt64(`${node.name}_axes`, mapped)], this.graph.fresh(node.name));
    return { kind: 'value', name: out, layout: 'plain', shape: src.shape.filter((_, k) => !axes.includes(k)) };
  }
}

function one(node: TfNode, ins: string[]): string {
  if (ins.length !== 1) throw new Error(`node ${node.name} (${node.op}): expected 1 input, got ${ins.length}`);
  return ins[0]!;
}

function isSpatialPair(axes: number[]): boolean {
  return axes.length === 2 && axes.includes(1) && axes.includes(2);
}

function padAttr(pads: number[] | 'SAME_UPPER') {
  return pads === 'SAME_UPPER' ? str('auto_pad', 'SAME_UPPER') : ints('pads', pads);
}
