/**
 * The export's data types, below every module of the export (export.ts, files.ts, manifest.ts,
 * records.ts), so none of them imports another only for a type.
 */
import { RESERVED_GROUP_NAME } from '../../shared/contract.js';

/** One image as exported (see docs/exports.md for what each column means). */
export interface ExportRecord {
  imageId: number;
  absPath: string;
  /** null: Unsorted. */
  groupId: number | null;
  groupName: string;
  confidence: number | null;
  /** The user put it where it is: pinned it, moved it there, or removed it to Unsorted. */
  userConfirmed: boolean;
  /** In Unsorted only because the model is unsure: the group the model would put it in. */
  suggestedGroupId: number | null;
  suggestedGroupName: string | null;
  /** The library's root folder, and the file's path inside it with `/` separators. */
  library: string;
  relativePath: string;
  /** The store's content hash (`cs1:`, see core/library/hash.ts), null before it was read. */
  contentHash: string | null;
  /** When the photo was taken, ISO 8601 as the camera recorded it (its zone where known); null: unknown. */
  takenAt?: string | null;
  /** A copy in a duplicate set: the keeper's image id; null otherwise (the keeper too). */
  duplicateOf?: number | null;
}

/** What an export leaves out (the contract's exportFilters). */
export interface ExportFilters {
  skipDuplicates?: boolean;
  skipUnsorted?: boolean;
  confirmedOnly?: boolean;
  minConfidence?: number;
}

export type ExportFormat = 'csv' | 'json' | 'folders';
export type ExportMode = 'copy' | 'hardlink' | 'symlink';

/** The group name of the images in no group, in every export as on every screen. */
export const UNSORTED_NAME = RESERVED_GROUP_NAME;
