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
      .refine(
        (s) => s.toLowerCase() !== RESERVED_GROUP_NAME.toLowerCase(),
        `“${RESERVED_GROUP_NAME}” is the name of the images in no group: choose another`,
      ),
  );
/** A group id, or 'unsorted' for images below the confidence threshold or removed from groups. */
export const groupRef = z.union([id, z.literal('unsorted')]);
export type GroupRef = z.infer<typeof groupRef>;

export const groupSort = z.enum(['size', 'name', 'confidence']);
export const imageSort = z.enum(['confidence-asc', 'confidence-desc', 'name', 'date', 'date-desc']);
/** A date or time as ISO 8601 ('2019', '2019-06', '2019-06-12', '2019-06-12T14:00:00Z'). */
const isoDate = z
  .string()
  .max(40)
  .refine((v) => /^\d{4}(-\d{2}(-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?)?)?$/.test(v.trim()), 'A date as YYYY, YYYY-MM or YYYY-MM-DD');
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
  /** Its folder is watched while the app runs (new and changed files are placed). */
  watch?: boolean;
}

export interface PhaseProgress {
  /** model: loading the model, before the first image is embedded; details: EXIF dates and fingerprints; download/verify: fetching a model. */
  name: 'scan' | 'check' | 'model' | 'embed' | 'details' | 'train' | 'write' | 'map' | 'download' | 'verify';
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
  /**
   * Over an earlier grouping: the names the user gave that went on to a new group, those that did
   * not, and for each of those the group most of its images went to (`offers`: the UI offers to
   * name it so).
   */
  names?: { kept: string[]; dropped: string[]; offers?: NameOffer[] };
  /** Nothing changed since the current grouping (same images, asked the same way): it was kept, nothing trained. */
  unchanged?: boolean;
}

/** A name that did not go on in a regroup: most of its images (`count` of `of`) are now in `groupId`. */
export interface NameOffer {
  name: string;
  groupId: number;
  groupName: string;
  count: number;
  of: number;
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
  kind: 'cluster' | 'recluster' | 'split' | 'place-new' | 'switch-model' | 'download-model';
  status: 'running' | 'done' | 'failed' | 'cancelled';
  phase: PhaseProgress['name'] | null;
  phases: PhaseProgress[];
  startedAt: string;
  error?: string;
  summary?: RunSummary;
  placed?: PlaceSummary;
  /** download-model: the model it registered. */
  model?: ModelInfo;
}

/** A model the app can embed with: the built-in MobileNetV2 or one registered from a folder. */
export interface ModelInfo {
  id: string;
  name: string;
  dim: number;
  /** A text encoder: text search and suggested names. */
  text: boolean;
  builtIn: boolean;
  /** The folder it runs from (null: built in). */
  folder: string | null;
  bytes: number;
  /** The image side it reads ("224 px", "224 px of 256"). */
  input: string;
  /** Its folder is no longer where it was registered. */
  missing: boolean;
}

/** A model the app knows how to download (where the network is reachable). */
export interface CatalogModel {
  id: string;
  name: string;
  licence: string;
  approxBytes: number;
  text: boolean;
  about: string;
  /** The files' addresses, as they would be fetched. */
  urls: string[];
  /** Already downloaded and registered. */
  installed: boolean;
}

export interface ModelsState {
  models: ModelInfo[];
  /** The model this database embeds with (its next grouping). */
  libraryModel: string;
  /** The model the current grouping was made with (null: none yet): search, names, map and suggestions read its features. */
  groupingModel: string | null;
  catalog: CatalogModel[];
  /** Where downloads go and the registry is kept. */
  modelsDir: string;
  /** What the calibrated "NN% sure" means with the grouping's model (fitted for MobileNetV2's features). */
  calibrationNote: string;
}

/** An image found by text, with its cosine to the text. */
export interface TextMatch extends ImageSummary {
  score: number;
}

