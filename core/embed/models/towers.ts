/**
 * A registered model's towers on ONNX Runtime (issue 10's engine: the same providers, the device
 * read from the profiled first run, one session per process): the image tower as a Backbone the
 * embed worker runs, the text tower for text search and names, and `checkModel`, which opens each
 * graph, reads its inputs and outputs and runs it once, so a folder whose graphs the app cannot
 * feed is refused with one line before anything is stored.
 *
 * Runs in worker threads only (the embed worker, the model worker): the main thread and the HTTP
 * server never load ONNX Runtime.
 */
import path from 'node:path';
import type * as OrtModule from 'onnxruntime-node';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import type { Backbone } from '../backbone.js';
import { loadOrtBackbone, nodeRuntime, probeImages, type OrtIo } from '../onnx/ortBackbone.js';
import { importOrt } from '../onnx/ortEnv.js';
import type { ModelFolder } from './folder.js';
import { ModelFolderError, toTowerInput, type ImageTowerSpec, type ModelSpec, type TextTowerSpec } from './spec.js';
import { loadTokenizer, type TextTokenizer } from './tokenizer.js';

type Ort = typeof OrtModule;
type Meta = InferenceSession.ValueMetadata;

const shapeText = (m: Meta) => (m.isTensor ? `[${m.shape.join(', ')}]` : '(not a tensor)');
const dims = (m: Meta): ReadonlyArray<number | string> => (m.isTensor ? m.shape : []);

/** The output to read: a named embedding first, then any [batch, d] output, then a sequence's CLS token. */
function pickOutput(outputs: readonly Meta[], preferred: readonly string[]): { output: string; pooling: 'embedding' | 'cls' } | null {
  const tensors = outputs.filter((o) => o.isTensor && o.type === 'float32');
  for (const name of preferred) {
    const o = tensors.find((t) => t.name === name);
    if (o && (dims(o).length === 2 || dims(o).length === 0)) return { output: o.name, pooling: 'embedding' };
  }
  const flat = tensors.find((t) => dims(t).length === 2);
  if (flat) return { output: flat.name, pooling: 'embedding' };
  const seq = tensors.find((t) => dims(t).length === 3);
  return seq ? { output: seq.name, pooling: 'cls' } : null;
}

/** Rows of an output: [count, d] as it is, or the first token of [count, tokens, d]. */
function rowsOf(data: Float32Array, dimsOut: readonly number[], pooling: 'embedding' | 'cls', count: number): Float32Array {
  if (pooling === 'embedding') return data;
  const [, tokens, d] = dimsOut as [number, number, number];
  const out = new Float32Array(count * d);
  for (let i = 0; i < count; i++) out.set(data.subarray(i * tokens * d, i * tokens * d + d), i * d);
  return out;
}

async function open(ort: Ort, file: string, what: string): Promise<InferenceSession> {
  try {
    return await ort.InferenceSession.create(file, { executionProviders: ['cpu'], intraOpNumThreads: 1, logSeverityLevel: 3 });
  } catch (err) {
    throw new ModelFolderError(
      `${what} is not an ONNX model ONNX Runtime can load (${(err as Error).message.split('\n')[0]!.slice(0, 160)})`,
    );
  }
}

function imageIo(
  spec: Pick<ImageTowerSpec, 'input' | 'output' | 'pooling' | 'layout' | 'resizeTo' | 'cropTo' | 'rescale' | 'mean' | 'std'>,
): OrtIo {
  return {
    feed(ort, _session, pixels, count) {
      const c = spec.cropTo;
      const shape = spec.layout === 'nchw' ? [count, 3, c, c] : [count, c, c, 3];
      return { [spec.input]: new ort.Tensor('float32', toTowerInput(pixels, count, spec), shape) };
    },
    read(_session, out, count) {
      const t = out[spec.output]!;
      return rowsOf(t.data as Float32Array, t.dims as number[], spec.pooling, count);
    },
  };
}

