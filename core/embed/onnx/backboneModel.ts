/**
 * The bundled backbone as an ONNX model, made on this machine from the same nsfwjs weights the
 * tfjs engine loads (core/embed/onnx/convert.ts), never downloaded and never committed.
 *
 * The conversion takes ~0.1 s; its result (17 MB) is cached in the per-user cache folder
 * (`~/.cache/constellate/models` on Linux, `~/Library/Caches/constellate/models` on macOS,
 * `%LOCALAPPDATA%\constellate\Cache\models` on Windows; `CONSTELLATE_MODEL_CACHE` overrides), named
 * by a hash of the weights, the graph and the converter's version, so a new nsfwjs or converter
 * makes a new file. A cache that cannot be written (read-only home) is not an error: the model
 * is used from memory.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import envPaths from 'env-paths';
import { BACKBONE } from '../backboneInfo.js';
import { readBackboneArtifacts } from '../backboneFiles.js';
import { tfjsGraphToOnnx } from './convert.js';
import { INT8_RANGES } from './int8Ranges.js';
import { quantizeQdq } from './quantize.js';
import type { TfGraphModel, TfNode, WeightSpec } from './tfjsGraph.js';

/** Bump when the converter's output changes for the same graph. */
export const CONVERTER_VERSION = 1;

export function modelCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.CONSTELLATE_MODEL_CACHE || path.join(envPaths('constellate', { suffix: '' }).cache, 'models');
}

/** The backbone's tfjs graph, in the converter's terms. */
export function backboneGraph(): TfGraphModel {
  const art = readBackboneArtifacts();
  const topology = art.modelTopology as { node?: TfNode[] };
  if (!topology.node || !art.weightSpecs || !(art.weightData instanceof ArrayBuffer))
    throw new Error('the backbone model files are not a tfjs graph model');
  return { nodes: topology.node, weightSpecs: art.weightSpecs as WeightSpec[], weightData: art.weightData };
}

export interface BackboneOnnx {
  /** The model: a cached file's path, or the bytes where the cache could not be written. */
  source: string | Uint8Array;
  /** 'cache' (an earlier conversion), 'converted' (now, and cached), 'memory' (not cached: `cacheError` says why). */
  origin: 'cache' | 'converted' | 'memory';
  cacheError?: string;
}

/** The backbone's ONNX model from the cache, converting it first where it is not there. */
export function backboneOnnx(options: { cacheDir?: string } = {}): BackboneOnnx {
  const file = cacheFile(options.cacheDir, graphKey(), '');
  return cached(file, () =>
    tfjsGraphToOnnx(backboneGraph(), { outputs: [BACKBONE.outputNode], producerVersion: String(CONVERTER_VERSION) }),
  );
}

/** The float model's bytes (from the cache where it is there). */
export function backboneOnnxBytes(options: { cacheDir?: string } = {}): Uint8Array {
  const m = backboneOnnx(options);
  return typeof m.source === 'string' ? readFileSync(m.source) : m.source;
}

/** int8Ranges.ts's key for a tensor of the converted backbone: its name after the SavedModel's `predict/` prefix. */
export function calibrationKey(tensor: string): string {
  const at = tensor.lastIndexOf('/predict/');
  return at >= 0 ? tensor.slice(at + '/predict/'.length) : tensor;
}

/** Bump when quantize.ts writes another model from the same float model and ranges. */
export const QUANTIZER_VERSION = 1;

/**
 * The 8-bit copy of the backbone the views are embedded with on the CPU (quantize.ts, with the
 * ranges of int8Ranges.ts), cached beside the float model under a name that also hashes the
 * quantizer's version and the ranges.
 */
export function backboneOnnxInt8(options: { cacheDir?: string } = {}): BackboneOnnx {
  const key = createHash('sha256')
    .update(`${graphKey()} quantizer ${QUANTIZER_VERSION} ${JSON.stringify(INT8_RANGES)}`)
    .digest('hex')
    .slice(0, 16);
  return cached(cacheFile(options.cacheDir, key, '-int8'), () => quantizeQdq(backboneOnnxBytes(options), INT8_RANGES, calibrationKey));
}

let graphKeyOnce: string | null = null;

/**
 * The cache key of the bundled graph, its weights and the converter's version: read and hashed
 * once per process (the float model and its 8-bit copy are both named by it).
 */
function graphKey(): string {
  if (graphKeyOnce !== null) return graphKeyOnce;
  const graph = backboneGraph();
  return (graphKeyOnce = createHash('sha256')
    .update(`converter ${CONVERTER_VERSION}\noutput ${BACKBONE.outputNode}\n`)
    .update(JSON.stringify(graph.nodes))
    .update(JSON.stringify(graph.weightSpecs))
    .update(new Uint8Array(graph.weightData))
    .digest('hex')
    .slice(0, 16));
}

function cacheFile(cacheDir: string | undefined, key: string, suffix: string): string {
  return path.join(cacheDir ?? modelCacheDir(), `${BACKBONE.id.replace(/[^A-Za-z0-9._-]/g, '_')}-${key}${suffix}.onnx`);
}

function cached(file: string, make: () => Uint8Array): BackboneOnnx {
  // A file is renamed into place whole, never written in place: one that is there is complete.
  if (cachedSize(file) > 0) return { source: file, origin: 'cache' };
  const bytes = make();
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(tmp, bytes);
    renameSync(tmp, file);
    return { source: file, origin: 'converted' };
  } catch (err) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // never written: the folder itself is unusable
    }
    return { source: bytes, origin: 'memory', cacheError: (err as Error).message };
  }
}

function cachedSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0; // not there, or the cache folder is not usable: convert
  }
}
