/** `constellate export --format csv|json|folders` */
import { exportRecords, toCsv, toJson, type ExportFormat, type ExportMode } from '../jobs/export.js';
import { exportRecordsFromStore } from '../jobs/exportRecords.js';
import { openSession } from './session.js';

export async function exportCommand(opts: { db?: string; format: ExportFormat; out?: string; mode: ExportMode; dryRun?: boolean }): Promise<void> {
  // Export only reads the database: it may run while the app has it open.
  const session = openSession(opts.db, { lock: false });
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
