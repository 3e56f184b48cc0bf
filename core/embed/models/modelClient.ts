/**
 * The model worker from the main thread: started on the first request, one request at a time,
 * stopped by `close()` (before an embed job starts its own ONNX Runtime worker: several threads
 * each with a session crash the process, onnxruntime#24486) or after a minute idle.
 */
import type { Worker } from 'node:worker_threads';
import { siblingModule, startWorker, stopWorkerGently } from '../../runtime/workers.js';
import { disableOrtTelemetry } from '../onnx/ortEnv.js';
import type { ModelFolder } from './folder.js';
import type { FromModelWorker, ToModelWorker } from './modelProtocol.js';
import { ModelFolderError, type ModelSpec } from './spec.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Pending = { resolve: (m: FromModelWorker) => void; reject: (e: Error) => void };

export class ModelWorkerClient {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private idle: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly idleMs = 60_000) {}

  private start(): Worker {
    if (this.worker) return this.worker;
    disableOrtTelemetry();
    const worker = startWorker(siblingModule(import.meta.url, 'modelWorker'));
    worker.on('message', (m: FromModelWorker) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      p?.resolve(m);
    });
    const fail = (reason: string) => {
      if (this.worker !== worker) return;
      this.worker = null;
      for (const p of this.pending.values()) p.reject(new Error(`the model worker stopped (${reason})`));
      this.pending.clear();
    };
    worker.on('error', (e) => fail(e.message));
    worker.on('exit', (code) => fail(`exit code ${code}`));
    this.worker = worker;
    return worker;
  }

  private async request(msg: DistributiveOmit<ToModelWorker, 'id'>): Promise<FromModelWorker> {
    if (this.idle) clearTimeout(this.idle);
    const id = ++this.seq;
    const worker = this.start();
    const answer = await new Promise<FromModelWorker>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...msg, id });
    }).finally(() => {
      if (this.pending.size === 0) {
        this.idle = setTimeout(() => void this.close(), this.idleMs);
        this.idle.unref();
      }
    });
    if (answer.type === 'error') throw answer.user ? new ModelFolderError(answer.message) : new Error(answer.message);
    return answer;
  }

  /** Opens and runs the folder's graphs; embeds `prompts` with its text tower where it has one. */
  async check(folder: ModelFolder, prompts: string[]): Promise<{ spec: ModelSpec; names: Float32Array | null }> {
    const a = await this.request({ type: 'check', folder, prompts });
    if (a.type !== 'checked') throw new Error('model worker: unexpected answer');
    return { spec: a.spec, names: a.names };
  }

  async encodeText(spec: ModelSpec, texts: string[]): Promise<Float32Array> {
    const a = await this.request({ type: 'encode', spec, texts });
    if (a.type !== 'encoded') throw new Error('model worker: unexpected answer');
    return a.vectors;
  }

  /** Stops the worker once its session is released (it is never terminated: `stopWorkerGently`). */
  async close(): Promise<void> {
    if (this.idle) clearTimeout(this.idle);
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    await stopWorkerGently(worker);
  }
}
