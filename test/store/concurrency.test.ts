import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { openStore, type Store } from '../../core/store/index.js';
import { seedImages, seedRun, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
let ui: Store;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  ui = openStore(path.join(dir, 'c.db'));
});
afterEach(() => {
  ui.close();
  cleanup();
});

describe('two connections', () => {
  it('the UI browses and edits while another process writes a run; the edits are kept', async () => {
    const { imageIds } = seedImages(ui, path.join(dir, 'photos'), 3000);
    const first = seedRun(ui, imageIds, 5);
    ui.edits.recluster(first.runId);

    const child = spawn(
      process.execPath,
      ['--import', 'tsx', new URL('./fixtures/writer.ts', import.meta.url).pathname, path.join(dir, 'c.db'), '40', '25', '40'],
      { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    while (!out.includes('batch 0')) {
      if (child.exitCode !== null) throw new Error(`writer died: ${err}`);
      await new Promise((r) => setTimeout(r, 10));
    }

    // UI work interleaved with the writer's batches.
    let edits = 0;
    let reads = 0;
    let maxWaitMs = 0;
    const moved: number[] = [];
    for (let i = 0; !out.includes('done') && child.exitCode === null; i++) {
      const t = performance.now();
      const sums = ui.browse.groupSummaries({ threshold: -Infinity, typical: 4 });
      expect(sums.reduce((a, s) => a + s.count, 0)).toBe(3000);
      ui.browse.groupImages(first.groupIds[i % 5]!, { threshold: -Infinity, limit: 50 });
      reads++;
      if (i < 40) {
        ui.edits.moveImages([imageIds[i]!], first.groupIds[(i + 1) % 5]!);
        moved.push(imageIds[i]!);
        if (i % 10 === 0) ui.edits.renameGroup(first.groupIds[(i / 10) % 5]!, `Named ${i}`);
        edits++;
      }
      maxWaitMs = Math.max(maxWaitMs, performance.now() - t);
      await new Promise((r) => setTimeout(r, 3));
    }
    expect(await exited).toBe(0);
    expect(err).toBe('');
    console.log(`concurrency: ${edits} edits and ${reads} reads during the writer's batches; slowest UI step ${maxWaitMs.toFixed(0)} ms`);
    expect(edits).toBeGreaterThan(5);

    const newRun = Number(/run (\d+)/.exec(out)![1]);
    expect(ui.groups.listAssignments(newRun)).toHaveLength(3000);
    expect(ui.embeddings.models().find((m) => m.model === 'other-model')!.count).toBe(3000);

    // Switching to the new run keeps every edit made during it.
    const res = ui.edits.recluster(newRun);
    expect(res.summary.carriedPins).toBe(moved.length);
    for (const [k, id] of moved.entries()) {
      const a = ui.groups.assignment(id)!;
      expect(a.pinned).toBe(true);
      const oldTarget = ui.groups.assignment(id, first.runId)!.groupId!;
      expect(oldTarget).toBe(first.groupIds[(k + 1) % 5]);
      const oldName = ui.groups.get(oldTarget)!.name;
      if (oldName) expect(ui.groups.get(a.groupId!)!.name).toBe(oldName);
    }
    const names = ui.groups.list().map((x) => x.name);
    for (const n of ['Named 0', 'Named 10', 'Named 20', 'Named 30']) expect(names).toContain(n);
    expect(ui.db.integrityCheck().ok).toBe(true);
  });
});
