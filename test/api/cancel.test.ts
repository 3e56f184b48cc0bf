/**
 * Cancelling a clustering job through the service (real images, model and SQLite): the job
 * ends as cancelled, no run or group appears, the libraries cannot be removed while it runs,
 * and the next start embeds only what the cancelled one had not. Images a cancelled job indexed
 * over an earlier grouping are counted as not grouped yet.
 */
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobState } from '../../core/shared/contract.js';
import { createService } from '../../core/api/service.js';
import { openStore } from '../../core/store/index.js';
import { demoImages } from '../helpers/cli.js';
import { serviceCaller } from '../helpers/service.js';

const work = mkdtempSync(path.join(tmpdir(), 'cs-cancel-'));
const store = openStore(path.join(work, 'db', 'c.db'));
const host = createService({ store });
afterAll(async () => {
  await host.close();
  store.close();
  rmSync(work, { recursive: true, force: true });
});
const { call, until, finished } = serviceCaller(() => host);
const embedDone = (job: JobState | null) => job?.phases.find((p) => p.name === 'embed')?.done ?? 0;

describe('cancelling a job', () => {
  it('stops it mid-embed, keeps what was embedded, and the next run finishes the rest', async () => {
    const lib = await call('addLibrary', { path: demoImages });
    const job = await call('startClustering', { groups: 6, seed: 0 });
    await until((j) => embedDone(j) > 0);
    await expect(call('removeLibrary', { id: lib.id })).rejects.toMatchObject({ code: 'busy' });
    expect(await call('cancelJob', { jobId: job.id })).toEqual({ ok: true });
    const cancelled = await finished();
    expect(cancelled.status).toBe('cancelled');
    expect((await call('getStatus')).hasRun).toBe(false);
    expect((await call('listGroups', {})).groups).toEqual([]);
    const kept = store.images.countsByStatus().ok;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(60);

    await call('startClustering', { groups: 6, seed: 0 });
    const done = await finished();
    expect(done.status, done.error).toBe('done');
    expect(done.phases.find((p) => p.name === 'embed')?.total).toBe(60 - kept);
    expect(done.summary?.images).toBe(60);
    expect((await call('listGroups', {})).groups).toHaveLength(6);
  }, 180_000);

  it('over a grouping: the images it indexed are in Unsorted, counted as not grouped yet', async () => {
    const before = await call('listGroups', {});
    expect(before.ungroupedCount).toBe(0);
    // a new folder: 8 images, bytes the library already knows (their embeddings are reused,
    // so the job reaches training at once)
    const extra = path.join(work, 'extra');
    const cls = readdirSync(demoImages).sort()[0]!;
    for (const f of readdirSync(path.join(demoImages, cls)).sort().slice(0, 8)) cpSync(path.join(demoImages, cls, f), path.join(extra, f));
    await call('addLibrary', { path: extra });
    const job = await call('startClustering', { groups: 6, seed: 0 });
    await until((j) => j?.phase === 'train' || j?.status !== 'running');
    await call('cancelJob', { jobId: job.id });
    expect((await finished()).status).toBe('cancelled');
    const after = await call('listGroups', {});
    expect(after.ungroupedCount).toBe(8);
    expect(after.unsortedCount).toBe(before.unsortedCount + 8);
  }, 180_000);
});
