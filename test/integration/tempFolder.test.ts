/**
 * A run leaves nothing in the temp folder: the engine's profile of its first run is removed, and
 * ONNX Runtime's telemetry, which would leave a device id (.ses) and a mat-debug-<pid>.log there
 * on every run (core/embed/onnx/ortEnv.ts), is off. Through the built CLI, with TMPDIR pointing
 * at an empty folder: `cluster` (ONNX Runtime in the embed workers) and `models add` (in the
 * model worker).
 */
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeTinyClip } from '../fixtures/tinyModels.js';
import { demoImages, runCli } from '../helpers/cli.js';
import { suiteTempDir } from '../helpers/tempDir.js';

const work = suiteTempDir('cs-temp-folder-');
const tmp = path.join(work, 'tmp');
// The user's own ORT_DISABLE_TELEMETRY is kept, so the CLI gets none.
const env = { TMPDIR: tmp, CONSTELLATE_MODELS_DIR: path.join(work, 'models'), ORT_DISABLE_TELEMETRY: undefined };

beforeAll(() => {
  mkdirSync(tmp);
  for (const cls of ['animals_fish', 'vehicles']) {
    for (const f of readdirSync(path.join(demoImages, cls)).sort().slice(0, 4))
      cpSync(path.join(demoImages, cls, f), path.join(work, 'photos', cls, f));
  }
  writeTinyClip(path.join(work, 'tiny-clip'));
});

describe('the temp folder after a run', () => {
  it('is left empty by `cluster` on ONNX Runtime', async () => {
    const r = await runCli(['cluster', path.join(work, 'photos'), '--db', path.join(work, 'c.db'), '--groups', '2', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { backend: { choice: string } }).backend.choice).toBe('onnx');
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('is left empty by `models add`, which checks the model in the model worker', async () => {
    const r = await runCli(['models', 'add', path.join(work, 'tiny-clip')], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(tmp)).toEqual([]);
  });
});
