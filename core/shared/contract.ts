/**
 * The one API contract between the UI and the core. The renderer imports only this file and
 * `client.ts`; Electron's IPC (electron/main.ts) and the local HTTP server (core/api/http.ts)
 * both serve exactly these methods, validating every input with these schemas.
 *
 * Dependency-free apart from zod, so it bundles into the renderer.
 */
import { z } from 'zod';

// ---------- shared shapes ----------

const id = z.number().int().positive();
const imageIds = z.array(id).min(1).max(1_000_000);
/** The longest group name (the renderer's name fields stop there too). */
export const MAX_NAME_LENGTH = 200;
/** "Unsorted" names the images in no group on every screen and in exports: no group takes it. */
export const RESERVED_GROUP_NAME = 'Unsorted';
/**
 * A group name as shown and exported: one line (newlines, tabs and runs of spaces become one
 * space), trimmed, not empty, not "Unsorted".
 */
const groupName = z
  .string()
  .transform((s) => s.replace(/[\s\p{Cc}]+/gu, ' ').trim())
  .pipe(
    z
      .string()
      .max(MAX_NAME_LENGTH)
      // refine(): a 'custom' issue, whose message the user sees as it is (see dispatch)
      .refine((s) => s.length > 0, 'A group needs a name')
      .refine((s) => s.toLowerCase() !== RESERVED_GROUP_NAME.toLowerCase(), `“${RESERVED_GROUP_NAME}” is the name of the images in no group: choose another`),
  );
/** A group id, or 'unsorted' for images below the confidence threshold or removed from groups. */
export const groupRef = z.union([id, z.literal('unsorted')]);
export type GroupRef = z.infer<typeof groupRef>;

export const groupSort = z.enum(['size', 'name', 'confidence']);
export const imageSort = z.enum(['confidence-asc', 'confidence-desc', 'name', 'date']);
export const exportFormat = z.enum(['csv', 'json', 'folders']);
export const exportMode = z.enum(['copy', 'hardlink', 'symlink']);

export interface BackendInfo {
  choice: string;
  device: string;
}

export interface Library {
  id: number;
  path: string;
  addedAt: string;
  imageCount: number;
  skippedCount: number;
  missingCount: number;
}

export interface PhaseProgress {
  name: 'scan' | 'check' | 'embed' | 'train' | 'write' | 'map';
  done: number;
  total: number | null;
  /** Items per second over the phase so far. */
  rate: number | null;
  etaSeconds: number | null;
}

export interface RunSummary {
  runId: number;
  images: number;
  skipped: Record<string, number>;
  groups: Array<{ id: number; name: string; size: number }>;
  unsorted: number;
  secondsByPhase: Record<string, number>;
  backend: BackendInfo;
  k: number;
  kChosenBy: 'user' | 'auto';
  /** The number of groups asked for (absent: chosen from the data). K is more when more groups hold pinned images. */
  kRequested?: number;
  /** Over an earlier grouping: its groups holding pinned images (K is at least this many: each goes on as a group). */
  pinnedGroups?: number;
  /** Over an earlier grouping: the names the user gave that went on to a new group, and those that did not. */
  names?: { kept: string[]; dropped: string[] };
  /** Nothing changed since the current grouping (same images, asked the same way): it was kept, nothing trained. */
  unchanged?: boolean;
}

/**
 * What placing new images did (Place new images, or a folder added over a grouping): the groups stay
 * as they are, with the user's edits; images new or changed since are put in them by the
 * trained head, without retraining.
 */
export interface PlaceSummary {
  /** Images placed (new, or changed since they were grouped). */
  placed: number;
  /** Of those, the ones shown in Unsorted (below the threshold). */
  unsorted: number;
  /** Files recognised as moved or renamed: they kept their groups. */
  moved: number;
  /** Images of the libraries no longer in their folders (they leave the groups, rows kept). */
  missing: number;
  /** Of those, the ones this scan found gone (the rest were gone before). */
  newlyMissing: number;
  skipped: Record<string, number>;
  seconds: number;
}

export interface JobState {
  id: string;
  /** place-new: index the libraries and put new images in the current groups (PlaceSummary). */
  kind: 'cluster' | 'recluster' | 'split' | 'place-new';
  status: 'running' | 'done' | 'failed' | 'cancelled';
  phase: PhaseProgress['name'] | null;
  phases: PhaseProgress[];
  startedAt: string;
  error?: string;
  summary?: RunSummary;
  placed?: PlaceSummary;
}

export interface SkippedFile {
  imageId: number;
  path: string;
  code: string;
  message: string;
}

/** An image no longer in its folder: its row, group and pins are kept in case it comes back. */
export interface MissingFile {
  imageId: number;
  path: string;
  /** When a scan first found it gone (ISO time). */
  missingSince: string | null;
}

