/**
 * `--engine` on the real CLI: it forces one engine (and fails, saying why, where that one cannot
 * load, instead of falling back), and `--json`'s backend names the engine and the device its
 * runtime reports.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoImages, runCli } from '../helpers/cli.js';

let work: string;
let photos: string;
beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'constellate-engine-cli-'));
  photos = path.join(work, 'photos');
  mkdirSync(photos);
  for (const label of readdirSync(demoImages)
    .filter((l) => !l.includes('.'))
    .slice(0, 2)) {
    for (const f of readdirSync(path.join(demoImages, label)).slice(0, 4))
      cpSync(path.join(demoImages, label, f), path.join(photos, `${label}-${f}`));
  }
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const engines = (db: string) => {
  const sql = new Database(db, { readonly: true });
  try {
    return sql.prepare('SELECT engine, count(*) AS n FROM embeddings GROUP BY engine').all();
  } finally {
    sql.close();
  }
};

describe('cluster --engine', () => {
  it('the default engine here is ONNX Runtime on the CPU; --engine wasm forces the tfjs path; both say their device', async () => {
    const dbOrt = path.join(work, 'ort', 'c.db');
    const ort = await runCli(['cluster', photos, '--db', dbOrt, '--groups', '2', '--json']);
    expect(ort.code, ort.stderr).toBe(0);
    expect(JSON.parse(ort.stdout).backend).toEqual({
      choice: 'onnx',
      device: expect.stringMatching(/^CPU \(ONNX Runtime, \d+ threads?\); views in 8 bits$/),
    });
    // 8 images, each with its 4 augmented views (these through the 8-bit copy of the model)
    expect(engines(dbOrt)).toEqual([
      { engine: 'onnx/CPUExecutionProvider', n: 8 },
      { engine: 'onnx/CPUExecutionProvider+int8', n: 8 * 4 },
    ]);

    const dbWasm = path.join(work, 'wasm', 'c.db');
    const wasm = await runCli(['cluster', photos, '--db', dbWasm, '--groups', '2', '--engine', 'wasm', '--json']);
    expect(wasm.code, wasm.stderr).toBe(0);
    expect(JSON.parse(wasm.stdout).backend).toEqual({ choice: 'wasm', device: 'CPU (WebAssembly SIMD, 1 thread per worker)' });
    expect(engines(dbWasm)).toEqual([{ engine: 'wasm', n: 8 * 5 }]);
  }, 180_000);

  it('a forced engine that cannot load is an error that says why, not a fallback; an unknown name is refused', async () => {
    const missing = await runCli(['cluster', photos, '--db', path.join(work, 'missing', 'c.db'), '--engine', 'tfjs-node']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/tfjs-node: not installed/);
    const bogus = await runCli(['cluster', photos, '--db', path.join(work, 'bogus', 'c.db'), '--engine', 'webgl']);
    expect(bogus.code).toBe(1);
    expect(bogus.stderr).toMatch(/onnx, tfjs-node-gpu, tfjs-node, wasm, cpu/);
  }, 120_000);
});