async function checkImageTower(ort: Ort, m: ModelFolder): Promise<ImageTowerSpec> {
  const session = await open(ort, path.join(m.folder, m.imageFile), m.imageFile);
  try {
    const ins = session.inputMetadata;
    if (ins.some((i) => i.name === 'input_ids')) {
      throw new ModelFolderError(
        `${m.imageFile} takes both images and text (a combined CLIP graph): use the separate onnx/vision_model.onnx and onnx/text_model.onnx exports`,
      );
    }
    const img = ins.find((i) => i.isTensor && i.shape.length === 4) ?? ins[0];
    if (!img || !img.isTensor || img.shape.length !== 4) {
      throw new ModelFolderError(
        `${m.imageFile}: its input ${img ? `'${img.name}' has shape ${shapeText(img)}` : 'is missing'}: an image encoder takes [batch, 3, height, width]`,
      );
    }
    if (img.type !== 'float32')
      throw new ModelFolderError(
        `${m.imageFile}: its input '${img.name}' is ${img.type}, not float32 (use the full-precision or quantized export, not fp16)`,
      );
    const [, a, b, c] = img.shape;
    const layout = a === 3 || (typeof a === 'string' && c !== 3) ? 'nchw' : c === 3 ? 'nhwc' : null;
    if (layout === null)
      throw new ModelFolderError(
        `${m.imageFile}: its input '${img.name}' has shape ${shapeText(img)}: expected 3 colour channels ([batch, 3, height, width])`,
      );
    const [h, w] = layout === 'nchw' ? [b, c] : [a, b];
    for (const d of [h, w]) {
      if (typeof d === 'number' && d !== m.preprocessing.cropTo) {
        throw new ModelFolderError(
          `${m.imageFile} takes ${h}x${w} images but preprocessor_config.json makes ${m.preprocessing.cropTo}x${m.preprocessing.cropTo}`,
        );
      }
    }
    const picked = pickOutput(session.outputMetadata, ['image_embeds', 'pooler_output', 'embeddings', 'sentence_embedding']);
    if (!picked)
      throw new ModelFolderError(
        `${m.imageFile}: no float output of shape [batch, d] or [batch, tokens, d] (outputs: ${session.outputNames.join(', ')})`,
      );
    const spec: ImageTowerSpec = { file: m.imageFile, input: img.name, layout, ...picked, dim: 0, ...m.preprocessing };
    delete (spec as { notes?: unknown }).notes;
    // One run on two probe images: the graph runs as fed, and gives the embedding's size.
    const io = imageIo(spec);
    let out;
    try {
      out = await session.run(io.feed(ort, session, probeImages(spec.resizeTo), 2));
    } catch (err) {
      throw new ModelFolderError(
        `${m.imageFile} does not run on a ${spec.cropTo}x${spec.cropTo} image (${(err as Error).message.split('\n')[0]!.slice(0, 160)})`,
      );
    }
    const t = out[spec.output]!;
    const rows = io.read(session, out, 2);
    const dim = rows.length / 2;
    if (!Number.isInteger(dim) || dim < 2 || t.dims[0] !== 2)
      throw new ModelFolderError(`${m.imageFile}: its output '${spec.output}' has shape [${t.dims.join(', ')}] for 2 images`);
    if (!rows.every(Number.isFinite))
      throw new ModelFolderError(`${m.imageFile} gives values that are not numbers (NaN or infinite) on a test image`);
    return { ...spec, dim };
  } finally {
    await session.release();
  }
}

/** Token ids (and mask) for `texts`, padded to the longest (or to the model's fixed length). */
export function textFeeds(ort: Ort, spec: TextTowerSpec, tokenizer: TextTokenizer, texts: readonly string[]): Record<string, Tensor> {
  const encoded = texts.map((t) => tokenizer.encode(t));
  const len = spec.sequenceLength ?? Math.max(1, ...encoded.map((e) => e.length));
  const ids = new Array<number>(texts.length * len).fill(spec.padId);
  const mask = new Array<number>(texts.length * len).fill(0);
  encoded.forEach((e, i) => {
    const n = Math.min(len, e.length);
    for (let k = 0; k < n; k++) {
      ids[i * len + k] = e[k]!;
      mask[i * len + k] = 1;
    }
    // Cut short: the last token is the end token, which CLIP's pooling reads.
    if (e.length > len) ids[i * len + len - 1] = e[e.length - 1]!;
  });
  const tensor = (v: number[]) =>
    spec.idType === 'int64'
      ? new ort.Tensor('int64', BigInt64Array.from(v, BigInt), [texts.length, len])
      : new ort.Tensor('int32', Int32Array.from(v), [texts.length, len]);
  const feeds: Record<string, Tensor> = { [spec.inputIds]: tensor(ids) };
  if (spec.attentionMask) feeds[spec.attentionMask] = tensor(mask);
  return feeds;
}

