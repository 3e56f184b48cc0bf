/** `constellate cluster <folder>...` */
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { PlaceSummary, RunSummary } from '../shared/contract.js';
import { placeNewImages } from '../jobs/grouping/placeNew.js';
import { runClusterJob } from '../jobs/grouping/clusterJob.js';
import { formatSeconds } from '../runtime/progress.js';
import { stderrProgress } from './progressReporter.js';
import { openSession } from '../app/session.js';
import { resolveModel } from '../embed/models/manage.js';
import { ModelRegistry } from '../embed/models/registry.js';
import { BACKBONE } from '../embed/backboneInfo.js';
import { groupingModelId } from '../jobs/grouping/groupingModel.js';
import { getLibraryModelId, setLibraryModelId } from '../jobs/indexing/modelChoice.js';

export async function clusterCommand(
  folders: string[],
  opts: {
    groups?: number;
    db?: string;
    seed: number;
    workers?: number;
    views?: number;
    json?: boolean;
    placeNew?: boolean;
    model?: string;
    newMap?: boolean;
  },
): Promise<void> {
  const roots = folders.map((f) => {
    const abs = path.resolve(f);
    if (!statSync(abs, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`not a folder: ${f}`);
    return realpathSync(abs);
  });
  const registry = new ModelRegistry();
  // Before anything is written: an unknown model leaves the database as it was.
  const asked = opts.model === undefined ? undefined : resolveModel(registry, opts.model);
  const session = openSession(opts.db);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    // All or none: a folder refused (inside a library, or holding one) leaves no library behind.
    const libraryIds = session.store.db.write(() => roots.map((r) => session.store.libraries.add(r).id));
    if (asked !== undefined) setLibraryModelId(session.store.db, asked?.id ?? BACKBONE.id);
    console.error(`constellate: database ${session.dbPath}`);
    if (opts.placeNew && session.store.runs.activeRunId() !== null) {
      const model = resolveModel(registry, groupingModelId(session.store));
      const placed = await placeNewImages({
        store: session.store,
        model,
        libraryIds,
        workers: opts.workers,
        signal: controller.signal,
        onProgress: stderrProgress(),
      });
      process.stderr.write('\n');
      console.log(opts.json ? JSON.stringify(placed, null, 2) : formatPlaced(placed));
      return;
    }
    const summary = await runClusterJob({
      store: session.store,
      libraryIds,
      k: opts.groups ?? null,
      seed: opts.seed,
      workers: opts.workers,
      views: opts.views,
      model: asked !== undefined ? asked : resolveModel(registry, getLibraryModelId(session.store.db)),
      refreshMap: opts.newMap ?? false,
      signal: controller.signal,
      onProgress: stderrProgress(),
    });
    process.stderr.write('\n');
    if (opts.json) console.log(JSON.stringify(summary, null, 2));
    else console.log(summary.images === 0 ? formatNoImages(summary, folders) : formatSummary(summary));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    session.close();
  }
}

/**
 * Not only the new files: deleted and renamed ones changed the folder too, and the user should
 * see that they were noticed (moved files keep their groups; missing rows are kept).
 */
export function formatPlaced(p: PlaceSummary): string {
  return [
    `Placed ${p.placed} new or changed images in the current groups${p.unsorted ? ` (${p.unsorted} in Unsorted)` : ''} in ${p.seconds.toFixed(1)} s`,
    `Moved or renamed (kept their groups): ${p.moved}`,
    `Missing (no longer in the folder): ${p.missing}${p.newlyMissing ? ` (${p.newlyMissing} since the last scan)` : ''}`,
  ].join('\n');
}

function skippedLine(s: Pick<RunSummary, 'skipped'>): string {
  const total = Object.values(s.skipped).reduce((a, b) => a + b, 0);
  return `Skipped: ${total}${
    total
      ? ` (${Object.entries(s.skipped)
          .map(([code, n]) => `${code} ${n}`)
          .join(', ')})`
      : ''
  }`;
}

/** Nothing to group: "Groups: 0 (K=0, chosen from the data)" read like a result. Still a finished run (exit 0). */
function formatNoImages(s: RunSummary, folders: string[]): string {
  const lines = [`No images found in ${folders.join(', ')}`];
  if (Object.values(s.skipped).some((n) => n > 0)) lines.push(skippedLine(s));
  return lines.join('\n');
}

export function formatSummary(s: RunSummary): string {
  const lines: string[] = [];
  if (s.unchanged) lines.push(`Nothing changed since the last grouping: kept as it is (nothing trained; --new-map trains again)`);
  lines.push(`${s.unchanged ? 'Images' : 'Images clustered'}: ${s.images}`);
  lines.push(skippedLine(s));
  const floor =
    s.kRequested !== undefined && s.k > s.kRequested ? `; not ${s.kRequested}: ${s.pinnedGroups} groups hold pinned images` : '';
  lines.push(`Groups: ${s.groups.length} (K=${s.k}, ${s.kChosenBy === 'auto' ? 'chosen from the data' : 'set by --groups'}${floor})`);
  for (const g of s.groups) lines.push(`  ${g.name.padEnd(24)} ${String(g.size).padStart(7)}`);
  if (s.names?.kept.length) lines.push(`Names kept: ${s.names.kept.join(', ')}`);
  if (s.names?.dropped.length) lines.push(`Names dropped (no group is mostly their images now): ${s.names.dropped.join(', ')}`);
  for (const o of s.names?.offers ?? [])
    lines.push(`  ${o.name}: its images are now in ${o.groupName} (${o.count} of ${o.of}); to name it so: rename it in the app`);
  if (s.unsorted > 0) lines.push(`  ${'Unsorted (low confidence)'.padEnd(24)} ${String(s.unsorted).padStart(7)}`);
  lines.push(
    `Time: ${Object.entries(s.secondsByPhase)
      .map(([p, sec]) => `${p} ${formatSeconds(sec)}`)
      .join(', ')}`,
  );
  lines.push(`Backend: ${s.backend.choice} (${s.backend.device})`);
  return lines.join('\n');
}
