/**
 * An 8-bit copy of a converted backbone (./convert.ts) in ONNX's QDQ form, for the augmented views
 * on ONNX Runtime's CPU provider: every Conv's weights per output channel as int8 (symmetric), its
 * bias as int32, and the activations each Conv and Add read as uint8 through a
 * QuantizeLinear -> DequantizeLinear pair. ONNX Runtime's graph optimiser fuses these into
 * QLinearConv / QLinearAdd (the layout the static quantizer of onnxruntime.quantization writes; a
 * Clip(0, 6) before a uint8 QuantizeLinear of scale 6/255 is folded into it).
 *
 * Activation ranges: a ReLU6 output is [0, 6] by construction; every other quantized tensor (the
 * input after scaling, the linear bottlenecks and the residual sums) takes its range from a table
 * measured on images (./int8Calibration.ts), keyed by the tensor's name. A name the table does
 * not know is an error: the graph is not the one the table was measured on.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;
const DataType = onnx.TensorProto.DataType;

/** The activation tensors a QDQ copy quantizes: the data inputs of Conv and Add that are not initializers. */
export function quantizedActivations(model: Uint8Array): { relu6: string[]; measured: string[] } {
  const graph = onnx.ModelProto.decode(model).graph!;
  const initializers = new Set(graph.initializer!.map((t) => t.name!));
  const producer = new Map<string, NodeProto>();
  for (const n of graph.node!) for (const o of n.output!) producer.set(o, n);
  const relu6: string[] = [];
  const measured: string[] = [];
  const seen = new Set<string>();
  for (const n of graph.node!) {
    if (n.opType !== 'Conv' && n.opType !== 'Add') continue;
    for (const x of n.opType === 'Conv' ? [n.input![0]!] : n.input!) {
      if (initializers.has(x) || seen.has(x)) continue;
      seen.add(x);
      (isRelu6(producer.get(x), graph.initializer!) ? relu6 : measured).push(x);
    }
  }
  return { relu6, measured };
}

/** A Clip whose bounds are the constants 0 and 6. */
function isRelu6(node: NodeProto | undefined, initializers: TensorProto[]): boolean {
  if (node?.opType !== 'Clip' || node.input!.length !== 3) return false;
  const value = (name: string): number | null => {
    const t = initializers.find((i) => i.name === name);
    return t?.rawData?.byteLength === 4 ? new DataView(t.rawData.buffer, t.rawData.byteOffset, 4).getFloat32(0, true) : null;
  };
  return value(node.input![1]!) === 0 && value(node.input![2]!) === 6;
}

/** uint8 scale and zero point of a [lo, hi] range (widened to hold 0, which must be exact). */
export function uint8Params(lo: number, hi: number): { scale: number; zeroPoint: number } {
  const a = Math.min(0, lo);
  const b = Math.max(0, hi);
  const scale = b > a ? (b - a) / 255 : 1;
  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-a / scale))) };
}

/**
 * The QDQ copy of `model`. `ranges` maps each measured activation (quantizedActivations) to the
 * [min, max] seen on calibration images; `nameOf` turns a graph's tensor name into the table's key.
 */
