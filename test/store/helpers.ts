import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { openStore, type Store } from '../../core/store/index.js';

export function tempDir(prefix = 'constellate-store-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return {
    dir,
    cleanup: () => {
      try {
        fs.chmodSync(dir, 0o755);
      } catch {
        /* ignore */
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function fileHash(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

export const hashOf = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Deterministic pseudo-random vector. */
export function vec(seed: number, dim: number): Float32Array {
  const v = new Float32Array(dim);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < dim; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    v[i] = (x / 0xffffffff) * 2 - 1;
  }
  return v;
}

export interface Seeded {
  libraryId: number;
  imageIds: number[];
}

/** A library with `n` decoded images (content "img-<i>") and `dim`-d embeddings for model 'm'. */
/** `vectors: false` leaves embeddings out (a database at a schema version older than the store's code). */
export function seedImages(store: Store, root: string, n: number, dim = 8, batch = 1000, options: { vectors?: boolean } = {}): Seeded {
  const lib = store.libraries.add(root);
  const gen = store.libraries.beginScan(lib.id);
  for (let s = 0; s < n; s += batch) {
    const files = [];
    for (let i = s; i < Math.min(n, s + batch); i++) {
      files.push({ relPath: `d${i % 10}/img-${String(i).padStart(6, '0')}.jpg`, size: 1000 + i, mtimeMs: 1_600_000_000_000 + i * 1000 });
    }
    store.images.upsertScanned(lib.id, gen, files);
  }
  store.libraries.finishScan(lib.id, gen);
  let pending = store.images.pending(batch);
  while (pending.length > 0) {
    store.db.write(() => {
      store.images.markDecoded(
        pending.map((p) => {
          const i = Number(/img-(\d+)/.exec(p.relPath)![1]);
          return {
            id: p.id,
            contentHash: hashOf(`img-${i}`),
            width: 4000,
            height: 3000,
            orientation: 1,
            takenAt: 1_500_000_000_000 + ((i * 7919) % n) * 60_000,
            camera: 'Test Cam',
          };
        }),
      );
      if (options.vectors !== false)
        store.embeddings.putMany(
          'm',
          pending.map((p) => {
            const i = Number(/img-(\d+)/.exec(p.relPath)![1]);
            return { contentHash: hashOf(`img-${i}`), vector: vec(i + 1, dim) };
          }),
        );
    });
    pending = store.images.pending(batch, { afterId: pending[pending.length - 1]!.id });
  }
  const imageIds = store.db.raw.prepare('SELECT id FROM images WHERE library_id = ? ORDER BY id').pluck().all(lib.id) as number[];
  return { libraryId: lib.id, imageIds };
}

/**
 * A finished run with `k` groups; image j goes to group j % k with
 * confidence derived from j. Returns run id and group ids (by cluster index).
 */
export function seedRun(
  store: Store,
  imageIds: readonly number[],
  k: number,
  shift = 0,
  opts: { groupOf?: (j: number) => number; names?: boolean } = {},
): { runId: number; groupIds: number[] } {
  const run = store.runs.create({ model: 'm', k, params: { k, shift }, backend: 'cpu' });
  const groupIds = store.groups.createRunGroups(
    run.id,
    // names as a cluster job gives them, by position
    Array.from({ length: k }, (_, c) => ({ clusterIndex: c, ...(opts.names ? { name: `Group ${c + 1}` } : {}) })),
  );
  const groupOf = opts.groupOf ?? ((j: number) => (j + shift) % k);
  const rows = imageIds.map((id, j) => ({
    imageId: id,
    groupId: groupIds[groupOf(j)]!,
    confidence: ((j * 37) % 100) / 100,
  }));
  for (let s = 0; s < rows.length; s += 5000) store.groups.writeAssignments(run.id, rows.slice(s, s + 5000));
  store.runs.finish(run.id, { status: 'done', timings: { totalMs: 1 }, metrics: { nmi: 0.5 } });
  return { runId: run.id, groupIds };
}

/** Everything the edits may change, as a canonical string. */
export function dumpState(store: Store): string {
  const raw = store.db.raw;
  return JSON.stringify({
    groups: raw.prepare('SELECT * FROM groups ORDER BY id').all(),
    assignments: raw.prepare('SELECT * FROM assignments ORDER BY run_id, image_id').all(),
    active: store.runs.activeRunId(),
  });
}

export function openTemp(dir: string, name = 'test.db'): Store {
  return openStore(path.join(dir, name));
}
