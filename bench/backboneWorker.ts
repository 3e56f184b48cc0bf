/** Benchmark helper: the backbone alone on ready tensors (original + flip per image, as the pipeline does). */
import { parentPort, workerData } from 'node:worker_threads';
import { loadBackbone } from '../core/embed/mobilenet.js';

const { images, batch } = workerData as { images: number; batch: number };
const bb = await loadBackbone();
const px = new Float32Array(batch * 2 * 224 * 224 * 3).map((_, i) => (i % 255) / 255);
bb.embed(px, batch * 2); // warm-up (kernel compilation, allocation)
const t0 = performance.now();
for (let done = 0; done < images; done += batch) bb.embed(px, batch * 2);
parentPort!.postMessage({ seconds: (performance.now() - t0) / 1000, images: Math.ceil(images / batch) * batch, backend: bb.backend.choice });
