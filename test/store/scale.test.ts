/**
 * 100,000 images: asserts the UI queries and pipeline queries are correct at
 * that size and prints timings (not asserted: machines differ).
 * STORE_SCALE_N / STORE_SCALE_DIM override the size (e.g. DIM=1792 for the real backbone).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openStore, type GroupImageSort, type Store } from '../../core/store/index.js';
import { hashOf, tempDir } from './helpers.js';

const N = Number(process.env.STORE_SCALE_N ?? 100_000);
const DIM = Number(process.env.STORE_SCALE_DIM ?? 128);
const K = 200;

let dir: string;
let cleanup: () => void;
let store: Store;
let libraryId: number;
let runId: number;
let groupIds: number[];
const timings: Array<[string, number]> = [];

function time<T>(label: string, fn: () => T): T {
  const t = performance.now();
  const r = fn();
  timings.push([label, performance.now() - t]);
  return r;
}

const groupOf = (i: number) => (i * 7) % K;
const confOf = (i: number) => ((i * 7919) % 1000) / 1000;

beforeAll(() => {
  ({ dir, cleanup } = tempDir('constellate-scale-'));
  store = openStore(path.join(dir, 'c.db'));
  libraryId = store.libraries.add(path.join(dir, 'photos')).id;

  time(`scan: insert ${N} images (batches of 1000)`, () => {
    const gen = store.libraries.beginScan(libraryId);
    for (let s = 0; s < N; s += 1000) {
      const files = [];
      for (let i = s; i < Math.min(N, s + 1000); i++) {
        files.push({ relPath: `f${i % 100}/IMG_${String(i).padStart(6, '0')}.jpg`, size: 2_000_000 + i, mtimeMs: 1.6e12 + i });
      }
      store.images.upsertScanned(libraryId, gen, files);
    }
    store.libraries.finishScan(libraryId, gen);
  });

  time(`decode: mark ${N} decoded + ${N} embeddings dim ${DIM} (batches of 256, one transaction each)`, () => {
    let batch = store.images.pending(256);
    while (batch.length > 0) {
      store.db.write(() => {
        const decoded = [];
        const embs = [];
        for (const p of batch) {
          const i = p.id; // ids are 1..N in scan order
          const h = hashOf(String(i));
          if (i % 1000 === 999) continue; // skipped below
          decoded.push({ id: p.id, contentHash: h, width: 4032, height: 3024, takenAt: 1.5e12 + ((i * 104729) % N) * 1000, camera: 'Cam' });
          embs.push({ contentHash: h, vector: new Float32Array(DIM).fill(i) });
        }
        store.images.markDecoded(decoded);
        store.embeddings.putMany('m', embs);
        store.images.markSkipped(batch.filter((p) => p.id % 1000 === 999).map((p) => ({ id: p.id, reason: 'corrupt: truncated' })));
      });
      batch = store.images.pending(256, { afterId: batch[batch.length - 1]!.id });
    }
  });

  time(`run: ${K} groups + ${N - N / 1000} assignments (batches of 5000)`, () => {
    const run = store.runs.create({ k: K, model: 'm' });
    runId = run.id;
    groupIds = store.groups.createRunGroups(
      runId,
      Array.from({ length: K }, (_, c) => ({ clusterIndex: c, name: `Group ${c}` })),
    );
    const ids = store.db.raw.prepare("SELECT id FROM images WHERE status = 'ok' ORDER BY id").pluck().all() as number[];
    for (let s = 0; s < ids.length; s += 5000) {
      store.groups.writeAssignments(
        runId,
        ids.slice(s, s + 5000).map((id) => ({ imageId: id, groupId: groupIds[groupOf(id)]!, confidence: confOf(id) })),
      );
    }
    store.runs.finish(runId, { status: 'done' });
    store.edits.recluster(runId);
  });
}, 600_000);

afterAll(() => {
  store?.close();
  cleanup?.();
  const w = Math.max(...timings.map(([l]) => l.length));
  console.log(
    `\nstore scale timings (N=${N}, dim=${DIM}):\n${timings.map(([l, ms]) => `  ${l.padEnd(w)}  ${ms.toFixed(1).padStart(9)} ms`).join('\n')}`,
  );
});

const OK = N - N / 1000;

describe(`store at ${N} images`, () => {
  it('counts by status, skipped reasons, pipeline queries', () => {
    expect(time('countsByStatus', () => store.images.countsByStatus())).toEqual({
      pending: 0,
      ok: OK,
      skipped: N / 1000,
      missing: 0,
      total: N,
    });
    expect(time('skipReasons', () => store.images.skipReasons())).toEqual([{ reason: 'corrupt: truncated', count: N / 1000 }]);
    expect(time('listSkipped (200)', () => store.images.listSkipped()).length).toBe(Math.min(200, N / 1000));
    expect(time('pending(256) when none', () => store.images.pending(256))).toEqual([]);
    expect(time("embeddings.missing('m') when none", () => store.embeddings.missing('m'))).toEqual([]);
    expect(time("embeddings.missing('new-model') first batch", () => store.embeddings.missing('new-model', { limit: 256 })).length).toBe(
      256,
    );
    expect(time('imagesWithoutAssignment when none', () => store.groups.imagesWithoutAssignment(runId))).toEqual([]);
  });

  it('re-scan of an unchanged folder changes nothing', () => {
    const r = time(`re-scan: ${N} unchanged files`, () => {
      const gen = store.libraries.beginScan(libraryId);
      const total = { inserted: 0, changed: 0, unchanged: 0, restored: 0 };
      for (let s = 0; s < N; s += 1000) {
        const files = [];
        for (let i = s; i < Math.min(N, s + 1000); i++) {
          files.push({ relPath: `f${i % 100}/IMG_${String(i).padStart(6, '0')}.jpg`, size: 2_000_000 + i, mtimeMs: 1.6e12 + i });
        }
        const b = store.images.upsertScanned(libraryId, gen, files);
        for (const k of Object.keys(total) as Array<keyof typeof total>) total[k] += b[k];
      }
      return { ...total, ...store.libraries.finishScan(libraryId, gen) };
    });
    expect(r).toEqual({ inserted: 0, changed: 0, unchanged: N, restored: 0, markedMissing: 0, adopted: 0 });
  });

  it('loads all embeddings as one matrix', () => {
    const m = time(`embeddings.loadAll (${OK} x ${DIM})`, () => store.embeddings.loadAll('m'));
    expect(m.count).toBe(OK);
    expect(m.dim).toBe(DIM);
    expect(m.vectors[0]).toBe(m.imageIds[0]);
    expect(m.vectors[(OK - 1) * DIM + DIM - 1]).toBe(m.imageIds[OK - 1]);
    let n = 0;
    time('embeddings.iterate (batches of 8192)', () => {
      for (const b of store.embeddings.iterate('m', { batchSize: 8192 })) n += b.count;
    });
    expect(n).toBe(OK);
  });

  it('lists groups with counts, mean confidence and typical images', () => {
    const sums = time(`groupSummaries (${K} groups, 4 typical each)`, () =>
      store.browse.groupSummaries({ threshold: -Infinity, typical: 4 }),
    );
    expect(sums).toHaveLength(K);
    expect(sums.reduce((a, s) => a + s.count, 0)).toBe(OK);
    const first = sums.find((s) => s.id === groupIds[0])!;
    const members = (store.db.raw.prepare("SELECT id FROM images WHERE status = 'ok'").pluck().all() as number[]).filter(
      (id) => groupOf(id) === 0,
    );
    expect(first.count).toBe(members.length);
    expect(first.meanConfidence).toBeCloseTo(members.reduce((a, id) => a + confOf(id), 0) / members.length, 9);
    const best = members.sort((a, b) => confOf(b) - confOf(a) || b - a).slice(0, 4);
    expect(first.typicalImageIds).toEqual(best);
    time('groupSummaries again (cached)', () => store.browse.groupSummaries({ threshold: -Infinity, typical: 4 }));
    const withT = time('groupSummaries(threshold 0.3)', () => store.browse.groupSummaries({ typical: 4, threshold: 0.3 }));
    expect(withT.reduce((a, s) => a + s.count, 0) + store.browse.countUnsorted({ threshold: 0.3 })).toBe(OK);
    const search = (query: string) => store.browse.groupSummaries({ threshold: -Infinity, typical: 0, query, sort: 'name' });
    expect(
      time('search groups "group 19"', () => search('group 19'))
        .map((g) => g.name)
        .sort(),
    ).toEqual(
      [
        'Group 19',
        'Group 190',
        'Group 191',
        'Group 192',
        'Group 193',
        'Group 194',
        'Group 195',
        'Group 196',
        'Group 197',
        'Group 198',
        'Group 199',
      ].sort(),
    );
  });

  it('pages through a group by every sort', () => {
    const g = groupIds[3]!;
    const size = store.browse.groupSummaries({ threshold: -Infinity, typical: 0 }).find((s) => s.id === g)!.count;
    const page = (sort: GroupImageSort, offset: number, limit = 100) =>
      store.browse.groupImages(g, { threshold: -Infinity, sort, offset, limit });
    for (const sort of ['confidence-desc', 'confidence-asc', 'name', 'date'] as const) {
      const p1 = time(`group page 1 (100, ${sort})`, () => page(sort, 0));
      expect(p1.items).toHaveLength(100);
      expect(p1.total).toBe(size);
      let seen = 100;
      let pages = 1;
      time(`group all pages (${size} images, ${sort})`, () => {
        for (let p = page(sort, seen); p.items.length > 0; p = page(sort, seen)) {
          seen += p.items.length;
          pages++;
        }
      });
      expect(seen).toBe(size);
      expect(pages).toBe(Math.ceil(size / 100));
    }
    const byConf = page('confidence-desc', 0, 5).items.map((x) => x.confidence);
    expect(byConf).toEqual(byConf.slice().sort((a, b) => b - a));
  });

  it('unsorted images and image detail', () => {
    const low = time('unsortedImages(threshold 0.05, 200)', () => store.browse.unsortedImages({ threshold: 0.05, limit: 200 })).items;
    expect(low.length).toBe(200);
    expect(low.every((u) => u.groupId !== null && !u.pinned && u.confidence! < 0.05)).toBe(true);
    const count = time('countUnsorted(threshold 0.05)', () => store.browse.countUnsorted({ threshold: 0.05 }));
    const ids = store.db.raw.prepare("SELECT id FROM images WHERE status = 'ok'").pluck().all() as number[];
    expect(count).toBe(ids.filter((id) => confOf(id) < 0.05).length);
    const d = time('image detail', () => store.images.detail(ids[500]!))!;
    expect(d.assignment!.groupId).toBe(groupIds[groupOf(ids[500]!)]);
  });

  it('big edits stay quick and undoable', () => {
    const [a, b] = [groupIds[10]!, groupIds[11]!];
    const sizes = () => store.browse.groupSummaries({ threshold: -Infinity, typical: 0 });
    const before = sizes()
      .filter((s) => s.id === a || s.id === b)
      .reduce((x, s) => x + s.count, 0);
    time('merge two groups (~1000 images)', () => store.edits.mergeGroups(a, [b]));
    expect(sizes().find((s) => s.id === a)!.count).toBe(before);
    time('undo merge', () => store.edits.undo());
    expect(store.groups.get(b)).not.toBeNull();
    const ids = store.browse.groupImages(a, { threshold: -Infinity, limit: 300 }).items.map((x) => x.id);
    time('move 300 images to a new group', () => store.edits.moveImagesToNewGroup(ids, 'Picked'));
    store.edits.renameGroup(groupIds[20]!, 'Holidays');

    // Re-cluster with another K: pins and names carried over.
    const run2 = store.runs.create({ k: 150 });
    const g2 = store.groups.createRunGroups(
      run2.id,
      Array.from({ length: 150 }, (_, c) => ({ clusterIndex: c })),
    );
    const okIds = store.db.raw.prepare("SELECT id FROM images WHERE status = 'ok' ORDER BY id").pluck().all() as number[];
    time(`write ${okIds.length} assignments of a second run`, () => {
      for (let s = 0; s < okIds.length; s += 5000) {
        store.groups.writeAssignments(
          run2.id,
          okIds.slice(s, s + 5000).map((id) => ({ imageId: id, groupId: g2[groupOf(id) % 150]!, confidence: 0.5 })),
        );
      }
    });
    store.runs.finish(run2.id, { status: 'done' });
    const res = time('recluster (activate run 2, carry 300 pins + names)', () => store.edits.recluster(run2.id));
    expect(res.summary.carriedPins).toBe(300);
    expect(store.groups.list().filter((g) => g.name === 'Holidays')).toHaveLength(1);
    const picked = store.groups.list().find((g) => g.name === 'Picked')!;
    expect(
      store.browse
        .groupImages(picked.id, { threshold: -Infinity, limit: 1000 })
        .items.map((x) => x.id)
        .sort((x, y) => x - y),
    ).toEqual(ids.slice().sort((x, y) => x - y));
    time('undo recluster', () => store.edits.undo());
    expect(store.runs.activeRunId()).toBe(runId);
    time('redo recluster', () => store.edits.redo());
    expect(store.runs.activeRunId()).toBe(run2.id);
    time('integrity_check', () => expect(store.db.integrityCheck().ok).toBe(true));
  });
});
