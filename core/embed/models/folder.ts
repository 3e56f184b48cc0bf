/**
 * What a model folder holds, read without loading any runtime: its ONNX files by the names the
 * Hugging Face / transformers.js exports use, its preprocessing, its tokenizer, a name and an id.
 * Everything the user could have got wrong is said in one line (ModelFolderError): the ONNX
 * Runtime checks of the graphs themselves come after, in the model worker (towers.ts).
 *
 * Layouts read (first match wins):
 * - image encoder: onnx/vision_model.onnx (CLIP, SigLIP), onnx/image_encoder.onnx, onnx/model.onnx
 *   (DINOv2, ViT), or the same names at the top of the folder; a `_quantized`, `_int8` or
 *   `_uint8` variant where the full-precision file is absent;
 * - text encoder (CLIP-like): onnx/text_model.onnx (or text_encoder.onnx), with tokenizer.json;
 * - preprocessor_config.json (size, crop, mean, std, rescale); config.json for the name (optional).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ModelFolderError, parsePreprocessing, type Preprocessing } from './spec.js';

const VARIANTS = ['', '_quantized', '_int8', '_uint8'];
const IMAGE_NAMES = ['vision_model', 'image_encoder', 'model'];
const TEXT_NAMES = ['text_model', 'text_encoder'];

export interface ModelFolder {
  folder: string;
  name: string;
  modelType: string | null;
  imageFile: string;
  textFile: string | null;
  tokenizer: string | null;
  tokenizerConfig: string | null;
  preprocessing: Preprocessing;
  /** `<name>@<12 hex of the files' sha256>` */
  id: string;
  bytes: number;
}

function find(folder: string, names: readonly string[]): string | null {
  for (const dir of ['onnx', '.'])
    for (const name of names)
      for (const v of VARIANTS) {
        const rel = path.posix.join(dir === '.' ? '' : dir, `${name}${v}.onnx`);
        if (statSync(path.join(folder, rel), { throwIfNoEntry: false })?.isFile()) return rel;
      }
  return null;
}

function onnxFiles(folder: string): string[] {
  const out: string[] = [];
  for (const dir of ['.', 'onnx']) {
    try {
      for (const f of readdirSync(path.join(folder, dir))) if (f.endsWith('.onnx')) out.push(path.posix.join(dir === '.' ? '' : dir, f));
    } catch {
      // no such folder
    }
  }
  return out;
}

function readJson(folder: string, rel: string): unknown {
  const text = readFileSync(path.join(folder, rel), 'utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ModelFolderError(`${rel} is not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
}

/** A name for the model: config.json's `_name_or_path` (e.g. Xenova/clip-vit-base-patch32), else the folder's. */
function nameOf(folder: string, config: Record<string, unknown> | null): string {
  const n = typeof config?._name_or_path === 'string' && config._name_or_path.trim() ? config._name_or_path.trim() : path.basename(folder);
  return (
    n
      .split('/')
      .pop()!
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .slice(0, 60) || 'model'
  );
}

/** Reads a folder's layout. Throws ModelFolderError with what is missing. */
export function readModelFolder(input: string): Omit<ModelFolder, 'id'> {
  const folder = path.resolve(input);
  const st = statSync(folder, { throwIfNoEntry: false });
  if (!st) throw new ModelFolderError(`no such folder: ${input}`);
  if (!st.isDirectory())
    throw new ModelFolderError(`not a folder: ${input} (a model is a folder with an ONNX file and preprocessor_config.json)`);
  const imageFile = find(folder, IMAGE_NAMES);
  const textFile = find(folder, TEXT_NAMES);
  if (!imageFile) {
    if (textFile)
      throw new ModelFolderError(
        `${input} holds only a text encoder (${textFile}): an image encoder (onnx/vision_model.onnx or onnx/model.onnx) is needed`,
      );
    const others = onnxFiles(folder);
    if (others.length)
      throw new ModelFolderError(
        `no image encoder in ${input}: found ${others.join(', ')}, expected onnx/vision_model.onnx (CLIP, SigLIP) or onnx/model.onnx (DINOv2)`,
      );
    throw new ModelFolderError(`no ONNX file in ${input}: expected onnx/vision_model.onnx (CLIP, SigLIP) or onnx/model.onnx (DINOv2)`);
  }
  if (!existsSync(path.join(folder, 'preprocessor_config.json'))) {
    throw new ModelFolderError(`no preprocessor_config.json in ${input}: the image size, mean and std the model expects are unknown`);
  }
  const preprocessing = parsePreprocessing(readJson(folder, 'preprocessor_config.json'));
  let tokenizer: string | null = null;
  let tokenizerConfig: string | null = null;
  if (textFile) {
    if (!existsSync(path.join(folder, 'tokenizer.json'))) {
      throw new ModelFolderError(
        `${input} has a text encoder (${textFile}) but no tokenizer.json: text search needs both (or remove ${textFile} to use the images only)`,
      );
    }
    tokenizer = 'tokenizer.json';
    tokenizerConfig = existsSync(path.join(folder, 'tokenizer_config.json')) ? 'tokenizer_config.json' : null;
  }
  const config = existsSync(path.join(folder, 'config.json')) ? (readJson(folder, 'config.json') as Record<string, unknown>) : null;
  const files = [imageFile, textFile, tokenizer].filter((f): f is string => f !== null);
  return {
    folder,
    name: nameOf(folder, config),
    modelType: typeof config?.model_type === 'string' ? config.model_type : null,
    imageFile,
    textFile,
    tokenizer,
    tokenizerConfig,
    preprocessing,
    bytes: files.reduce((n, f) => n + statSync(path.join(folder, f)).size, 0),
  };
}

/** sha256 over the files that make the features (graphs, preprocessing, tokenizer), streamed. */
export async function modelFolderHash(m: Omit<ModelFolder, 'id'>): Promise<string> {
  const h = createHash('sha256');
  const files = [m.imageFile, 'preprocessor_config.json', m.textFile, m.tokenizer].filter((f): f is string => f !== null);
  for (const f of files) {
    h.update(`${f}\n`);
    for await (const chunk of createReadStream(path.join(m.folder, f))) h.update(chunk as Buffer);
  }
  return h.digest('hex');
}

export async function inspectModelFolder(input: string): Promise<ModelFolder> {
  const m = readModelFolder(input);
  return { ...m, id: `${m.name}@${(await modelFolderHash(m)).slice(0, 12)}` };
}
