/**
 * A registered image encoder ("a model is a folder"): where its files are and how to feed it,
 * all plain data, so it travels to the embed and text workers as it is. The bundled MobileNetV2
 * has no spec (null): it is the default and needs no folder.
 */

export interface ImageTowerSpec {
  /** The ONNX file, relative to the folder. */
  file: string;
  /** The image input's name and layout ('nchw': [batch, 3, h, w], the Hugging Face exports; 'nhwc': [batch, h, w, 3]). */
  input: string;
  layout: 'nchw' | 'nhwc';
  /** The output read, and how: a [batch, d] embedding, or a [batch, tokens, d] sequence whose first (CLS) token is taken. */
  output: string;
  pooling: 'embedding' | 'cls';
  dim: number;
  /**
   * The decoder's square model input: the image's short side resized to `resizeTo`, its centre
   * cut out (the app's decode, core/images/decode.ts), then its centre `cropTo` x `cropTo`
   * (Hugging Face's resize shortest_edge, then center crop).
   */
  resizeTo: number;
  cropTo: number;
  /** pixel (0-255) * rescale, then (x - mean) / std per channel (RGB). */
  rescale: number;
  mean: [number, number, number];
  std: [number, number, number];
}

export interface TextTowerSpec {
  file: string;
  /** Input names: token ids (int64 or int32) and, where the model takes one, the attention mask. */
  inputIds: string;
  attentionMask: string | null;
  idType: 'int64' | 'int32';
  output: string;
  pooling: 'embedding' | 'cls';
  /** A fixed sequence length the model was exported with (SigLIP: 64), else null: padded to the longest. */
  sequenceLength: number | null;
  padId: number;
  /** tokenizer.json, and tokenizer_config.json where there is one (relative to the folder). */
  tokenizer: string;
  tokenizerConfig: string | null;
}

export interface ModelSpec {
  /** Stored with every embedding: the name and a hash of the files, so a changed file is another model. */
  id: string;
  name: string;
  /** The folder, absolute. */
  folder: string;
  /** From config.json where there is one (clip, siglip, dinov2, ...). */
  modelType: string | null;
  image: ImageTowerSpec;
  /** CLIP-like models: text search and suggested names. */
  text: TextTowerSpec | null;
  /** Bytes of the ONNX files and the tokenizer. */
  bytes: number;
}

/** A folder that is not a usable model: `message` is the one line the user sees (what is missing). */
export class ModelFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFolderError';
  }
}

/** What a tower needs from preprocessor_config.json. */
export interface Preprocessing {
  resizeTo: number;
  cropTo: number;
  rescale: number;
  mean: [number, number, number];
  std: [number, number, number];
  /** What was approximated, for the user (a squash resize read as a centre crop). */
  notes: string[];
}

const side = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 2048 ? v : null);

/** The side of a `size` / `crop_size` entry: a number, {shortest_edge}, or {height, width}. */
function sideOf(v: unknown, notes: string[], what: string): number | null {
  if (typeof v === 'number') return side(v);
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  if (o.shortest_edge !== undefined) return side(o.shortest_edge);
  const h = side(o.height);
  const w = side(o.width);
  if (h === null || w === null) return null;
  if (h !== w) notes.push(`${what} ${h}x${w} is read as a square of ${Math.min(h, w)}`);
  return Math.min(h, w);
}

const triple = (v: unknown): [number, number, number] | null =>
  Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x)) ? [v[0], v[1], v[2]] : null;

/**
 * Reads preprocessor_config.json (transformers.js / Hugging Face image processors: CLIP, SigLIP,
 * DINOv2's BitImageProcessor, ViT). Throws ModelFolderError naming the entry that is missing.
 */
export function parsePreprocessing(json: unknown, file = 'preprocessor_config.json'): Preprocessing {
  if (!json || typeof json !== 'object') throw new ModelFolderError(`${file} is not a JSON object`);
  const c = json as Record<string, unknown>;
  const notes: string[] = [];
  const resize = sideOf(c.size, notes, 'size');
  const crop = c.do_center_crop === false ? null : sideOf(c.crop_size, notes, 'crop_size');
  const resizeTo = resize ?? crop;
  if (resizeTo === null) throw new ModelFolderError(`${file} gives no image size (its "size" or "crop_size")`);
  const cropTo = crop ?? resizeTo;
  if (cropTo > resizeTo) throw new ModelFolderError(`${file} crops ${cropTo} px from an image resized to ${resizeTo} px`);
  const normalize = c.do_normalize !== false;
  const mean = normalize ? triple(c.image_mean) : [0, 0, 0];
  const std = normalize ? triple(c.image_std) : [1, 1, 1];
  if (!mean || !std) throw new ModelFolderError(`${file} has no image_mean and image_std (three numbers each)`);
  if (std.some((s) => s <= 0)) throw new ModelFolderError(`${file}: image_std must be positive`);
  const rescale = c.do_rescale === false ? 1 : typeof c.rescale_factor === 'number' && c.rescale_factor > 0 ? c.rescale_factor : 1 / 255;
  return { resizeTo, cropTo, rescale, mean: mean as [number, number, number], std: std as [number, number, number], notes };
}

/**
 * Model input rows as the decoder makes them ([0, 1] RGB, HWC, `resizeTo` square), as the image
 * tower takes them: the centre `cropTo` square, `pixel * 255 * rescale`, normalised per channel,
 * in the tower's layout. `out` holds count x 3 x cropTo x cropTo floats.
 */
export function toTowerInput(
  rows: Float32Array,
  count: number,
  spec: Pick<ImageTowerSpec, 'resizeTo' | 'cropTo' | 'rescale' | 'mean' | 'std' | 'layout'>,
  out?: Float32Array,
): Float32Array {
  const r = spec.resizeTo;
  const c = spec.cropTo;
  const plane = r * r * 3;
  if (rows.length !== count * plane) throw new Error(`expected ${count} rows of ${r}x${r}x3, got ${rows.length} values`);
  const dst = out ?? new Float32Array(count * c * c * 3);
  const off = Math.floor((r - c) / 2);
  const scale = 255 * spec.rescale;
  const a = [0, 1, 2].map((k) => scale / spec.std[k]!);
  const b = [0, 1, 2].map((k) => -spec.mean[k]! / spec.std[k]!);
  const area = c * c;
  for (let n = 0; n < count; n++) {
    const src = n * plane;
    const base = n * area * 3;
    for (let y = 0; y < c; y++) {
      for (let x = 0; x < c; x++) {
        const s = src + ((y + off) * r + (x + off)) * 3;
        for (let k = 0; k < 3; k++) {
          const v = rows[s + k]! * a[k]! + b[k]!;
          if (spec.layout === 'nchw') dst[base + k * area + y * c + x] = v;
          else dst[base + (y * c + x) * 3 + k] = v;
        }
      }
    }
  }
  return dst;
}