async function checkTextTower(ort: Ort, m: ModelFolder, imageDim: number): Promise<TextTowerSpec> {
  const file = m.textFile!;
  const tokenizer = loadTokenizer(m.folder, m.tokenizer!, m.tokenizerConfig);
  const session = await open(ort, path.join(m.folder, file), file);
  try {
    const ins = session.inputMetadata;
    const ids = ins.find((i) => i.name === 'input_ids') ?? ins.find((i) => i.isTensor && (i.type === 'int64' || i.type === 'int32'));
    if (!ids || !ids.isTensor || (ids.type !== 'int64' && ids.type !== 'int32') || ids.shape.length !== 2) {
      throw new ModelFolderError(
        `${file}: no token input ([batch, sequence] int64, e.g. input_ids; inputs: ${ins.map((i) => `${i.name} ${shapeText(i)}`).join(', ')})`,
      );
    }
    const mask = ins.find((i) => i.name === 'attention_mask');
    const others = ins.filter((i) => i !== ids && i !== mask);
    if (others.length)
      throw new ModelFolderError(
        `${file} also needs ${others.map((o) => o.name).join(', ')}: only input_ids and attention_mask can be given`,
      );
    const picked = pickOutput(session.outputMetadata, ['text_embeds', 'pooler_output', 'sentence_embedding', 'embeddings']);
    if (!picked) throw new ModelFolderError(`${file}: no float output of shape [batch, d] (outputs: ${session.outputNames.join(', ')})`);
    const fixed = typeof ids.shape[1] === 'number' ? ids.shape[1] : null;
    const spec: TextTowerSpec = {
      file,
      inputIds: ids.name,
      attentionMask: mask?.name ?? null,
      idType: ids.type,
      ...picked,
      sequenceLength: fixed,
      padId: tokenizer.padId,
      tokenizer: m.tokenizer!,
      tokenizerConfig: m.tokenizerConfig,
    };
    let out;
    try {
      out = await session.run(textFeeds(ort, spec, tokenizer, ['a photo of a dog', 'a photo']));
    } catch (err) {
      throw new ModelFolderError(`${file} does not run on tokenized text (${(err as Error).message.split('\n')[0]!.slice(0, 160)})`);
    }
    const t = out[spec.output]!;
    const rows = rowsOf(t.data as Float32Array, t.dims as number[], spec.pooling, 2);
    if (rows.length / 2 !== imageDim) {
      throw new ModelFolderError(
        `${file} gives ${rows.length / 2}-d embeddings and ${m.imageFile} ${imageDim}-d: the two towers must share one space (a CLIP-like pair)`,
      );
    }
    return spec;
  } finally {
    await session.release();
  }
}

/** The checked spec of a folder: both towers opened, fed and run once. */
export async function checkModel(m: ModelFolder): Promise<ModelSpec> {
  const ort = await importOrt();
  ort.env.logLevel = 'fatal';
  const image = await checkImageTower(ort, m);
  const text = m.textFile ? await checkTextTower(ort, m, image.dim) : null;
  return { id: m.id, name: m.name, folder: m.folder, modelType: m.modelType, image, text, bytes: m.bytes };
}

/** The image tower as the embed worker's Backbone: issue 10's provider chain, on the model's own input. */
export async function loadModelBackbone(spec: ModelSpec): Promise<Backbone> {
  const ort = await loadOrtBackbone({
    model: path.join(spec.folder, spec.image.file),
    inputSize: spec.image.resizeTo,
    runtime: await nodeRuntime(imageIo(spec.image)),
  });
  return {
    id: spec.id,
    dim: spec.image.dim,
    inputSize: spec.image.resizeTo,
    engine: ort.engine,
    embed: (pixels, count) => ort.embed(pixels, count),
    dispose: () => ort.dispose(),
  };
}

/** Rows of text embeddings per batch: a few hundred prompts at once are a few hundred KB of ids. */
const TEXT_BATCH = 64;

export interface TextTower {
  encode(texts: readonly string[]): Promise<Float32Array>;
  release(): Promise<void>;
}

/** The text tower (CPU; a query is one short run). */
export async function loadTextTower(spec: ModelSpec): Promise<TextTower> {
  if (!spec.text) throw new Error(`${spec.name} has no text encoder`);
  const text = spec.text;
  const ort = await importOrt();
  ort.env.logLevel = 'fatal';
  const tokenizer = loadTokenizer(spec.folder, text.tokenizer, text.tokenizerConfig);
  const session = await ort.InferenceSession.create(path.join(spec.folder, text.file), {
    executionProviders: ['cpu'],
    logSeverityLevel: 3,
  });
  return {
    async encode(texts) {
      const d = spec.image.dim;
      const out = new Float32Array(texts.length * d);
      for (let s = 0; s < texts.length; s += TEXT_BATCH) {
        const part = texts.slice(s, s + TEXT_BATCH);
        const r = await session.run(textFeeds(ort, text, tokenizer, part));
        const t = r[text.output]!;
        out.set(rowsOf(t.data as Float32Array, t.dims as number[], text.pooling, part.length), s * d);
      }
      return out;
    },
    release: () => session.release(),
  };
}
