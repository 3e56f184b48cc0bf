/**
 * Quitting the app while it embeds with ONNX Runtime (real images, model and SQLite): the
 * service's close waits for the embed worker to end its run and release its session, so the
 * process exiting right after it (Electron's app.quit) exits cleanly. Before, the job settled at
 * once, and the exit tore the worker down inside session.run: the binding's Napi::Error aborted
 * the process (exit 134), every time.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { suiteTempDir } from '../helpers/tempDir.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const work = suiteTempDir('cs-quit-');

describe('quitting mid-embed', () => {
  it.each([0, 80, 160])(
    'exits cleanly when the app quits %i ms after the first images are embedded',
    (delay) => {
      const dir = path.join(work, `d${delay}`);
      mkdirSync(dir);
      const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'test/fixtures/quitMidEmbed.ts'), dir, String(delay)], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, CONSTELLATE_BACKEND: 'onnx' },
      });
      expect(child.stderr).not.toContain('Napi::Error');
      expect(child.status, child.stderr.slice(-2000)).toBe(0);
      const r = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as { closed: boolean; engines: string[] };
      expect(r.closed).toBe(true);
      // the embeddings written before the quit came from ONNX Runtime (the views from its 8-bit copy)
      expect([...r.engines].sort()).toEqual(['onnx/CPUExecutionProvider', 'onnx/CPUExecutionProvider+int8']);
    },
    120_000,
  );
});