export interface GroupSummary {
  id: number;
  name: string;
  /** True once the user has named it: re-clustering keeps the name. */
  userNamed: boolean;
  /** Colour slot on the map: a group keeps it through re-clustering, as it keeps its name. */
  color: number;
  count: number;
  meanConfidence: number;
  /** The most typical (highest confidence) images, for the card mosaic. */
  typicalImageIds: number[];
}

export interface ImageSummary {
  id: number;
  name: string;
  groupId: number | null;
  confidence: number | null;
  pinned: boolean;
  width: number | null;
  height: number | null;
  takenAt: string | null;
}

export interface GroupSuggestion {
  groupId: number;
  name: string;
  probability: number;
}

export interface ImageDetail extends ImageSummary {
  path: string;
  size: number;
  mtime: string;
  camera: string | null;
  groupName: string | null;
  neighbours: ImageSummary[];
  suggestions: GroupSuggestion[];
}

export interface MapData {
  /** Same order as imageIds; x,y interleaved. */
  imageIds: number[];
  xy: number[];
  groupIds: Array<number | null>;
}

export interface HistoryState {
  canUndo: boolean;
  canRedo: boolean;
  /** The edit Undo would undo: a notification offers Undo only while its own edit is this one. */
  undoId: number | null;
  undoLabel: string | null;
  redoLabel: string | null;
}

/**
 * The most `failed`, `conflicts` and `removedFiles` entries an export result carries over the
 * API: a library on a disk that was unplugged fails every file, and 100,000 paths are megabytes
 * over IPC that no one reads one by one. The counts stay exact; the CLI prints every entry.
 */
export const EXPORT_LIST_LIMIT = 500;

/**
 * One group of an export. `count`: its images. The rest say what happened in its folder (a
 * folder export; CSV/JSON: `newFiles` is `count`, the rest 0): `newFiles` files written (in a
 * dry run: that would be), `alreadyThere` found with the same content, `failed` originals that
 * could not be read, `removed` files of an earlier export no longer in the group (see
 * ExportPlan.removed).
 */
export interface ExportGroupResult {
  groupId: number | null;
  name: string;
  target: string;
  count: number;
  newFiles: number;
  alreadyThere: number;
  failed: number;
  removed: number;
}

export interface ExportPlan {
  total: number;
  groups: ExportGroupResult[];
  /** Files whose target name already exists or collides: they get a numeric suffix. */
  conflicts: Array<{ imageId: number; target: string; renamedTo: string }>;
  /** How many files were renamed: over the API `conflicts` lists at most EXPORT_LIST_LIMIT of them. */
  conflictCount: number;
  /** Files already at their destination with the same content (an earlier export): not written again. */
  alreadyThere: number;
  /**
   * Files an earlier folder export from this database placed in this folder (its
   * `.constellate-export` lists them) that this export does not place there any more (the image
   * moved to another group, its group was renamed, it left the library): removed, in a dry run
   * to be removed. Files changed since that export are kept (a note says which).
   */
  removed: number;
  /** The removed files (absolute paths): over the API at most EXPORT_LIST_LIMIT of them. */
  removedFiles: Array<{ imageId: number; path: string }>;
  /**
   * Originals that could not be read or placed (deleted since the last scan, unreadable):
   * skipped, and the export went on. In a dry run: the originals that are not there now.
   */
  failed: Array<{ imageId: number; path: string; reason: string }>;
  /** How many files were skipped: over the API `failed` lists at most EXPORT_LIST_LIMIT of them. */
  failedCount: number;
  /** What the user should know about where and how it went (a CSV put into a folder, hard links copied, inside a library). */
  notes: string[];
  dryRun: boolean;
  /** Files (CSV/JSON: rows) written; 0 in a dry run, whose groups' `newFiles` say what it would write. */
  written: number;
}

// ---------- methods: input schemas ----------

