/**
 * Public API of the Constellate store (SQLite via better-sqlite3).
 *
 *   const lock = acquireInstanceLock(defaultDatabasePath()); // main process only, before opening
 *   const store = openStore(defaultDatabasePath());
 *   ...
 *   store.close(); lock.release();
 */
import { type Database, type OpenOptions, openDatabase } from './database.js';
import { EditsRepository } from './edits.js';
import { EmbeddingsRepository } from './embeddings.js';
import { GroupsRepository } from './groups.js';
import { BrowseRepository } from './browse.js';
import { DuplicatesRepository } from './duplicates.js';
import { ImagesRepository } from './images.js';
import { LibrariesRepository } from './libraries.js';
import { RunsRepository } from './runs.js';

export {
  Database,
  openDatabase,
  defaultDatabasePath,
  thumbnailDir,
  thumbnailRelPath,
  backupPathFor,
  DATABASE_FILE_NAME,
  THUMBNAIL_DIR_NAME,
  LATEST_VERSION,
  MIGRATIONS,
  type OpenOptions,
  type IntegrityReport,
  type MigrationInfo,
} from './database.js';
export * from './errors.js';
export { acquireInstanceLock, releaseInstanceLock, readInstanceLock, type InstanceLock, type LockInfo } from './lock.js';
export type { Migration } from './migrations.js';
export { LibrariesRepository, type Library } from './libraries.js';
export {
  ImagesRepository,
  IMAGE_STATUSES,
  type ImageStatus,
  type ScannedFile,
  type ScanBatchResult,
  type TouchedFile,
  type DecodedImage,
  type ImageRow,
  type ImageDetail,
  type WorkItem,
  type SkippedImage,
  type StatusCounts,
} from './images.js';
export {
  EmbeddingsRepository,
  blobToFloat32,
  float32ToBlob,
  type EmbeddingInput,
  type EmbeddingMatrix,
  type EmbeddingTarget,
  type ModelSummary,
} from './embeddings.js';
export { RunsRepository, type Run, type RunStatus, type NewRun, type RunModel } from './runs.js';
export { GroupsRepository, type Group, type GroupOrigin, type Assignment, type AssignmentInput } from './groups.js';
export {
  BrowseRepository,
  compareGroupNames,
  type BrowseGroupSummary,
  type GroupImage,
  type GroupImageSort,
  type UnsortedRow,
} from './browse.js';
export { DuplicatesRepository, type DuplicateIndex } from './duplicates.js';
export { EditsRepository, type EditKind, type EditEntry, type EditResult, type SplitPart, type ReclusterSummary } from './edits.js';

/** A connection with all repositories. */
export interface Store {
  readonly db: Database;
  readonly libraries: LibrariesRepository;
  readonly images: ImagesRepository;
  readonly embeddings: EmbeddingsRepository;
  readonly runs: RunsRepository;
  readonly groups: GroupsRepository;
  /** Reads for the screens: summaries, a group's images, Unsorted (cached until the database changes). */
  readonly browse: BrowseRepository;
  readonly duplicates: DuplicatesRepository;
  readonly edits: EditsRepository;
  close(): void;
}

export function createStore(db: Database): Store {
  return {
    db,
    libraries: new LibrariesRepository(db),
    images: new ImagesRepository(db),
    embeddings: new EmbeddingsRepository(db),
    runs: new RunsRepository(db),
    groups: new GroupsRepository(db),
    browse: new BrowseRepository(db),
    duplicates: new DuplicatesRepository(db),
    edits: new EditsRepository(db),
    close: () => db.close(),
  };
}

/** openDatabase() + repositories. */
export function openStore(file: string, options: OpenOptions = {}): Store {
  return createStore(openDatabase(file, options));
}
