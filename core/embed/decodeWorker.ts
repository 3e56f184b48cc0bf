/**
 * Decode worker: read + decode + thumbnail + model input for one image per request, as many at
 * once as the pool sends (it bounds them). Its thread only does the short JS steps between sharp
 * calls (libvips runs on libuv's pool), so decodes never wait behind a forward pass. The pixels
 * go back as a transferred buffer.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { prepareImage } from './prepare.js';
import type { EmbedWorkerInit, FromDecoder, ToDecoder } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('decode worker must run in a worker thread');
const init = workerData as EmbedWorkerInit;
if (!init.thumbnailDir) throw new Error('decode worker needs thumbnailDir');
const thumbnailDir = init.thumbnailDir;
const views = init.views ?? 0;
const viewDraw = init.viewDraw ?? 0;

const post = (msg: FromDecoder, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

port.on('message', (msg: ToDecoder) => {
  const { item, size } = msg;
  const t0 = performance.now();
  void prepareImage(item.path, { size, thumbnailDir, views, viewDraw }).then((p) => {
    const ms = performance.now() - t0;
    if ('skip' in p) {
      post({ type: 'failed', imageId: item.imageId, contentHash: p.contentHash ?? item.contentHash, skip: p.skip, ms });
      return;
    }
    post(
      {
        type: 'decoded',
        imageId: item.imageId,
        image: { imageId: item.imageId, contentHash: p.contentHash, rows: p.rows, facts: p.facts, thumbnail: p.thumbnail },
        ms,
      },
      [p.rows.buffer as ArrayBuffer],
    );
  });
  // prepareImage never rejects for bad input; anything else is a bug and crashes this worker,
  // which the pool treats like a crash on these files (retried alone, then skipped).
});

post({ type: 'ready' });
