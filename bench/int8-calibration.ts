/**
 * Measures the activation ranges of the 8-bit view model (core/embed/onnx/quantize.ts) on the
 * demo images, each as the app embeds it (its model input and its 4 augmented views), and writes
 * them to core/embed/onnx/int8Ranges.ts. Run it when the converter or the backbone changes:
 *   npx tsx bench/int8-calibration.ts [--check]
 * --check prints whether the table in the repository is what this measures, and writes nothing.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureCalibration, rangesModule } from '../core/embed/onnx/int8Calibration.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const table = path.join(root, 'core/embed/onnx/int8Ranges.ts');
const files: string[] = [];
const walk = (dir: string): void => {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name)))
    if (e.isDirectory()) walk(path.join(dir, e.name));
    else if (/\.(png|jpe?g)$/i.test(e.name)) files.push(path.join(dir, e.name));
};
walk(path.join(root, 'demo'));
const ranges = await measureCalibration(files);
const text = rangesModule(ranges, files.length);
if (process.argv.includes('--check')) {
  const same = readFileSync(table, 'utf8') === text;
  console.log(same ? 'int8Ranges.ts is up to date' : 'int8Ranges.ts differs from what the demo images give');
  process.exitCode = same ? 0 : 1;
} else {
  writeFileSync(table, text);
  console.log(`${Object.keys(ranges).length} ranges from ${files.length} images -> ${path.relative(root, table)}`);
}
