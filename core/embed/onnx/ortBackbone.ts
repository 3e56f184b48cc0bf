/**
 * The backbone on ONNX Runtime (`onnxruntime-node`): one session per process (several sessions in
 * worker threads crash, onnxruntime#24486), its intra-op threads on every core.
 *
 * Execution providers, fastest first, each only where the npm package carries it: CUDA (Linux
 * x64, with the CUDA provider's libraries installed), DirectML (Windows), CoreML (macOS), then
 * the CPU. A provider counts as bound only when ONNX Runtime reports running the graph's nodes on
 * it: the first forward pass is profiled and the device shown is the provider that ran the most
 * nodes. A GPU provider whose features differ from the CPU provider's beyond the tolerance the
 * engines share (cosine >= 0.9999 per image; fp16 or TF32 arithmetic would do that) is passed
 * over with that reason, so one library never mixes two feature spaces. On the CPU provider the
 * augmented views, which only feed training, run through an 8-bit copy of the model in a second
 * session in the same thread (OrtBackboneOptions.viewModel; docs/engines.md).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import type * as OrtModule from 'onnxruntime-node';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import type { EngineInfo } from '../engine.js';
import { backboneOnnx } from './backboneModel.js';
import { importOrt } from './ortEnv.js';

export type OrtProvider = 'cuda' | 'dml' | 'coreml' | 'cpu';

/** The name ONNX Runtime reports for each provider (profiles, logs). */
export const PROVIDER_NAME: Readonly<Record<OrtProvider, string>> = {
  cuda: 'CUDAExecutionProvider',
  dml: 'DmlExecutionProvider',
  coreml: 'CoreMLExecutionProvider',
  cpu: 'CPUExecutionProvider',
};

const PROVIDER_DEVICE: Readonly<Record<OrtProvider, string>> = {
  cuda: 'GPU (NVIDIA CUDA, ONNX Runtime)',
  dml: 'GPU (DirectML, ONNX Runtime)',
  coreml: 'CoreML (Apple GPU / Neural Engine as macOS schedules it, ONNX Runtime)',
  cpu: 'CPU (ONNX Runtime)',
};

/**
 * Rows per ONNX Runtime run: the pool's batch (8 images + 8 mirrors) runs as 4 runs of 4 rows.
 * Measured on the CPU provider (2 threads, MobileNetV2 x1.4): 10.5-10.8 ms of CPU per row at 4
 * rows, 11.2-12.6 at 8, 11.6-18.2 at 16 (a batch's activations outgrow the caches).
 */
export const ROWS_PER_RUN = 4;

/** Features of two engines are the same features at or above this cosine, per image. */
export const SAME_FEATURES_COSINE = 0.9999;

/** The providers the npm package carries for a platform, fastest first. */
export function providersFor(platform: NodeJS.Platform = process.platform, arch: string = process.arch): OrtProvider[] {
  const out: OrtProvider[] = [];
  if (platform === 'linux' && arch === 'x64') out.push('cuda');
  if (platform === 'win32') out.push('dml');
  if (platform === 'darwin') out.push('coreml');
  out.push('cpu');
  return out;
}

/** One session on one provider: what the chain needs from ONNX Runtime (tests inject others). */
export interface OrtSessionHandle {
  /** count images (NHWC, 224x224x3, [0,1]) -> count x dim features. */
  run(pixels: Float32Array, count: number): Promise<Float32Array>;
  /** Nodes per provider in the profiled first run (call after one run). */
  placement(): Record<string, number>;
  /** Nodes per operator type in the profiled first run, where the runtime tells (call after one run). */
  ops?(): Record<string, number>;
  release(): Promise<void>;
}

export interface OrtRuntime {
  open(model: string | Uint8Array, provider: OrtProvider, threads: number): Promise<OrtSessionHandle>;
}