export interface NameSuggestionInfo {
  groupId: number;
  name: string;
  score: number;
  margin: number;
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
  /** The mean confidence of the images the model placed (0 where the user placed them all: see `pinned`). */
  meanConfidence: number;
  /** How many of its images the user placed (pinned or moved there): "yours", not a model figure. */
  pinned?: number;
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
  /**
   * When the photo was taken, ISO 8601 as the camera recorded it: its wall clock, with '+hh:mm'
   * only where the file records its zone ('2021-06-12T14:03:22', '2021-06-12T14:03:22.350+02:00').
   * null: the photo records no date; it is then dated by `fileTime`, and the UI says so.
   */
  takenAt: string | null;
  /** When the file was last modified (ISO, UTC). */
  fileTime?: string;
  /** The keeper of the duplicate set this image is a copy in (its image id); absent otherwise. */
  duplicateOf?: number;
  /** On a keeper whose copies are stacked under it in this list: how many are, and which (an edit of the keeper takes them along). */
  stacked?: number;
  stackedIds?: number[];
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

/**
 * What an export leaves out (docs/exports.md): the copies in a duplicate set (the keeper stays),
 * Unsorted (folders: no `Unsorted/` class), images the user did not confirm, images the model
 * placed with less than `minConfidence`; and, for folders, a Hugging Face `imagefolder`
 * metadata.csv beside the class folders.
 */
export const exportFilters = {
  skipDuplicates: z.boolean().optional(),
  skipUnsorted: z.boolean().optional(),
  confirmedOnly: z.boolean().optional(),
  minConfidence: z.number().min(0).max(1).optional(),
  hfMetadata: z.boolean().optional(),
};

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
  listSkipped: z.object({
    libraryId: id.optional(),
    offset: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(1000).default(200),
  }),
  listMissing: z.object({ offset: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(1000).default(200) }),
  listGroups: z.object({ sort: groupSort.default('size'), search: z.string().max(MAX_NAME_LENGTH).optional() }),
  listGroupImages: z.object({
    groupId: groupRef,
    sort: imageSort.default('confidence-desc'),
    offset: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(5000).default(500),
    /** Copies listed under their keeper (ImageSummary.stacked) when both are in the list. */
    stack: z.boolean().optional(),
    /** Only images dated (taken, else the file time) in [from, to): ISO dates or times. */
    from: isoDate.optional(),
    to: isoDate.optional(),
  }),
  /** How a group's (or Unsorted's) images spread over time: the timeline strip. */
  groupTimeline: z.object({ groupId: groupRef }),
  /** Images by file name, folder and date ("beach 2019", "2021-06", "holiday/june"). */
  searchImages: z.object({
    query: z.string().min(1).max(MAX_NAME_LENGTH),
    offset: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(1000).default(200),
  }),
  /** Exact copies and near-duplicates, each set with its suggested keeper. */
  listDuplicates: z.object({}),
  /** The near-duplicate threshold (differing bits of 64), within DuplicateList.safeRange. */
  setDuplicateThreshold: z.object({ maxDistance: z.number().int().min(0).max(24) }),
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
  listModels: z.object({}),
  /** Registers the model in a folder (checked first: nothing is stored for a folder that is not a usable model). */
  addModel: z.object({ path: z.string().min(1).max(4096) }),
  removeModel: z.object({ id: z.string().min(1).max(300) }),
  /** Makes the database embed with this model and regroups with it (embedding what is missing, with progress; cancel and run again to resume). */
  useModel: z.object({ id: z.string().min(1).max(300), groups: z.number().int().min(2).max(1000).nullable().optional() }),
  downloadModel: z.object({ catalogId: z.string().min(1).max(100) }),
  /** Images ranked by how well they match the text (a CLIP-like grouping model); in one group, or Unsorted, when given. */
  searchByText: z.object({
    text: z.string().trim().min(1).max(MAX_NAME_LENGTH),
    groupId: groupRef.optional(),
    limit: z.number().int().min(1).max(1000).default(60),
  }),
  suggestGroupNames: z.object({}),
  exportGroups: z.object({
    format: exportFormat,
    /** A full path; `~` is the user's home. A relative one is refused (relative to what?). */
    out: z.string().min(1).max(4096),
    mode: exportMode.default('copy'),
    dryRun: z.boolean().default(false),
    ...exportFilters,
  }),
  /** Watch a library's folder while the app runs (new and changed files are placed in the groups). */
  setLibraryWatch: z.object({ id, watch: z.boolean() }),
  /** Browser mode's folder picker: the folders in `path` (the home folder when absent), limited to the home folder and mounted drives. */
  browseFolders: z.object({ path: z.string().max(4096).optional() }),
} as const;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export type Input<M extends MethodName> = z.input<Methods[M]>;
export type ParsedInput<M extends MethodName> = z.output<Methods[M]>;

