/**
 * The committed activation ranges of the 8-bit view model (core/embed/onnx/int8Ranges.ts) are
 * what `npx tsx bench/int8-calibration.ts` measures on the demo images now: a change to the
 * converter, the backbone, the decoder or the views that moves them fails here until the table
 * is measured again.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { measureCalibration, rangesModule } from '../../core/embed/onnx/int8Calibration.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('int8Ranges.ts', () => {
  it('is what the demo images give', async () => {
    const demo = path.join(root, 'demo/tuxpaint');
    const files = readdirSync(demo, { recursive: true, encoding: 'utf8' })
      .filter((f) => /\.(png|jpe?g)$/i.test(f))
      .map((f) => path.join(demo, f));
    expect(files).toHaveLength(60);
    const measured = rangesModule(await measureCalibration(files), files.length);
    expect(measured).toBe(readFileSync(path.join(root, 'core/embed/onnx/int8Ranges.ts'), 'utf8'));
  }, 120_000);
});