export interface OrtBackboneOptions {
  providers?: readonly OrtProvider[];
  threads?: number;
  runtime?: OrtRuntime;
  model?: string | Uint8Array;
  inputSize?: number;
  /**
   * The 8-bit copy of the model for the augmented views (quantize.ts), made only where the CPU
   * provider is the one bound: GPU providers run the views with the float model.
   */
  viewModel?: () => string | Uint8Array;
}

/**
 * An 8-bit view model's features must stay this close to the float model's on the probe images
 * (8-bit rounding gives 0.99 on real images and their views; a CPU whose 8-bit products saturate
 * would give far less), or the views are embedded with the float model.
 */
export const INT8_VIEWS_MIN_COSINE = 0.97;

export interface OrtBackbone {
  engine: EngineInfo;
  embed(pixels: Float32Array, count: number): Promise<Float32Array>;
  /** The augmented views through the 8-bit model, where it was bound (OrtBackboneOptions.viewModel). */
  embedViews?(pixels: Float32Array, count: number): Promise<Float32Array>;
  dispose(): Promise<void>;
}

/** Thrown when no provider could be bound; `unavailable` says why for each. */
export class OrtUnavailableError extends Error {
  constructor(readonly unavailable: EngineInfo['unavailable']) {
    super(`ONNX Runtime could not run the backbone: ${unavailable.map((u) => `${u.choice}: ${u.reason}`).join('; ')}`);
  }
}

export async function loadOrtBackbone(options: OrtBackboneOptions = {}): Promise<OrtBackbone> {
  const runtime = options.runtime ?? (await nodeRuntime());
  const threads = options.threads ?? Math.max(1, availableParallelism());
  const size = options.inputSize ?? 224;
  const model = options.model ?? backboneOnnx().source;
  const probe = probeImages(size);
  const unavailable: EngineInfo['unavailable'] = [];
  let cpuReference: Float32Array | null = null;
  const reference = async (): Promise<Float32Array> => {
    if (!cpuReference) {
      const cpu = await runtime.open(model, 'cpu', threads);
      try {
        cpuReference = await cpu.run(probe, 2);
      } finally {
        await cpu.release();
      }
    }
    return cpuReference;
  };

  for (const provider of options.providers ?? providersFor()) {
    let session: OrtSessionHandle | null = null;
    try {
      session = await runtime.open(model, provider, threads);
      const features = await session.run(probe, 2);
      const placement = session.placement();
      const bound = boundProvider(placement);
      const ours = placement[PROVIDER_NAME[provider]] ?? 0;
      if (provider !== 'cpu') {
        if (ours === 0) throw new Error(`ONNX Runtime ran none of the graph's nodes on ${PROVIDER_NAME[provider]}`);
        const cos = minCosine(features, await reference(), 2);
        if (cos < SAME_FEATURES_COSINE)
          throw new Error(`its features differ from the CPU's (cosine ${cos.toFixed(6)} < ${SAME_FEATURES_COSINE})`);
      }
      const total = Object.values(placement).reduce((a, b) => a + b, 0);
      const kept = session;
      session = null;
      const views =
        provider === 'cpu' && options.viewModel
          ? await openViewSession(runtime, options.viewModel, threads, probe, features, unavailable)
          : null;
      return {
        engine: {
          choice: 'onnx',
          device: deviceLabel(provider, bound, ours, total, threads) + (views ? '; views in 8 bits' : ''),
          gpu: provider !== 'cpu' && bound === PROVIDER_NAME[provider],
          provider: bound,
          threads,
          parallelWorkers: false,
          ...(views ? { views: 'int8' as const } : {}),
          unavailable,
        },
        embed: (pixels, count) => runInChunks(kept, pixels, count),
        ...(views ? { embedViews: (pixels: Float32Array, count: number) => runInChunks(views, pixels, count) } : {}),
        dispose: async () => {
          await kept.release();
          await views?.release();
        },
      };
    } catch (err) {
      unavailable.push({ choice: `onnx/${provider}`, reason: ortReason(err) });
      await session?.release().catch(() => undefined);
    }
  }
  throw new OrtUnavailableError(unavailable);
}