export interface Outputs {
  getStatus: {
    version: string;
    dbPath: string;
    backend: BackendInfo | null;
    job: JobState | null;
    unsortedThreshold: number;
    hasRun: boolean;
  };
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
  groupTimeline: Timeline;
  searchImages: {
    items: Array<ImageSummary & { path: string; groupName: string | null }>;
    total: number;
    dateRange: { from: string; to: string } | null;
  };
  listDuplicates: DuplicateList;
  setDuplicateThreshold: { ok: true };
  setLibraryWatch: Library;
  browseFolders: FolderListing;
  listModels: ModelsState;
  addModel: ModelInfo;
  removeModel: { ok: true };
  useModel: JobState;
  downloadModel: JobState;
  searchByText: { items: TextMatch[]; model: string };
  /** Without a CLIP-like grouping model: no suggestions, and `model` null. */
  suggestGroupNames: { suggestions: NameSuggestionInfo[]; model: string | null };
}

/** Images per period of a group (the timeline strip); dates taken, else file times. */
export interface Timeline {
  unit: 'day' | 'month' | 'year';
  buckets: Array<{ start: string; end: string; label: string; count: number }>;
  /** Of the images, how many are dated by their file time (no date in the photo). */
  fileDated: number;
}

export interface DuplicateImage extends ImageSummary {
  path: string;
  bytes: number;
  groupName: string | null;
}

export interface DuplicateList {
  sets: Array<{
    keeper: DuplicateImage;
    /** Why it is the suggested keeper ("the largest: 4000 × 3000"). */
    reason: string;
    members: Array<DuplicateImage & { kind: 'exact' | 'near'; distance: number | null; cosine: number | null }>;
  }>;
  /** The copies (all members but the keepers). */
  copies: number;
  maxDistance: number;
  /** Where maxDistance is safe: below it few edits are found, above it unrelated look-alikes pair up. */
  safeRange: [number, number];
  minCosine: number;
  /** Images not fingerprinted yet (indexed before; Place new images reads them): exact copies only. */
  unfingerprinted: number;
  /** Images too small for a fingerprint to mean anything (under 64 px on a side): exact copies only. */
  tooSmall?: number;
}

export interface FolderListing {
  path: string;
  parent: string | null;
  folders: Array<{ name: string; path: string }>;
  /** Where browsing may go: the home folder and mounted drives. */
  roots: Array<{ name: string; path: string }>;
}

/** What the UI calls: one async function per method. */
export type Api = { [M in MethodName]: (input: Input<M>) => Promise<Outputs[M]> };
/** What the core implements: inputs already validated and defaulted. */
export type ApiHandlers = { [M in MethodName]: (input: ParsedInput<M>) => Promise<Outputs[M]> };

/** Pushed from core to UI: over SSE (`GET /api/events`) in browser mode, `api:event` under Electron. */
export type ApiEvent =
  | { type: 'job'; job: JobState }
  | { type: 'changed'; what: 'libraries' | 'groups' | 'history' | 'models' }
  /** Watched folders: what arrived, and what became of it (the status line says it). */
  | { type: 'watch'; text: string };

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
