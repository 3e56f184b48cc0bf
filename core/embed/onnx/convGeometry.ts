/**
 * Convolution and pooling geometry for the tfjs converter (./convert.ts): TensorFlow's strides,
 * dilations, padding and kernel layouts in ONNX's terms. TensorFlow's 'SAME' puts the odd pixel
 * at the end, as ONNX's SAME_UPPER does; it becomes explicit pads where the size is known.
 */
import { attrInts, attrString, type TfNode } from './tfjsGraph.js';

export function nhwcOnly(node: TfNode): void {
  const format = attrString(node, 'data_format') ?? 'NHWC';
  if (format !== 'NHWC') throw new Error(`node ${node.name}: data_format ${format} is not supported (NHWC only)`);
}

/** The [H, W] entries of an NHWC attribute such as strides or dilations (default 1). */
export function spatialPair(node: TfNode, key: string): [number, number] {
  const v = attrInts(node, key) ?? [1, 1, 1, 1];
  if (v.length !== 4 || v[0] !== 1 || v[3] !== 1) throw new Error(`node ${node.name}: unsupported ${key} [${v.join(', ')}]`);
  return [v[1]!, v[2]!];
}

/** ONNX pads [top, left, bottom, right] for TensorFlow's padding, or SAME_UPPER where the size is unknown. */
export function padsFor(
  node: TfNode,
  shape: number[],
  k: [number, number],
  s: [number, number],
  d: [number, number],
): number[] | 'SAME_UPPER' {
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

/** The NHWC output shape of a convolution or pooling; -1 where the input's size is unknown. */
export function outShape(
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
export function convToOnnx(w: Float32Array, kh: number, kw: number, ci: number, co: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++) out[((o * ci + i) * kh + y) * kw + x] = w[((y * kw + x) * ci + i) * co + o]!;
  return out;
}

/** Depthwise HW C M -> (C*M) 1 H W: TensorFlow's output channel c*M + m is ONNX's group c, member m. */
export function depthwiseToOnnx(w: Float32Array, kh: number, kw: number, c: number, m: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let ch = 0; ch < c; ch++)
        for (let j = 0; j < m; j++) out[((ch * m + j) * kh + y) * kw + x] = w[((y * kw + x) * c + ch) * m + j]!;
  return out;
}