/**
 * The 8-bit view model's session, or null (with the reason in `unavailable`) where it does not
 * load, ONNX Runtime did not fuse its 8-bit convolutions (then it would run slower than the float
 * model), or its features stray from the float model's (INT8_VIEWS_MIN_COSINE).
 */
async function openViewSession(
  runtime: OrtRuntime,
  make: () => string | Uint8Array,
  threads: number,
  probe: Float32Array,
  reference: Float32Array,
  unavailable: EngineInfo['unavailable'],
): Promise<OrtSessionHandle | null> {
  let session: OrtSessionHandle | null = null;
  try {
    session = await runtime.open(make(), 'cpu', threads);
    const features = await session.run(probe, 2);
    const ops = session.ops?.();
    if (ops && !ops.QLinearConv)
      throw new Error('ONNX Runtime did not fuse its 8-bit convolutions, so they would run slower than the float ones');
    const cos = minCosine(features, reference, 2);
    if (cos < INT8_VIEWS_MIN_COSINE)
      throw new Error(`its features stray from the float model's (cosine ${cos.toFixed(4)} < ${INT8_VIEWS_MIN_COSINE})`);
    return session;
  } catch (err) {
    unavailable.push({ choice: 'onnx/cpu 8-bit views', reason: ortReason(err) });
    await session?.release().catch(() => undefined);
    return null;
  }
}

async function runInChunks(session: OrtSessionHandle, pixels: Float32Array, count: number): Promise<Float32Array> {
  if (count <= ROWS_PER_RUN) return session.run(pixels, count);
  const per = pixels.length / count;
  let out: Float32Array | null = null;
  for (let start = 0; start < count; start += ROWS_PER_RUN) {
    const rows = Math.min(ROWS_PER_RUN, count - start);
    const part = await session.run(pixels.subarray(start * per, (start + rows) * per), rows);
    out ??= new Float32Array((part.length / rows) * count);
    out.set(part, (part.length / rows) * start);
  }
  return out!;
}

/** The provider that ran the most nodes. */
export function boundProvider(placement: Record<string, number>): string {
  let best = 'none';
  let most = -1;
  for (const [p, n] of Object.entries(placement)) if (n > most) [best, most] = [p, n];
  return best;
}

function deviceLabel(provider: OrtProvider, bound: string, ours: number, total: number, threads: number): string {
  if (provider === 'cpu') return `${PROVIDER_DEVICE.cpu.slice(0, -1)}, ${threads} ${threads === 1 ? 'thread' : 'threads'})`;
  const share = `${ours} of ${total} nodes on ${PROVIDER_NAME[provider]}`;
  if (bound !== PROVIDER_NAME[provider]) return `mostly CPU: ${share}, the rest on ${bound} (ONNX Runtime)`;
  return `${PROVIDER_DEVICE[provider]}; ${share}`;
}

/** The smallest cosine between corresponding rows of two count x d matrices. */
export function minCosine(a: Float32Array, b: Float32Array, count: number): number {
  const d = a.length / count;
  if (b.length !== a.length || !Number.isInteger(d)) throw new Error(`minCosine: ${a.length} vs ${b.length} values for ${count} rows`);
  let min = 1;
  for (let i = 0; i < count; i++) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let k = i * d; k < (i + 1) * d; k++) {
      ab += a[k]! * b[k]!;
      aa += a[k]! * a[k]!;
      bb += b[k]! * b[k]!;
    }
    const cos = aa === 0 && bb === 0 ? 1 : ab / Math.sqrt(aa * bb);
    if (cos < min) min = cos;
  }
  return min;
}

/** Two deterministic images (a pattern with edges and gradients, and its mirror) that every provider embeds once. */
export function probeImages(size: number): Float32Array {
  const out = new Float32Array(2 * size * size * 3);
  const plane = size * size * 3;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      for (let c = 0; c < 3; c++) {
        const v =
          0.5 + 0.35 * Math.sin(x * 0.07 * (c + 1) + y * 0.05) * Math.cos(y * 0.031 * (c + 2)) + (((x >> 4) + (y >> 4)) % 2) * 0.15 - 0.075;
        out[(y * size + x) * 3 + c] = v;
        out[plane + (y * size + (size - 1 - x)) * 3 + c] = v;
      }
  return out;
}

