/**
 * An ONNX graph being written by the tfjs converter (./convert.ts): nodes, initializers, inputs
 * and outputs under names unique in the graph, and the ModelProto they make, written with
 * `onnx-proto` (the ONNX schema compiled for protobufjs).
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** ONNX opset: Squeeze takes its axes as an input and Clip its bounds from 13 on. */
export const OPSET = 13;

export class OnnxGraphWriter {
  readonly nodes: onnxProto.onnx.INodeProto[] = [];
  readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private counter = 0;
  private readonly shared = new Map<string, string>();

  /** `base`, or `base__N` where `base` is taken: a name no other value or node has. */
  fresh(base: string): string {
    let name = base;
    while (this.used.has(name)) name = `${base}__${++this.counter}`;
    this.used.add(name);
    return name;
  }

  /** Appends a node with one output, `outName`, and returns that name. */
  addNode(opType: string, ins: string[], outName: string, attrs: onnxProto.onnx.IAttributeProto[] = []): string {
    this.nodes.push({ opType, input: ins, output: [outName], name: this.fresh(`${outName}#${opType}`), attribute: attrs });
    return outName;
  }

  addFloat(base: string, dims: number[], values: Float32Array): string {
    const name = this.fresh(base);
    this.initializers.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytesOf(values) });
    return name;
  }

  addInt64(base: string, values: number[]): string {
    const name = this.fresh(base);
    this.initializers.push({
      name,
      dims: [values.length],
      dataType: onnx.TensorProto.DataType.INT64,
      rawData: bytesOf(BigInt64Array.from(values, BigInt)),
    });
    return name;
  }

  /** A float scalar initializer, one per value however often it is used. */
  scalar(v: number): string {
    const key = `scalar:${v}`;
    if (!this.shared.has(key)) this.shared.set(key, this.addFloat(`const_${v}`, [], Float32Array.of(v)));
    return this.shared.get(key)!;
  }

  /** The ModelProto's bytes. */
  encode(producerVersion: string): Uint8Array {
    const proto = onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: 'constellate tfjs-to-onnx',
      producerVersion,
      graph: { name: 'converted', node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    });
    return onnx.ModelProto.encode(proto).finish();
  }
}

function bytesOf(a: Float32Array | BigInt64Array): Uint8Array {
  // ONNX raw data is little-endian, as are all the platforms the app ships for.
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export function ints(name: string, values: number[]): onnxProto.onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: values };
}

export function int(name: string, value: number): onnxProto.onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
}

export function str(name: string, value: string): onnxProto.onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(value) };
}

/** A float tensor's name and shape; unknown dimensions get symbolic names (the first `batchDim`). */
export function valueInfo(name: string, shape: number[], batchDim: string): onnxProto.onnx.IValueInfoProto {
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
