/** `constellate export --format csv|json|folders` */
import { statSync } from 'node:fs';
import path from 'node:path';
import { exportRecords, toCsv, toJson, type ExportFormat, type ExportMode } from '../jobs/export.js';
import { exportRecordsFromStore } from '../jobs/exportRecords.js';
import { openSession } from './session.js';

export async function exportCommand(opts: { db?: string; format: ExportFormat; out?: string; mode: ExportMode; dryRun?: boolean }): Promise<void> {
  // Checked before anything is written: mkdir would fail later with a raw ENOTDIR.
  if (opts.out) assertNoFileInTheWay(opts.format === 'folders' ? opts.out : path.dirname(path.resolve(opts.out)));
  // Export only reads the database: it may run while the app has it open, and a missing one
  // is an error (not a new, empty database).
  const session = openSession(opts.db, { lock: false, mustExist: true });
  try {
    const records = exportRecordsFromStore(session.store);
    if (opts.format !== 'folders' && !opts.out) {
      process.stdout.write(opts.format === 'csv' ? toCsv(records) : toJson(records) + '\n');
      return;
    }
    if (!opts.out) throw new Error('--out is required for --format folders');
    const plan = await exportRecords(records, { format: opts.format, out: opts.out, mode: opts.mode, dryRun: opts.dryRun });
    const verb = opts.dryRun ? 'would write' : 'wrote';
    if (opts.format === 'folders') for (const g of plan.groups) console.log(`${verb} ${String(g.count).padStart(6)}  ${g.target}`);
    // one file: one line (it was printed once per group, with the same path)
    else console.log(`${verb} ${plan.total} images in ${plan.groups.length} groups to ${plan.conflicts[0]?.renamedTo ?? opts.out}`);
    for (const c of plan.conflicts) console.log(`name conflict: ${c.target} -> ${c.renamedTo}`);
    console.error(`${opts.dryRun ? 'dry run: nothing written' : `${plan.written} written`}; ${plan.conflicts.length} name conflicts`);
  } finally {
    session.close();
  }
}

/** Throws a one-line message when `dir`, or the nearest part of it that exists, is a file. */
function assertNoFileInTheWay(dir: string): void {
  for (let p = path.resolve(dir); ; p = path.dirname(p)) {
    let isDir: boolean | undefined;
    try {
      isDir = statSync(p, { throwIfNoEntry: false })?.isDirectory();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err; // below a file: look higher
    }
    if (isDir === false) throw new Error(`${p} is a file, not a folder (--out)`);
    if (isDir || path.dirname(p) === p) return;
  }
}