function ortReason(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') return 'not installed';
  const msg = e?.message ?? String(err);
  if (/Failed to load shared library|cannot open shared object/i.test(msg))
    return `its provider library is not installed or does not load (${msg.split('\n')[0]!.slice(0, 160)})`;
  if (/backend not found/i.test(msg)) return "not in this platform's ONNX Runtime build";
  return msg.split('\n')[0]!.slice(0, 200);
}

/**
 * How a session is fed and read: the default is the bundled backbone's (NHWC [count, side, side,
 * 3] pixels in, the first output out); a registered model's image tower (core/embed/models)
 * normalises, crops and lays out its rows, and names the output it reads.
 */
export interface OrtIo {
  feed(ort: typeof OrtModule, session: InferenceSession, pixels: Float32Array, count: number): Record<string, Tensor>;
  read(session: InferenceSession, outputs: InferenceSession.OnnxValueMapType, count: number): Float32Array;
}

const BACKBONE_IO: OrtIo = {
  feed(ort, session, pixels, count) {
    const side = Math.round(Math.sqrt(pixels.length / count / 3));
    return { [session.inputNames[0]!]: new ort.Tensor('float32', pixels, [count, side, side, 3]) };
  },
  read: (session, out) => out[session.outputNames[0]!]!.data as Float32Array,
};

/** The real runtime: onnxruntime-node, profiling each session's first run to learn where its nodes ran. */
export async function nodeRuntime(io: OrtIo = BACKBONE_IO): Promise<OrtRuntime> {
  const ort = await importOrt();
  // Provider libraries that fail to load are reported through our reasons, not ORT's stderr log.
  ort.env.logLevel = 'fatal';
  return {
    async open(model, provider, threads) {
      const profileDir = mkdtempSync(path.join(tmpdir(), 'constellate-ort-'));
      let session: InferenceSession;
      try {
        const options: InferenceSession.SessionOptions = {
          executionProviders: [provider],
          intraOpNumThreads: threads,
          interOpNumThreads: 1,
          executionMode: 'sequential',
          graphOptimizationLevel: 'all',
          enableProfiling: true,
          profileFilePrefix: path.join(profileDir, 'profile'),
          logSeverityLevel: 3,
          // Idle intra-op threads sleep instead of spinning: the decode thread shares the cores.
          extra: { session: { intra_op: { allow_spinning: '0' } } },
        };
        session =
          typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
      } catch (err) {
        rmSync(profileDir, { recursive: true, force: true });
        throw err;
      }
      let profiled: ReturnType<typeof readProfile> | null = null;
      return {
        async run(pixels, count) {
          const out = await session.run(io.feed(ort, session, pixels, count));
          const data = io.read(session, out, count);
          if (profiled === null) profiled = readProfile(session, profileDir);
          return data;
        },
        placement: () => profiled?.providers ?? {},
        ops: () => profiled?.ops ?? {},
        async release() {
          await session.release();
          rmSync(profileDir, { recursive: true, force: true });
        },
      };
    },
  };
}

/** Ends the session's profiling (its first run) and counts kernel runs per provider and per operator. */
function readProfile(session: InferenceSession, dir: string): { providers: Record<string, number>; ops: Record<string, number> } {
  session.endProfiling();
  const providers: Record<string, number> = {};
  const ops: Record<string, number> = {};
  try {
    for (const f of readdirSync(dir)) {
      const events = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Array<{
        cat?: string;
        args?: { provider?: string; op_name?: string };
      }>;
      for (const e of events) {
        if (e.cat !== 'Node' || !e.args?.provider) continue;
        providers[e.args.provider] = (providers[e.args.provider] ?? 0) + 1;
        if (e.args.op_name) ops[e.args.op_name] = (ops[e.args.op_name] ?? 0) + 1;
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { providers, ops };
}
