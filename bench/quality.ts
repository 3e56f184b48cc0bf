/**
 * How good the groups are, as `constellate eval` measures them on the shared labelled sets: I-Con
 * against its own start, k-means and scikit-learn's clusterers on the same embeddings (where
 * python3 has sklearn), the K chosen without labels, and how honest the confidence is. Runs the
 * built CLI (the app's own path: scan, embed with the views, train), embeddings cached in
 * bench/results/quality-cache.db. `--quick`: tuxpaint300 only, 1 seed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EvalOutput } from '../core/cli/eval.js';
import type { Figure } from './report.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SHARED = path.resolve(here, '../../shared/datasets');

export async function benchQuality(quick: boolean): Promise<Figure[]> {
  const sets = quick ? ['tuxpaint300'] : ['tuxpaint300', 'fashion-mnist-1k'];
  const seeds = quick ? 1 : 5;
  const db = path.join(here, 'results', 'quality-cache.db');
  mkdirSync(path.dirname(db), { recursive: true });
  const figures: Figure[] = [];
  for (const set of sets) {
    const folder = path.join(SHARED, set);
    if (!existsSync(folder)) throw new Error(`${folder} not found (the shared labelled sets sit beside the repository)`);
    const args = ['bin/constellate.js', 'eval', folder, '--seeds', String(seeds), '--json', '--db', db];
    const command = `node ${args.join(' ').replace(folder, `../shared/datasets/${set}`).replace(db, 'bench/results/quality-cache.db')}`;
    const r = spawnSync(process.execPath, args, { cwd: path.resolve(here, '..'), encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`eval ${set} failed: ${r.stderr.trim().split('\n').at(-1)}`);
    const o = JSON.parse(r.stdout) as EvalOutput;
    const fig = (name: string, value: number | null, unit: string, note?: string) =>
      figures.push({ name: `${set}: ${name}`, value, unit, command, ...(note ? { note } : {}) });
    const worst = Math.min(...o.perSeed.map((s) => s.icon.acc));
    fig(
      'I-Con ACC',
      o.icon.acc,
      'ACC',
      `${o.seeds} seeds, worst ${worst.toFixed(3)}; NMI ${o.icon.nmi.toFixed(3)}, ARI ${o.icon.ari.toFixed(3)}`,
    );
    fig('its start, before training', o.start.acc, 'ACC', `gain ${(100 * (o.icon.acc - o.start.acc)).toFixed(1)} points (target >= 3)`);
    fig('k-means (same features)', o.kmeans.acc, 'ACC');
    if (o.peers) {
      const [bestName, best] = Object.entries(o.peers).sort((a, b) => b[1].acc - a[1].acc)[0]!;
      fig(
        'best scikit-learn peer',
        best.acc,
        'ACC',
        `${bestName}; I-Con ${(100 * (o.icon.acc - best.acc)).toFixed(1)} points above (target >= 2), worst seed ${(100 * (worst - best.acc)).toFixed(1)} (target >= -1)`,
      );
    } else fig('best scikit-learn peer', null, 'ACC', o.peersUnavailable);
    if (o.autoK)
      fig(
        'K chosen without labels',
        o.autoK.k,
        'groups',
        `${o.k} classes; ACC ${o.autoK.acc.toFixed(3)} there, ${o.icon.acc.toFixed(3)} at K=${o.k}`,
      );
    fig('confidence: expected calibration error', o.confidence.ece, 'ECE', '10 bins, event "in its class\'s group" (target <= 0.05)');
    fig('confidence: AUROC', o.confidence.auroc, 'AUROC', 'target >= 0.8');
    fig("groups' confidence vs purity", o.confidence.groupSpearman, 'Spearman', 'target >= 0.7');
  }
  return figures;
}
