/**
 * `npm run bench [-- --quick] [--only NAME,...]`: prints a table of figures, each with the
 * command that produced it, and writes it as JSON to bench/results/latest.json.
 * `--quick` (CI) uses small sizes so the benchmarks cannot rot; full sizes are for the notes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { formatTable, type Figure } from './report.js';

const program = new Command()
  .option('--quick', 'small sizes (CI)')
  .option('--only <names>', 'comma-separated subset: pipeline,engines,store,icon,quality,knn,app,ui,guards')
  .option('--sizes <list>', 'library sizes of the app bench (default 10000,100000; --quick 2000)')
  .option('--json', 'also print one JSON object per figure on stdout')
  .parse(process.argv);
const opts = program.opts<{ quick?: boolean; only?: string; sizes?: string; json?: boolean }>();
const quick = opts.quick ?? false;
const only = opts.only ? new Set(opts.only.split(',')) : null;

const suites: Array<[string, () => Promise<Figure[]>]> = [
  ['pipeline', async () => (await import('./pipeline.js')).benchPipeline(quick)],
  ['engines', async () => (await import('./engines.js')).benchEngines(quick)],
  ['store', async () => (await import('./store.js')).benchStore(quick)],
  ['icon', async () => (await import('./icon.js')).benchIcon(quick)],
  ['quality', async () => (await import('./quality.js')).benchQuality(quick)],
  ['knn', async () => (await import('./knn.js')).benchKnn(quick)],
  ['app', async () => (await import('./app.js')).benchApp(quick, opts.sizes?.split(',').map(Number))],
  ['ui', async () => (await import('./ui.js')).benchUi(quick)],
  ['guards', async () => (await import('./guards.js')).benchGuards(quick)],
];

const figures: Figure[] = [];
let failed = 0;
for (const [name, run] of suites) {
  if (only && !only.has(name)) continue;
  const t0 = performance.now();
  try {
    const f = await run();
    figures.push(...f);
    console.log(`\n# ${name} (${((performance.now() - t0) / 1000).toFixed(0)} s)\n${formatTable(f)}`);
    if (opts.json)
      for (const x of f)
        console.log(
          JSON.stringify({
            name: x.name,
            ...(x.seconds === undefined
              ? { value: x.value, unit: x.unit }
              : { seconds: x.seconds, cpuSeconds: x.cpuSeconds, peakGiB: x.peakGiB }),
            note: x.note,
          }),
        );
  } catch (err) {
    failed++;
    console.error(`\n# ${name}: FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
}
const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', quick ? 'quick.json' : 'latest.json');
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), quick, figures }, null, 2));
console.log(`\nwrote ${out}`);
process.exit(failed > 0 ? 1 : 0);
