/** Exports: the current groups as CSV, JSON or one folder per group, previewed by a dry run. */
import type { ApiHandlers } from '../../shared/contract.js';
import { EXPORT_LIST_LIMIT } from '../../shared/contract.js';
import { ApiError } from '../../shared/client.js';
import { exportRecords, listedAtMost } from '../../jobs/export/export.js';
import { exportRecordsFromStore } from '../../jobs/export/records.js';
import { absoluteExportPath, ExportDestinationError } from '../../jobs/export/target.js';
import type { ServiceContext } from '../context.js';
import { duplicateIndex } from '../organizer.js';

export type ExportHandlers = Pick<ApiHandlers, 'exportGroups'>;

export function exportHandlers(ctx: ServiceContext): ExportHandlers {
  const { store } = ctx;
  return {
    async exportGroups({ format, out, mode, dryRun, skipDuplicates, skipUnsorted, confirmedOnly, minConfidence, hfMetadata }) {
      const records = exportRecordsFromStore(store, {
        keeperOf: duplicateIndex(store).keeperOf,
        filters: { skipDuplicates, skipUnsorted, confirmedOnly, minConfidence },
      });
      if (records.length === 0)
        throw new ApiError(
          'conflict',
          store.runs.activeRunId() === null ? 'nothing to export yet' : 'nothing to export: the options leave every image out',
        );
      try {
        // `~` is the home folder; a relative path would land in the server's working directory.
        const abs = absoluteExportPath(out, format === 'folders' ? '/home/me/Pictures/sorted' : `/home/me/groups.${format}`);
        const libraryRoots = store.libraries.list().map((l) => l.rootPath);
        return listedAtMost(
          await exportRecords(records, { format, out: abs, mode, dryRun, database: store.db.file, libraryRoots, hfMetadata }),
          EXPORT_LIST_LIMIT,
        );
      } catch (err) {
        if (err instanceof ExportDestinationError) throw new ApiError('invalid-input', err.message);
        throw err;
      }
    },
  };
}
