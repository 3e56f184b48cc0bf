/** Benchmark helper: the backbone alone on ready tensors (original + flip per image, as the pipeline does). */
import { parentPort, workerData } from 'node:worker_threads';
import { loadBackbone } from '../core/embed/mobilenet.js';

const calls = (workerData as { calls: number }).calls;
const bb = await loadBackbone();
const rows = 16; // 8 images and their flips, the pipeline's batch
const px = new Float32Array(rows * 224 * 224 * 3).map((_, i) => (i % 255) / 255);
const ms: number[] = [];
for (let c = 0; c < calls + 1; c++) {
  const t0 = performance.now();
  bb.embed(px, rows);
  ms.push(performance.now() - t0);
}
ms.shift(); // the first call allocates and is not representative
const seconds = ms.reduce((a, b) => a + b, 0) / 1000;
parentPort!.postMessage({ seconds, images: (calls * rows) / 2, backend: bb.backend.choice });
