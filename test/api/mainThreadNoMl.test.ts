/**
 * tfjs only in workers (issue 19): the app's main thread (the Electron main process, the HTTP
 * server) never loads tfjs nor a native ML library, through a whole flow of the service on real
 * images: grouping, placing new images, an image's suggestions and neighbours, the review queue
 * and the map with the placed images. The flow runs in a process of its own
 * (test/fixtures/mainThreadFlow.ts), which records the native addons its main thread loads.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const work = mkdtempSync(path.join(tmpdir(), 'cs-main-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the main thread', () => {
  it('loads no tfjs and no native ML library through grouping, placing, suggestions, neighbours and the map', () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'test/fixtures/mainThreadFlow.ts'), work], {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    const line = child.stdout.trim().split('\n').at(-1) ?? '';
    expect(child.status, child.stderr.slice(-3000)).toBe(0);
    const r = JSON.parse(line) as {
      clustered: string;
      placed: string;
      images: number;
      suggestions: number;
      neighbours: number;
      reviewSuggestions: number;
      mapped: number;
      tfjs: boolean;
      dlopened: string[];
    };
    // the flow did what it says: every model question was answered
    expect(r.clustered).toBe('done');
    expect(r.placed).toBe('done');
    expect(r.suggestions).toBeGreaterThan(0);
    expect(r.neighbours).toBeGreaterThan(0);
    expect(r.reviewSuggestions).toBeGreaterThan(0);
    expect(r.mapped).toBe(r.images);
    // …and none of it here: the store and image decoding are this thread's only native code
    expect(r.tfjs).toBe(false);
    const ml = r.dlopened.filter((f) => /onnxruntime|tensorflow|tfjs|hnswlib|usearch/i.test(f));
    expect(ml).toEqual([]);
    expect(r.dlopened.some((f) => f.includes('better_sqlite3'))).toBe(true); // the recording works
  }, 900_000);
});