export const methods = {
  getStatus: z.object({}),
  listLibraries: z.object({}),
  addLibrary: z.object({ path: z.string().min(1).max(4096) }),
  removeLibrary: z.object({ id }),
  startClustering: z.object({
    libraryIds: z.array(id).optional(),
    groups: z.number().int().min(2).max(1000).nullable().optional(),
    seed: z.number().int().min(0).optional(),
  }),
  recluster: z.object({ groups: z.number().int().min(2).max(1000), seed: z.number().int().min(0).optional() }),
  placeNewImages: z.object({}),
  cancelJob: z.object({ jobId: z.string().min(1) }),
  getJob: z.object({}),
  listSkipped: z.object({ libraryId: id.optional(), offset: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(1000).default(200) }),
  listMissing: z.object({ offset: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(1000).default(200) }),
  listGroups: z.object({ sort: groupSort.default('size'), search: z.string().max(MAX_NAME_LENGTH).optional() }),
  listGroupImages: z.object({
    groupId: groupRef,
    sort: imageSort.default('confidence-desc'),
    offset: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(5000).default(500),
  }),
  /** Where an image is in a group's list, as listGroupImages orders it (to step to its neighbours). */
  locateImage: z.object({ groupId: groupRef, imageId: id, sort: imageSort.default('confidence-desc') }),
  getImage: z.object({ id }),
  getMap: z.object({}),
  reviewQueue: z.object({ limit: z.number().int().min(1).max(500).default(50) }),
  setUnsortedThreshold: z.object({ threshold: z.number().min(0).max(1) }),
  renameGroup: z.object({ groupId: id, name: groupName }),
  mergeGroups: z.object({ groupIds: z.array(id).min(2), name: groupName.optional() }),
  splitGroup: z.object({ groupId: id, parts: z.number().int().min(2).max(50) }),
  moveImages: z.object({
    imageIds,
    to: z.union([z.object({ groupId: id }), z.object({ newGroupName: groupName })]),
  }),
  removeFromGroup: z.object({ imageIds }),
  pinImages: z.object({ imageIds, pinned: z.boolean().default(true) }),
  undo: z.object({}),
  redo: z.object({}),
  getHistory: z.object({}),
  exportGroups: z.object({
    format: exportFormat,
    /** A full path; `~` is the user's home. A relative one is refused (relative to what?). */
    out: z.string().min(1).max(4096),
    mode: exportMode.default('copy'),
    dryRun: z.boolean().default(false),
  }),
} as const;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export type Input<M extends MethodName> = z.input<Methods[M]>;
export type ParsedInput<M extends MethodName> = z.output<Methods[M]>;

export interface Outputs {
  getStatus: { version: string; dbPath: string; backend: BackendInfo | null; job: JobState | null; unsortedThreshold: number; hasRun: boolean };
  listLibraries: Library[];
  addLibrary: Library;
  removeLibrary: { ok: true };
  startClustering: JobState;
  recluster: JobState;
  placeNewImages: JobState;
  cancelJob: { ok: boolean };
  getJob: JobState | null;
  listSkipped: { items: SkippedFile[]; total: number };
  listMissing: { items: MissingFile[]; total: number };
  /** ungroupedCount: those of the unsorted images indexed since the grouping was made (a regroup places them). */
  listGroups: { groups: GroupSummary[]; unsortedCount: number; ungroupedCount: number; unsortedThreshold: number };
  listGroupImages: { items: ImageSummary[]; total: number };
  /** index: null when the image is not in that group; total: the group's size. */
  locateImage: { index: number | null; total: number };
  getImage: ImageDetail;
  getMap: MapData;
  /**
   * groupId: where the app shows the image (null: Unsorted, below the threshold, as everywhere);
   * assignedGroupId: the group the model put it in, which pinning it keeps it in.
   */
  reviewQueue: { items: Array<ImageSummary & { assignedGroupId: number | null; suggestions: GroupSuggestion[] }> };
  setUnsortedThreshold: { ok: true };
  renameGroup: HistoryState;
  mergeGroups: HistoryState & { groupId: number };
  splitGroup: HistoryState & { groupIds: number[] };
  moveImages: HistoryState & { groupId: number };
  removeFromGroup: HistoryState;
  pinImages: HistoryState;
  undo: HistoryState;
  redo: HistoryState;
  getHistory: HistoryState;
  exportGroups: ExportPlan;
}

/** What the UI calls: one async function per method. */
export type Api = { [M in MethodName]: (input: Input<M>) => Promise<Outputs[M]> };
/** What the core implements: inputs already validated and defaulted. */
export type ApiHandlers = { [M in MethodName]: (input: ParsedInput<M>) => Promise<Outputs[M]> };

/** Pushed from core to UI: over SSE (`GET /api/events`) in browser mode, `api:event` under Electron. */
export type ApiEvent =
  | { type: 'job'; job: JobState }
  | { type: 'changed'; what: 'libraries' | 'groups' | 'history' };

/** Errors cross the boundary as { error: { code, message } }. */
export interface ApiErrorBody {
  error: { code: 'invalid-input' | 'not-found' | 'conflict' | 'busy' | 'internal'; message: string };
}

export const IPC_CHANNEL = 'constellate:api';
export const IPC_EVENT_CHANNEL = 'constellate:event';

/** Where the UI fetches pixels: a path under the HTTP server, or the `constellate:` protocol under Electron. */
export const MEDIA = {
  thumbnail: (imageId: number) => `thumb/${imageId}`,
  image: (imageId: number) => `image/${imageId}`,
} as const;

export function isMethodName(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(methods, name);
}
