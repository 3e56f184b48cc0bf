/** Database size and write throughput: images (scan rows) and 1792-d embeddings (+ flip views). */
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BACKBONE } from '../core/embed/backboneInfo.js';
import { openStore } from '../core/store/index.js';
import type { Figure } from './report.js';

export async function benchStore(quick: boolean): Promise<Figure[]> {
  const n = quick ? 5_000 : 100_000;
  const dir = path.join(tmpdir(), `cs-bench-store-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'lib'), { recursive: true });
  const file = path.join(dir, 'bench.db');
  let store = openStore(file);
  const cmd = `npm run bench -- ${quick ? '--quick ' : ''}--only store`;
  try {
    const lib = store.libraries.add(path.join(dir, 'lib'));
    const gen = store.libraries.beginScan(lib.id);
    let t0 = performance.now();
    for (let s = 0; s < n; s += 500) {
      const files = Array.from({ length: Math.min(500, n - s) }, (_, i) => ({
        relPath: `f/${s + i}.jpg`,
        size: 1000 + i,
        mtimeMs: 1e12 + i,
      }));
      store.images.upsertScanned(lib.id, gen, files);
    }
    const scanRate = n / ((performance.now() - t0) / 1000);
    const vec = new Float32Array(BACKBONE.dim).map((_, i) => Math.sin(i));
    t0 = performance.now();
    for (let s = 0; s < n; s += 16) {
      const rows = [];
      for (let i = s; i < Math.min(n, s + 16); i++)
        rows.push({ contentHash: `cs1:${i}`, vector: vec }, { contentHash: `cs1:${i}`, vector: vec, view: 'hflip' });
      store.embeddings.putMany(BACKBONE.id, rows);
    }
    const embRate = n / ((performance.now() - t0) / 1000);
    store.db.checkpoint();
    const bytes = statSync(file).size;
    // Opening an existing database checks it first (PRAGMA quick_check, before any write).
    store.close();
    t0 = performance.now();
    store = openStore(file);
    const openSeconds = (performance.now() - t0) / 1000;
    return [
      { name: `write scanned image rows (${n}, batches of 500)`, value: scanRate, unit: 'rows/s', command: cmd },
      { name: `write embeddings, image + flip (${n}, batches of 16)`, value: embRate, unit: 'img/s', command: cmd },
      { name: `database size per image (rows + 2 x ${BACKBONE.dim}-d float32)`, value: bytes / n / 1024, unit: 'KiB', command: cmd },
      {
        name: `open the database of ${n} images (${Math.round(bytes / 1e6)} MB), checked before any write`,
        value: openSeconds,
        unit: 's',
        command: cmd,
      },
    ];
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
