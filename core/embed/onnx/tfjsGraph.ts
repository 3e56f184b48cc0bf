/**
 * The parts of a TensorFlow.js graph model (`model.json` + weight shards) that the ONNX converter
 * reads: its nodes and attributes, and its weights decoded to Float32Array / Int32Array.
 *
 * Kept free of tfjs itself: the ONNX engine's worker converts without loading TensorFlow.js.
 * Dequantization follows tfjs's `io.decodeWeights` (value = q * scale + min, computed in double
 * and stored as float32), so both engines start from the same float weights; the converter's
 * tests check this against tfjs's own decoder.
 */

/** One NodeDef as the tfjs converter writes it (JSON form of TensorFlow's protobuf). */
export interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttr>;
}

export interface TfAttr {
  s?: string;
  i?: string | number;
  f?: number;
  b?: boolean;
  type?: string;
  list?: { s?: string[]; i?: Array<string | number>; f?: number[] };
  shape?: { dim?: Array<{ size: string | number }>; unknownRank?: boolean };
  tensor?: { dtype?: string; tensorShape?: { dim?: Array<{ size: string | number }> } };
}

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | string;
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; min?: number; scale?: number };
}

export interface TfGraphModel {
  nodes: TfNode[];
  weightSpecs: WeightSpec[];
  weightData: ArrayBuffer;
}

export interface DecodedWeight {
  shape: number[];
  dtype: 'float32' | 'int32';
  values: Float32Array | Int32Array;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2 };

/** Decodes every weight of the shards (concatenated in manifest order, as tfjs does). */
export function decodeWeights(specs: readonly WeightSpec[], data: ArrayBuffer): Map<string, DecodedWeight> {
  const out = new Map<string, DecodedWeight>();
  let offset = 0;
  for (const spec of specs) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const q = spec.quantization;
    const stored = q ? q.dtype : spec.dtype;
    const width = BYTES[stored];
    if (width === undefined) throw new Error(`weight ${spec.name}: unsupported storage type ${stored}`);
    const bytes = size * width;
    if (offset + bytes > data.byteLength)
      throw new Error(`weight ${spec.name}: the weight data ends at byte ${data.byteLength}, ${offset + bytes} needed`);
    const raw = data.slice(offset, offset + bytes);
    offset += bytes;
    if (spec.dtype !== 'float32' && spec.dtype !== 'int32') throw new Error(`weight ${spec.name}: unsupported dtype ${spec.dtype}`);
    let values: Float32Array | Int32Array;
    if (!q) values = spec.dtype === 'float32' ? new Float32Array(raw) : new Int32Array(raw);
    else if (q.dtype === 'float16') values = float16ToFloat32(new Uint16Array(raw));
    else {
      if (q.min === undefined || q.scale === undefined)
        throw new Error(`weight ${spec.name}: ${q.dtype} quantization without min and scale`);
      const ints = q.dtype === 'uint8' ? new Uint8Array(raw) : new Uint16Array(raw);
      const f = new Float32Array(size);
      for (let k = 0; k < size; k++) f[k] = ints[k]! * q.scale + q.min;
      values = spec.dtype === 'int32' ? Int32Array.from(f, Math.round) : f;
    }
    out.set(spec.name, { shape: [...spec.shape], dtype: spec.dtype, values });
  }
  if (offset !== data.byteLength) throw new Error(`the weight data has ${data.byteLength} bytes, the manifest describes ${offset}`);
  return out;
}

function float16ToFloat32(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  for (let k = 0; k < h.length; k++) {
    const x = h[k]!;
    const sign = x & 0x8000 ? -1 : 1;
    const exp = (x >> 10) & 0x1f;
    const frac = x & 0x3ff;
    if (exp === 0) out[k] = sign * 2 ** -14 * (frac / 1024);
    else if (exp === 31) out[k] = frac ? NaN : sign * Infinity;
    else out[k] = sign * 2 ** (exp - 15) * (1 + frac / 1024);
  }
  return out;
}

/** A string attribute (base64 in the JSON form), e.g. padding 'SAME'. */
export function attrString(node: TfNode, key: string): string | undefined {
  const s = node.attr?.[key]?.s;
  return s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8');
}

export function attrStrings(node: TfNode, key: string): string[] {
  return (node.attr?.[key]?.list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString('utf8'));
}

export function attrInts(node: TfNode, key: string): number[] | undefined {
  const l = node.attr?.[key]?.list?.i;
  return l ? l.map(Number) : undefined;
}

export function attrInt(node: TfNode, key: string): number | undefined {
  const i = node.attr?.[key]?.i;
  return i === undefined ? undefined : Number(i);
}

export function attrBool(node: TfNode, key: string): boolean | undefined {
  return node.attr?.[key]?.b;
}

export function attrFloat(node: TfNode, key: string): number | undefined {
  return node.attr?.[key]?.f;
}

/** The shape of a Placeholder (-1 for an unknown dimension). */
export function placeholderShape(node: TfNode): number[] | undefined {
  const dims = node.attr?.shape?.shape?.dim;
  return dims?.map((d) => Number(d.size));
}

/** A node input's producer: 'name', 'name:0' -> 'name'; control inputs ('^name') are dropped. */
export function dataInputs(node: TfNode): string[] {
  return (node.input ?? [])
    .filter((i) => !i.startsWith('^'))
    .map((i) => {
      const m = /^(.*):(\d+)$/.exec(i);
      if (m && m[2] !== '0') throw new Error(`node ${node.name}: input ${i} is a second output, which this converter does not handle`);
      return m ? m[1]! : i;
    });
}
