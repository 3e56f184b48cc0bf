/**
 * Text search's rows (a CLIP-like model's unit image embeddings) held by the model worker over a
 * real SQLite store: rankings and group means are those of the pure functions over every row,
 * the main thread reads no embedding, and the rows follow the images added, changed and gone.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ActiveModel } from '../../core/jobs/grouping/activeModel.js';
import { meanOfRows, rankRows, TextRows, unitRows } from '../../core/jobs/grouping/textRows.js';
import { openStore } from '../../core/store/index.js';
import { hashOf, seedImages, tempDir, vec } from '../store/helpers.js';

const DIM = 8;
const tmp = tempDir('cs-textrows-');
const store = openStore(`${tmp.dir}/db/t.db`);
const active = new ActiveModel(store);
afterAll(async () => {
  await active.close();
  store.close();
  tmp.cleanup();
});

/** The rows as the main thread once held them: every embedding of 'm', unit length. */
function expectedRows() {
  const m = store.embeddings.loadAll('m');
  return { ids: m.imageIds, unit: unitRows(m.vectors, m.count, m.dim), dim: m.dim };
}

describe('text rows in the model worker', () => {
  const { imageIds } = seedImages(store, `${tmp.dir}/photos`, 20, DIM);
  const query = vec(101, DIM);

  it('ranks by a query vector (among allowed ids, ties by id) and averages groups; the main thread reads no embedding', async () => {
    const rows = expectedRows();
    const allowed = new Set(imageIds.filter((_, i) => i % 3 === 0));
    const groups = [imageIds.slice(0, 5), imageIds.slice(5, 12), [999_999]];
    const loadAll = vi.spyOn(store.embeddings, 'loadAll');
    const iterate = vi.spyOn(store.embeddings, 'iterate');
    const [all, some, means] = await Promise.all([
      active.rankByVector('m', query, { limit: 7 }),
      active.rankByVector('m', query, { limit: 100, allowed }),
      active.unitMeans('m', groups),
    ]);
    expect(loadAll).not.toHaveBeenCalled();
    expect(iterate).not.toHaveBeenCalled();
    loadAll.mockRestore();
    iterate.mockRestore();
    expect(all).toEqual(rankRows(rows, query, 7));
    expect(all).toHaveLength(7);
    expect(some).toEqual(rankRows(rows, query, 100, allowed));
    expect(some.map((r) => r.imageId).sort((a, b) => a - b)).toEqual([...allowed]);
    expect(means).toEqual(groups.map((g) => meanOfRows(rows, g)));
    expect(means[2]).toBeNull();
    // copies of one image score the same: ordered by id
    const twins = seedImages(store, `${tmp.dir}/twins`, 1, DIM).imageIds;
    const ranked = await active.rankByVector('m', vec(1, DIM), { limit: 2 });
    expect(ranked.map((r) => r.imageId)).toEqual([imageIds[0], twins[0]]);
    expect(ranked[0]!.score).toBeCloseTo(1, 5);
  });

  it('follows the images: added ones are ranked, a changed embedding is read again, gone ones leave', async () => {
    const more = seedImages(store, `${tmp.dir}/more`, 3, DIM).imageIds;
    expect(await active.rankByVector('m', query, { limit: 1000 })).toEqual(rankRows(expectedRows(), query, 1000));
    expect((await active.rankByVector('m', query, { limit: 1000 })).map((r) => r.imageId)).toEqual(expect.arrayContaining(more));
    // image 4's content now embeds as the query itself
    store.embeddings.putMany('m', [{ contentHash: hashOf('img-4'), vector: query }]);
    const top = await active.rankByVector('m', query, { limit: 1 });
    expect(top[0]!.imageId).toBe(imageIds[4]);
    expect(top[0]!.score).toBeCloseTo(1, 5);
    store.db.write(() => store.db.raw.prepare(`UPDATE images SET status = 'missing' WHERE id = ?`).run(imageIds[4]));
    const after = await active.rankByVector('m', query, { limit: 1000 });
    expect(after.map((r) => r.imageId)).not.toContain(imageIds[4]);
    expect(after).toEqual(rankRows(expectedRows(), query, 1000));
  });

  it('reads only the images added since (TextRows, in this thread for the test)', () => {
    const rows = new TextRows(store);
    const first = rows.of('m');
    const loadAll = vi.spyOn(store.embeddings, 'loadAll');
    const iterate = vi.spyOn(store.embeddings, 'iterate');
    expect(rows.of('m')).toBe(first); // nothing changed: nothing read
    // copies of images 0 and 1 (their embedding rows as they were): new ids
    const added = seedImages(store, `${tmp.dir}/added`, 2, DIM, 1000, { vectors: false }).imageIds;
    const next = rows.of('m');
    expect(iterate).not.toHaveBeenCalled();
    expect(loadAll).toHaveBeenCalledTimes(1);
    expect(loadAll.mock.calls[0]![1]).toEqual({ imageIds: added });
    loadAll.mockRestore();
    iterate.mockRestore();
    expect(rankRows(next, query, 1000)).toEqual(rankRows(expectedRows(), query, 1000));
    // an embedding written again (putMany replaces it in place): every row read again
    store.embeddings.putMany('m', [{ contentHash: hashOf('img-7'), vector: vec(7, DIM) }]);
    const again = rows.of('m');
    expect(again).not.toBe(next);
    expect(rankRows(again, query, 1000)).toEqual(rankRows(expectedRows(), query, 1000));
  });
});
