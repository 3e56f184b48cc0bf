/** `constellate export --format csv|json|folders` */
import path from 'node:path';
import { exportRecords, toCsv, toJson, type ExportFormat, type ExportMode } from '../jobs/export.js';
import { exportRecordsFromStore } from '../jobs/exportRecords.js';
import { expandHome, fileInTheWay } from '../jobs/exportTarget.js';
import { openSession } from './session.js';

/** Exit code when the export finished but some files could not be exported (listed on stderr). */
export const EXIT_SOME_FAILED = 2;

/** Resolves to the exit code: 0, or EXIT_SOME_FAILED. */
export async function exportCommand(opts: { db?: string; format: ExportFormat; out?: string; mode: ExportMode; dryRun?: boolean }): Promise<number> {
  // Relative to the working directory, as CLIs do; `~` too, for `--out=~/x`, which no shell expands.
  const out = opts.out === undefined ? undefined : path.resolve(expandHome(opts.out));
  // Checked before anything is written: mkdir would fail later with a raw ENOTDIR. (The
  // export checks it too; here it comes before opening the database, and names the option.)
  const blocker = out && fileInTheWay(opts.format === 'folders' ? out : path.dirname(out));
  if (blocker) throw new Error(`${blocker} is a file, not a folder (--out)`);
  // Export only reads the database: it may run while the app has it open, and a missing one
  // is an error (not a new, empty database).
  const session = openSession(opts.db, { lock: false, mustExist: true });
  try {
    const records = exportRecordsFromStore(session.store);
    if (opts.format !== 'folders' && !out) {
      process.stdout.write(opts.format === 'csv' ? toCsv(records) : toJson(records) + '\n');
      return 0;
    }
    if (!out) throw new Error('--out is required for --format folders');
    const libraryRoots = session.store.libraries.list().map((l) => l.rootPath);
    const plan = await exportRecords(records, { format: opts.format, out, mode: opts.mode, dryRun: opts.dryRun, database: session.dbPath, libraryRoots });
    const verb = opts.dryRun ? 'would write' : 'wrote';
    if (opts.format === 'folders') for (const g of plan.groups) console.log(`${verb} ${String(g.count).padStart(6)}  ${g.target}`);
    // one file: one line (it was printed once per group, with the same path)
    else console.log(`${verb} ${plan.total} images in ${plan.groups.length} groups to ${plan.groups[0]?.target ?? plan.conflicts[0]?.renamedTo ?? out}`);
    for (const c of plan.conflicts) console.log(`name conflict: ${c.target} -> ${c.renamedTo}`);
    for (const n of plan.notes) console.log(`note: ${n}`);
    const parts = [opts.dryRun ? 'dry run: nothing written' : `${plan.written} written`, `${plan.alreadyThere} already there`, `${plan.conflicts.length} name conflicts`];
    if (plan.failed.length) parts.push(`${plan.failed.length} could not be exported`);
    console.error(parts.join('; '));
    if (plan.failed.length === 0) return 0;
    // The export went on past them: list each with its reason, and say it in the exit code.
    const n = plan.failed.length === 1 ? '1 file' : `${plan.failed.length} files`;
    console.error(`${n} ${opts.dryRun ? 'cannot' : 'could not'} be exported:`);
    for (const f of plan.failed) console.error(`  ${f.path}: ${f.reason}`);
    return EXIT_SOME_FAILED;
  } finally {
    session.close();
  }
}
