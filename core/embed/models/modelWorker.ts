/**
 * The model worker: the one thread (apart from an embed job's worker, never at the same time)
 * that opens a registered model's graphs outside a job: checking a folder being added (and
 * embedding its vocabulary), and the text tower for text search. It keeps the text tower of
 * the last model asked for until the worker is stopped.
 */
import { parentPort } from 'node:worker_threads';
import { checkModel, loadTextTower, type TextTower } from './towers.js';
import type { FromModelWorker, ToModelWorker } from './modelProtocol.js';
import { ModelFolderError } from './spec.js';

const port = parentPort;
if (!port) throw new Error('model worker must run in a worker thread');

let text: { id: string; tower: TextTower } | null = null;

async function handle(msg: ToModelWorker): Promise<FromModelWorker> {
  if (msg.type === 'check') {
    const spec = await checkModel(msg.folder);
    let names: Float32Array | null = null;
    if (spec.text && msg.prompts.length) {
      const tower = await loadTextTower(spec);
      try {
        names = await tower.encode(msg.prompts);
      } finally {
        await tower.release();
      }
    }
    return { type: 'checked', id: msg.id, spec, names };
  }
  if (text?.id !== msg.spec.id) {
    await text?.tower.release();
    text = null;
    text = { id: msg.spec.id, tower: await loadTextTower(msg.spec) };
  }
  return { type: 'encoded', id: msg.id, vectors: await text.tower.encode(msg.texts) };
}

let chain = Promise.resolve();
port.on('message', (msg: ToModelWorker | { type: 'stop' }) => {
  if (msg.type === 'stop') {
    // The session is released before the thread ends (terminating a thread holding one aborts the process).
    void chain.then(() => text?.tower.release()).finally(() => process.exit(0));
    return;
  }
  chain = chain.then(async () => {
    try {
      const out = await handle(msg);
      const transfer =
        out.type === 'encoded'
          ? [out.vectors.buffer as ArrayBuffer]
          : out.type === 'checked' && out.names
            ? [out.names.buffer as ArrayBuffer]
            : [];
      port.postMessage(out, transfer);
    } catch (err) {
      port.postMessage({
        type: 'error',
        id: msg.id,
        message: err instanceof Error ? err.message : String(err),
        user: err instanceof ModelFolderError,
      } satisfies FromModelWorker);
    }
  });
});