export function quantizeQdq(
  model: Uint8Array,
  ranges: Readonly<Record<string, readonly [number, number]>>,
  nameOf: (tensor: string) => string = (t) => t,
): Uint8Array {
  const proto = onnx.ModelProto.decode(model);
  const graph = proto.graph!;
  const init = new Map(graph.initializer!.map((t) => [t.name!, t]));
  const { relu6, measured } = quantizedActivations(model);
  const params = new Map<string, { scale: number; zeroPoint: number }>();
  for (const x of relu6) params.set(x, { scale: 6 / 255, zeroPoint: 0 });
  for (const x of measured) {
    const r = ranges[nameOf(x)];
    if (!r) throw new Error(`no calibrated range for ${nameOf(x)}`);
    params.set(x, uint8Params(r[0], r[1]));
  }

  const added: TensorProto[] = [];
  const replaced = new Set<string>();
  const tensor = (name: string, dataType: number, dims: number[], bytes: Uint8Array): string => {
    added.push({ name, dataType, dims, rawData: bytes });
    return name;
  };
  const bytes = (a: Float32Array | Int8Array | Int32Array | Uint8Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const axis0 = [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }];
  const nodes: NodeProto[] = [];
  const dequantized = new Map<string, string>();

  for (const n of graph.node!) {
    const ins = n.input!.map((x) => dequantized.get(x) ?? x);
    const xParams = n.opType === 'Conv' ? params.get(n.input![0]!) : undefined;
    if (xParams) {
      const w = init.get(n.input![1]!);
      if (!w) throw new Error(`Conv ${n.name}: its weights are not a constant`);
      const wv = floats(w);
      const outChannels = Number(w.dims![0]);
      const per = wv.length / outChannels;
      const scales = new Float32Array(outChannels);
      const q = new Int8Array(wv.length);
      for (let c = 0; c < outChannels; c++) {
        let max = 0;
        for (let i = c * per; i < (c + 1) * per; i++) max = Math.max(max, Math.abs(wv[i]!));
        scales[c] = max > 0 ? max / 127 : 1;
        for (let i = c * per; i < (c + 1) * per; i++) q[i] = Math.round(wv[i]! / scales[c]!);
      }
      const wq = tensor(`${w.name}_int8`, DataType.INT8, w.dims!.map(Number), bytes(q));
      const ws = tensor(`${w.name}_int8_scale`, DataType.FLOAT, [outChannels], bytes(scales));
      const wz = tensor(`${w.name}_int8_zero`, DataType.INT8, [outChannels], new Uint8Array(outChannels));
      ins[1] = dequantize(nodes, wq, ws, wz, axis0);
      replaced.add(w.name!);
      const b = n.input![2] ? init.get(n.input![2]) : undefined;
      if (b) {
        // int32 bias at the scale of input x weight, as QLinearConv adds it to the int32 sums
        const bs = Float32Array.from(scales, (s) => s * xParams.scale);
        const bq = Int32Array.from(floats(b), (v, c) => Math.round(v / bs[c]!));
        const bqName = tensor(`${b.name}_int32`, DataType.INT32, b.dims!.map(Number), bytes(bq));
        const bsName = tensor(`${b.name}_int32_scale`, DataType.FLOAT, [outChannels], bytes(bs));
        const bzName = tensor(`${b.name}_int32_zero`, DataType.INT32, [outChannels], new Uint8Array(outChannels * 4));
        ins[2] = dequantize(nodes, bqName, bsName, bzName, axis0);
        replaced.add(b.name!);
      }
    }
    nodes.push({ ...n, input: ins });
    for (const out of n.output!) {
      const p = params.get(out);
      if (!p) continue;
      const s = tensor(`${out}_scale`, DataType.FLOAT, [], bytes(Float32Array.of(p.scale)));
      const z = tensor(`${out}_zero`, DataType.UINT8, [], Uint8Array.of(p.zeroPoint));
      nodes.push({ opType: 'QuantizeLinear', input: [out, s, z], output: [`${out}_q`], name: `${out}_Q` });
      dequantized.set(out, dequantize(nodes, `${out}_q`, s, z));
    }
  }
  graph.node = nodes;
  // the float weights and biases now quantized, unless another node still reads them
  const read = new Set(nodes.flatMap((n) => n.input!));
  graph.initializer = [...graph.initializer!.filter((t) => !replaced.has(t.name!) || read.has(t.name!)), ...added];
  return onnx.ModelProto.encode(proto).finish();
}

function dequantize(nodes: NodeProto[], q: string, scale: string, zero: string, attribute: onnxProto.onnx.IAttributeProto[] = []): string {
  const out = `${q}_dq`;
  nodes.push({ opType: 'DequantizeLinear', input: [q, scale, zero], output: [out], name: `${q}_DQ`, attribute });
  return out;
}

function floats(t: TensorProto): Float32Array {
  if (t.dataType !== DataType.FLOAT || !t.rawData) throw new Error(`${t.name}: expected float32 raw data`);
  const raw = t.rawData;
  return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
}
