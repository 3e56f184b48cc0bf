/** `constellate export --format csv|json|folders` */
import path from 'node:path';
import type { ExportGroupResult, ExportPlan } from '../shared/contract.js';
import { exportRecords, toCsv, toJson } from '../jobs/export/export.js';
import type { ExportFilters, ExportFormat, ExportMode } from '../jobs/export/types.js';
import { duplicateIndex } from '../api/organizer.js';
import { exportRecordsFromStore } from '../jobs/export/records.js';
import { expandHome, fileInTheWay } from '../jobs/export/target.js';
import { openSession } from '../app/session.js';

/** Exit code when the export finished but some files could not be exported (listed on stderr). */
export const EXIT_SOME_FAILED = 2;

/** Resolves to the exit code: 0, or EXIT_SOME_FAILED. */
export async function exportCommand(
  opts: { db?: string; format: ExportFormat; out?: string; mode: ExportMode; dryRun?: boolean; hfMetadata?: boolean } & ExportFilters,
): Promise<number> {
  if (opts.minConfidence !== undefined && !(opts.minConfidence >= 0 && opts.minConfidence <= 1))
    throw new Error('--min-confidence takes a number from 0 to 1');
  // Relative to the working directory, as CLIs do; `~` too, for `--out=~/x`, which no shell expands.
  const out = opts.out === undefined ? undefined : path.resolve(expandHome(opts.out));
  // Checked before anything is written: mkdir would fail later with a raw ENOTDIR. (The
  // export checks it too; here it comes before opening the database, and names the option.)
  const blocker = out && fileInTheWay(opts.format === 'folders' ? out : path.dirname(out));
  if (blocker) throw new Error(`${blocker} is a file, not a folder (--out)`);
  // Export only reads the database: it may run while the app has it open, and a missing one
  // is an error (not a new, empty database).
  const session = openSession(opts.db, { readOnly: true, mustExist: true });
  try {
    const { skipDuplicates, skipUnsorted, confirmedOnly, minConfidence } = opts;
    const records = exportRecordsFromStore(session.store, {
      keeperOf: duplicateIndex(session.store).keeperOf,
      filters: { skipDuplicates, skipUnsorted, confirmedOnly, minConfidence },
    });
    if (opts.format !== 'folders' && !out) {
      process.stdout.write(opts.format === 'csv' ? toCsv(records) : toJson(records) + '\n');
      return 0;
    }
    if (!out) throw new Error('--out is required for --format folders');
    const libraryRoots = session.store.libraries.list().map((l) => l.rootPath);
    const plan = await exportRecords(records, {
      format: opts.format,
      out,
      mode: opts.mode,
      dryRun: opts.dryRun,
      database: session.dbPath,
      libraryRoots,
      hfMetadata: opts.hfMetadata,
    });
    printPlan(plan, opts.format, out);
    return reportFailures(plan);
  } finally {
    session.close();
  }
}

/** What was done (stdout) and the totals (stderr); every renamed and removed file listed. */
function printPlan(plan: ExportPlan, format: ExportFormat, out: string): void {
  if (format === 'folders') for (const line of folderLines(plan)) console.log(line);
  // one file: one line (every group's target is that same path)
  else
    console.log(
      `${plan.dryRun ? 'would write' : 'wrote'} ${plan.total} images in ${plan.groups.length} groups to ${plan.groups[0]?.target ?? plan.conflicts[0]?.renamedTo ?? out}`,
    );
  for (const c of plan.conflicts) console.log(`name conflict: ${c.target} -> ${c.renamedTo}`);
  for (const f of plan.removedFiles) console.log(`${plan.dryRun ? 'would remove' : 'removed'}: ${f.path}`);
  for (const n of plan.notes) console.log(`note: ${n}`);
  const parts = [
    plan.dryRun ? 'dry run: nothing written' : `${plan.written} written`,
    `${plan.alreadyThere} already there`,
    `${plan.conflicts.length} name conflicts`,
  ];
  if (plan.removed) parts.push(`${plan.removed} ${plan.dryRun ? 'would be removed' : 'removed'}`);
  if (plan.failed.length) parts.push(`${plan.failed.length} could not be exported`);
  console.error(parts.join('; '));
}

/**
 * One line per group folder: what this export wrote there (a dry run: would write, counting
 * only originals it can read), found already there, removed, could not export. Then a line per
 * folder no group uses any more (a renamed group) that files were removed from.
 */
function folderLines(plan: ExportPlan): string[] {
  const lines = plan.groups.map(
    (g) => `${g.target}${path.basename(g.target) === g.name ? '' : ` (group "${g.name}")`}: ${groupCounts(g, plan.dryRun)}`,
  );
  const groupFolders = new Set(plan.groups.map((g) => g.target));
  const elsewhere = new Map<string, number>();
  for (const f of plan.removedFiles) {
    const dir = path.dirname(f.path);
    if (!groupFolders.has(dir)) elsewhere.set(dir, (elsewhere.get(dir) ?? 0) + 1);
  }
  for (const [dir, n] of elsewhere) lines.push(`${dir}: ${n} ${plan.dryRun ? 'to remove' : 'removed'} (no longer a group folder)`);
  return lines;
}

function groupCounts(g: ExportGroupResult, dryRun: boolean): string {
  const parts = [`${g.newFiles} ${dryRun ? 'to write' : 'written'}`, `${g.alreadyThere} already there`];
  if (g.removed) parts.push(`${g.removed} ${dryRun ? 'to remove' : 'removed'}`);
  if (g.failed) parts.push(`${g.failed} ${dryRun ? 'cannot' : 'could not'} be exported`);
  return parts.join(', ');
}

/** The export went on past files it could not export: each with its reason, and the exit code says so. */
function reportFailures(plan: ExportPlan): number {
  if (plan.failed.length === 0) return 0;
  const n = plan.failed.length === 1 ? '1 file' : `${plan.failed.length} files`;
  console.error(`${n} ${plan.dryRun ? 'cannot' : 'could not'} be exported:`);
  for (const f of plan.failed) console.error(`  ${f.path}: ${f.reason}`);
  return EXIT_SOME_FAILED;
}
