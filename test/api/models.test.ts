/**
 * The models API on the real service: switching a library to a registered model is a job that
 * can be cancelled mid-embedding and resumed (the second run embeds only what the first did
 * not), the grouping on screen keeps its model until the switch finishes, text search waits for
 * a running job (and reads its rows in the model worker, never in the service's thread), and a
 * model in use cannot be removed.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createService } from '../../core/api/service.js';
import { dispatch, type ApiHost } from '../../core/api/host.js';
import { BACKBONE } from '../../core/embed/backboneInfo.js';
import type { JobState, MethodName, Outputs } from '../../core/shared/contract.js';
import { openStore, type Store } from '../../core/store/index.js';
import { writeTinyClip } from '../fixtures/tinyModels.js';

const work = mkdtempSync(path.join(tmpdir(), 'cs-api-models-'));
let store: Store;
let host: ApiHost;
const call = async <M extends MethodName>(m: M, input: unknown = {}) => (await dispatch(host, m, input)) as Outputs[M];

async function until(pred: (job: JobState | null) => boolean, timeoutMs = 120_000): Promise<JobState | null> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
    const job = await call('getJob');
    if (pred(job)) return job;
  }
  throw new Error('timed out');
}

const N = 160;
beforeAll(async () => {
  const photos = path.join(work, 'photos');
  for (const [c, rgb] of [
    ['red', [220, 20, 20]],
    ['green', [20, 220, 20]],
    ['blue', [20, 20, 220]],
    ['yellow', [220, 220, 20]],
  ] as const) {
    mkdirSync(path.join(photos, c), { recursive: true });
    for (let i = 0; i < N / 4; i++) {
      const v = (k: number) => Math.max(0, Math.min(255, rgb[k]! + ((i * (k + 3)) % 31) - 15));
      await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: v(0), g: v(1), b: v(2) } } })
        .png()
        .toFile(path.join(photos, c, `${c}-${i}.png`));
    }
  }
  writeTinyClip(path.join(work, 'clip'));
  store = openStore(path.join(work, 'a.db'));
  host = createService({ store, modelsDir: path.join(work, 'models') });
  await call('addLibrary', { path: photos });
});

afterAll(async () => {
  await host.close();
  store.close();
  rmSync(work, { recursive: true, force: true });
});

describe('models API', () => {
  it('switches with a job that is cancelled mid-embedding and resumes; search waits for jobs; a model in use stays', async () => {
    const added = await call('addModel', { path: path.join(work, 'clip') });
    expect(added).toMatchObject({ dim: 4, text: true, builtIn: false });
    const id = added.id;
    expect((await call('listModels')).libraryModel).toBe(BACKBONE.id);

    let job = await call('useModel', { id, groups: 4 });
    expect(job.kind).toBe('switch-model');
    // While it runs: no text search, no adding models.
    await expect(call('addModel', { path: path.join(work, 'clip') })).rejects.toMatchObject({ code: 'busy' });
    await expect(call('searchByText', { text: 'red' })).rejects.toMatchObject({
      code: 'busy',
      message: 'text search is back when the running job ends',
    });
    await until((j) => (j?.phases.find((p) => p.name === 'embed')?.done ?? 0) >= 8 || j?.status !== 'running');
    await call('cancelJob', { jobId: job.id });
    job = (await until((j) => j?.status !== 'running'))!;
    expect(job.status).toBe('cancelled');
    const first = store.embeddings.countAvailable(id);
    expect(first).toBeGreaterThanOrEqual(8);
    expect(first).toBeLessThan(N);
    // The library embeds with it from now on; nothing is grouped yet, so nothing is searched.
    expect((await call('listModels')).libraryModel).toBe(id);
    await expect(call('searchByText', { text: 'red' })).rejects.toMatchObject({ code: 'not-found' });

    job = await call('useModel', { id, groups: 4 });
    job = (await until((j) => j?.status !== 'running'))!;
    expect(job.status, job.error).toBe('done');
    const embedPhase = job.phases.find((p) => p.name === 'embed')!;
    // Only what the first run did not embed (fewer where copies share content).
    expect(embedPhase.total).toBeGreaterThan(0);
    expect(embedPhase.total).toBeLessThanOrEqual(N - first);
    expect(store.embeddings.countAvailable(id)).toBe(N);
    expect(job.summary!.groups.map((g) => g.size).sort((a, b) => a - b)).toEqual([40, 40, 40, 40]);
    expect((await call('listModels')).groupingModel).toBe(id);

    // The rows are the model worker's: the service's thread reads no embedding for them.
    const loadAll = vi.spyOn(store.embeddings, 'loadAll');
    const iterate = vi.spyOn(store.embeddings, 'iterate');
    const found = await call('searchByText', { text: 'strawberry', limit: 40 });
    expect(found.items.every((i) => i.name.startsWith('red-'))).toBe(true);
    const { groups } = await call('listGroups', {});
    const red = groups.find((g) => found.items.some((i) => i.groupId === g.id))!;
    const inGroup = await call('searchByText', { text: 'sky', groupId: red.id, limit: 100 });
    expect(inGroup.items).toHaveLength(40);
    expect(inGroup.items.every((i) => i.groupId === red.id)).toBe(true);
    const names = await call('suggestGroupNames', {});
    expect(names.suggestions.find((s) => s.groupId === red.id)?.name).toBe('Strawberry');
    expect(loadAll).not.toHaveBeenCalled();
    expect(iterate).not.toHaveBeenCalled();
    loadAll.mockRestore();
    iterate.mockRestore();

    await expect(call('removeModel', { id })).rejects.toMatchObject({ code: 'conflict' });
    await expect(call('useModel', { id: 'nope' })).rejects.toMatchObject({ code: 'invalid-input' });
  }, 300_000);
});
