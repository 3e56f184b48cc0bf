import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { openStore } from '../../core/store/index.js';
import { tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});
afterEach(() => cleanup());

const N = 6000;

/** Runs the writer; kills it with SIGKILL after `killAfterLines` progress lines (or lets it finish). */
function runWriter(file: string, killAfterLines: number | null): Promise<{ lines: string[]; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const script = new URL('./fixtures/kill-writer.ts', import.meta.url).pathname;
    const child = spawn(process.execPath, ['--import', 'tsx', script, file, path.join(dir, 'photos'), String(N)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let buf = '';
    let killed = false;
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      lines.push(...parts);
      if (killAfterLines !== null && !killed && lines.length >= killAfterLines) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      if (!killed && code !== 0) reject(new Error(`writer failed (${code ?? signal}): ${err}`));
      else resolve({ lines, killed });
    });
  });
}

describe('crash safety', () => {
  it('SIGKILL at any moment loses at most the batch in flight; the next run continues', async () => {
    const file = path.join(dir, 'c.db');
    // Kill points: during the scan, early and late in the decode/embed batches.
    const killPoints = [2, 5, 8, 9, 10, 12]; // progress lines per run: 6 scan lines, then one per batch
    let lastOk = 0;
    for (const at of killPoints) {
      const { killed } = await runWriter(file, at);
      const store = openStore(file);
      try {
        expect(store.db.integrityCheck().ok).toBe(true);
        const counts = store.images.countsByStatus();
        // Batches are atomic: decoded images come in whole batches, each with its embedding.
        expect(counts.ok % 250 === 0 || counts.ok === N).toBe(true);
        expect(store.embeddings.countMissing('m')).toBe(0);
        expect(store.embeddings.countAvailable('m')).toBe(counts.ok);
        expect(counts.ok).toBeGreaterThanOrEqual(lastOk); // never goes back
        expect(counts.missing).toBe(0);
        lastOk = counts.ok;
        if (!killed) break;
      } finally {
        store.close();
      }
    }
    expect(lastOk).toBeGreaterThan(0); // work committed before the kills is kept and not redone
    expect(lastOk).toBeLessThan(N);
    const { lines } = await runWriter(file, null);
    // The final run only did what was left.
    expect(lines.filter((l) => l.startsWith('batch')).length).toBe((N - lastOk) / 250);
    expect(lines.at(-1)).toBe('done');
    const store = openStore(file);
    try {
      expect(store.images.countsByStatus()).toMatchObject({ ok: N, pending: 0, missing: 0, total: N });
      expect(store.embeddings.models()).toEqual([{ model: 'm', view: '', dim: 256, count: N }]);
      const m = store.embeddings.loadAll('m');
      for (let k = 0; k < m.count; k += 997) expect(m.vectors[k * 256]).toBe(m.imageIds[k]);
      expect(store.db.integrityCheck().ok).toBe(true);
    } finally {
      store.close();
    }
  });
});
