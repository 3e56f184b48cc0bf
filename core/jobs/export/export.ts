/**
 * Exports the current grouping: CSV, JSON (one record per image) or one folder per group
 * (copy, hardlink or symlink). Never overwrites: an existing target or a name collision gets
 * a numeric suffix, unless it already holds the same content (an earlier export: "already
 * there", not written again). A dry run reports exactly what would be written, and which
 * originals are gone. Originals are only read (copy) or linked to, never moved or changed.
 * A folder export marks its folder (EXPORT_MARKER) so library scans leave it out, and lists
 * there what it placed, so that the next export into the folder removes what it no longer
 * places (manifest.ts): re-exporting after an edit must not leave an image under two labels.
 */
import { constants as fsConstants, type Stats } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { ExportGroupResult, ExportPlan } from '../../shared/contract.js';
import { EXPORT_MARKER } from '../../library/exportMarker.js';
import { describeDestinationError, describeError, destinationFull, placeFile, readableSource, sameContent, writeNewFile } from './files.js';
import {
  manifestEntry,
  manifestFileAt,
  MANIFEST_VERSION,
  PlacedPaths,
  readPriorExport,
  removeEmptyFolders,
  removeFiles,
  staleFiles,
  writeManifest,
  type ExportManifest,
  type ManifestFile,
  type PriorExport,
  type StaleFiles,
} from './manifest.js';
import { numbered, numberedFolder, safeFolderName } from './names.js';
import { ExportDestinationError, fileInTheWay, libraryContaining, nearestExisting } from './target.js';
import type { ExportFormat, ExportMode, ExportRecord } from './types.js';

export { safeFolderName };

/** Columns in file order: path and group first, as readers of the format expect them. */
const COLUMNS = [
  'path',
  'group_id',
  'group_name',
  'confidence',
  'image_id',
  'user_confirmed',
  'suggested_group_id',
  'suggested_group_name',
  'library',
  'relative_path',
  'content_hash',
  'taken_at',
  'duplicate_of',
] as const;
type Row = Record<(typeof COLUMNS)[number], string | number | boolean | null>;

function row(r: ExportRecord): Row {
  return {
    path: r.absPath,
    group_id: r.groupId,
    group_name: r.groupName,
    confidence: r.confidence,
    image_id: r.imageId,
    user_confirmed: r.userConfirmed,
    suggested_group_id: r.suggestedGroupId,
    suggested_group_name: r.suggestedGroupName,
    library: r.library,
    relative_path: r.relativePath,
    content_hash: r.contentHash,
    taken_at: r.takenAt ?? null,
    duplicate_of: r.duplicateOf ?? null,
  };
}

export function toCsv(records: readonly ExportRecord[]): string {
  const lines: string[] = [COLUMNS.join(',')];
  for (const r of records) {
    const values: Row = { ...row(r), confidence: r.confidence === null ? null : r.confidence.toFixed(4) };
    lines.push(COLUMNS.map((c) => csvCell(values[c], c)).join(','));
  }
  return lines.join('\n') + '\n';
}

export function toJson(records: readonly ExportRecord[]): string {
  return JSON.stringify(records.map(row), null, 2);
}

/** Columns holding text (names, paths): a spreadsheet may read them as formulas. */
const TEXT_COLUMNS: ReadonlySet<string> = new Set([
  'path',
  'group_name',
  'suggested_group_name',
  'library',
  'relative_path',
  'content_hash',
  'taken_at',
]);

/**
 * A text cell starting with = + - @ tab or carriage return is a formula to Excel and LibreOffice
 * (a group named `=HYPERLINK("http://…")` became a live link): OWASP's advice is a leading `'`,
 * which they show as text. Then RFC 4180 quoting. Numbers and booleans are written as they are.
 */
function csvCell(value: string | number | boolean | null, column: string): string {
  if (value === null) return '';
  let s = String(value);
  if (TEXT_COLUMNS.has(column) && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.lstat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * `name.ext`, else `name (2).ext`, `name (3).ext`, ... avoiding both disk and this plan; each
 * cut to fit the filesystem's name limit (see names.ts), so the name checked is the one written.
 */
async function freeName(dir: string, file: string, taken: Set<string>): Promise<string> {
  for (let i = 1; ; i++) {
    const candidate = numbered(file, i);
    const full = path.join(dir, candidate);
    if (!taken.has(full.toLowerCase()) && !(await exists(full))) {
      taken.add(full.toLowerCase());
      return candidate;
    }
  }
}

/**
 * Where one original goes in its group folder: its own name, else `name (2).ext`, ... (cut to
 * the name limit: a name cut to one already in use moves on to the next number too). A name
 * already holding the same content (an earlier export into this folder) is that file, "already
 * there": exporting twice must not double every file. Only a different file under the name
 * moves the original on to the next number.
 */
async function slotFor(
  dir: string,
  original: string,
  originalStat: Stats,
  taken: Set<string>,
): Promise<{ name: string; alreadyThere: boolean }> {
  const file = path.basename(original);
  for (let i = 1; ; i++) {
    const candidate = numbered(file, i);
    const full = path.join(dir, candidate);
    const key = full.toLowerCase();
    if (taken.has(key)) continue;
    const there = await exists(full);
    if (!there || (await sameContent(original, originalStat, full))) {
      taken.add(key);
      return { name: candidate, alreadyThere: there };
    }
  }
}

export interface ExportOptions {
  format: ExportFormat;
  /** Absolute: the CLI resolves it against its working directory, the API refuses relative paths. */
  out: string;
  mode?: ExportMode;
  dryRun?: boolean;
  /** The database exported from, recorded in the folder export's marker file. */
  database?: string;
  /** The libraries' root folders: an export into one says so (and must not hide its images). */
  libraryRoots?: readonly string[];
  /** Folders: also a Hugging Face `imagefolder` metadata.csv (file_name, label, ...) beside the class folders. */
  hfMetadata?: boolean;
}

interface GroupCount {
  groupId: number | null;
  name: string;
  count: number;
}

export async function exportRecords(records: readonly ExportRecord[], options: ExportOptions): Promise<ExportPlan> {
  const dryRun = options.dryRun ?? false;
  const byGroup = new Map<string, GroupCount>();
  for (const r of records) {
    const key = String(r.groupId);
    const g = byGroup.get(key) ?? { groupId: r.groupId, name: r.groupName, count: 0 };
    g.count++;
    byGroup.set(key, g);
  }
  const plan: ExportPlan = {
    total: records.length,
    groups: [],
    conflicts: [],
    conflictCount: 0,
    alreadyThere: 0,
    removed: 0,
    removedFiles: [],
    failed: [],
    failedCount: 0,
    notes: [],
    dryRun,
    written: 0,
  };
  if (options.format === 'folders') await exportFolders(records, byGroup, options, plan);
  else await exportFile(records, [...byGroup.values()], options.format, options.out, plan);
  plan.conflictCount = plan.conflicts.length;
  plan.failedCount = plan.failed.length;
  plan.removed = plan.removedFiles.length;
  return plan;
}

/** The plan with at most `limit` entries in each list (the counts say how many there are). */
export function listedAtMost(plan: ExportPlan, limit: number): ExportPlan {
  return {
    ...plan,
    conflicts: plan.conflicts.slice(0, limit),
    failed: plan.failed.slice(0, limit),
    removedFiles: plan.removedFiles.slice(0, limit),
  };
}

/** A group's result before anything was placed: its images to write, none yet counted. */
function groupResult(g: GroupCount, target: string, newFiles: number): ExportGroupResult {
  return { groupId: g.groupId, name: g.name, target, count: g.count, newFiles, alreadyThere: 0, failed: 0, removed: 0 };
}

/** CSV or JSON: one file, never overwriting one. */
async function exportFile(
  records: readonly ExportRecord[],
  groups: GroupCount[],
  format: 'csv' | 'json',
  out: string,
  plan: ExportPlan,
): Promise<void> {
  // A folder given as the output: the file goes into it under a fixed name (beside it, it would
  // be "folder (2)", with no extension).
  const intoFolder = (await fsp.stat(out).catch(() => null))?.isDirectory() ?? false;
  const dir = intoFolder ? out : path.dirname(out);
  const wanted = intoFolder ? `constellate-groups.${format}` : path.basename(out);
  const blocker = fileInTheWay(dir);
  if (blocker) throw new ExportDestinationError(`${blocker} is a file, not a folder`);
  const name = await freeName(dir, wanted, new Set());
  const target = path.join(dir, name);
  plan.groups = groups.map((g) => groupResult(g, target, g.count));
  if (intoFolder)
    plan.notes.push(`${out} is a folder: the ${format.toUpperCase()} file ${plan.dryRun ? 'goes' : 'went'} into it, as ${name}`);
  if (name !== wanted) plan.conflicts.push({ imageId: 0, target: path.join(dir, wanted), renamedTo: target });
  if (plan.dryRun) return;
  await fsp.mkdir(dir, { recursive: true });
  const text = format === 'csv' ? toCsv(records) : toJson(records);
  try {
    // Whole or not at all: a full disk left a 0-byte file, and the next export wrote "(2)" beside it.
    await writeNewFile(target, text);
  } catch (err) {
    const full = destinationFull(err);
    if (!full) throw err;
    const mb = Math.max(0.1, Math.ceil(Buffer.byteLength(text) / 100_000) / 10).toFixed(1);
    const what = full === 'the destination disk is full' ? `the disk is full (${mb} MB needed)` : full;
    throw new ExportDestinationError(
      `cannot write ${target}: ${what}. Nothing was written; ${full === 'the destination disk is full' ? 'free some space and export again' : 'choose another place'}`,
    );
  }
  plan.written = records.length;
}

/**
 * The marker that leaves this folder out of library scans (see exportMarker.ts), written before
 * any file so that an export stopped halfway is still left out. It lists no files yet (the
 * manifest replaces it at the end); an earlier export's marker stays as it is until then: its
 * list is what this export removes stale files by.
 */
async function writeMarker(out: string, database: string | undefined): Promise<void> {
  const body = JSON.stringify({ app: 'constellate', time: new Date().toISOString(), database: database ?? null }, null, 2) + '\n';
  try {
    await fsp.writeFile(path.join(out, EXPORT_MARKER), body, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/** The destination is checked before anything is written (in a dry run too, so Preview says it). */
async function checkFolderDestination(out: string, libraryRoots: readonly string[], plan: ExportPlan): Promise<void> {
  // mkdir would fail halfway with a raw ENOTDIR
  const blocker = fileInTheWay(out);
  if (blocker) throw new ExportDestinationError(`${blocker} is a file, not a folder`);
  const existing = nearestExisting(out);
  try {
    await fsp.access(existing, fsConstants.W_OK);
  } catch {
    throw new ExportDestinationError(`cannot write in ${existing}: permission denied`);
  }
  const library = libraryContaining(out, libraryRoots);
  if (!library) return;
  // The marker leaves the whole folder out of scans: in a folder already holding files of the
  // library (its root, or a folder of photos) it would hide them, and the next scan would
  // mark them missing.
  const entries = await fsp.readdir(out).catch(() => [] as string[]);
  if (entries.length > 0 && !entries.includes(EXPORT_MARKER)) {
    const where = path.resolve(out) === path.resolve(library) ? `${out} is a library folder` : `${out} is inside library ${library}`;
    throw new ExportDestinationError(`${where} and already holds files: choose a new or empty folder (or one outside your libraries)`);
  }
  plan.notes.push(
    `${out} is inside library ${library}: a marker file (${EXPORT_MARKER}) keeps the export out of its scans, so its images are not counted twice`,
  );
}

const FOLDER_ORDER = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** A group's folder (its name in the export folder) and its result in the plan. */
interface GroupFolder {
  folder: string;
  result: ExportGroupResult;
}

/**
 * The group folders, by group key, each with its result pushed to plan.groups. Names are made
 * safe, short enough for the disk (see names.ts) and unique (two groups may share a name,
 * or the start of a long one); the marker's name is not a group's, and neither
 * is a file's already there. In name order ("Group 2" before "Group 10"), Unsorted last: the
 * preview lists them so, and a shared name's "(2)" goes to the same group every time.
 */
async function assignFolders(out: string, byGroup: Map<string, GroupCount>, plan: ExportPlan): Promise<Map<string, GroupFolder>> {
  const folders = new Map<string, GroupFolder>();
  const used = new Set<string>([EXPORT_MARKER.toLowerCase()]);
  const ordered = [...byGroup].sort(
    ([, a], [, b]) => Number(a.groupId === null) - Number(b.groupId === null) || FOLDER_ORDER.compare(a.name, b.name),
  );
  for (const [key, g] of ordered) {
    const base = safeFolderName(g.name);
    let name = base;
    for (let i = 2; used.has(name.toLowerCase()) || (await groupFolderTaken(path.join(out, name))); i++) name = numberedFolder(base, i);
    used.add(name.toLowerCase());
    const result = groupResult(g, path.join(out, name), 0);
    plan.groups.push(result);
    folders.set(key, { folder: name, result });
  }
  return folders;
}

/**
 * Whether a group folder's name is taken by something that is not a folder (a file: the next
 * number is used). Looked at with lstat: a link where a group folder would be (to a folder
 * elsewhere, or to nothing) refuses the export, naming it, before anything is written: files
 * written through it would land outside the export folder.
 */
async function groupFolderTaken(dir: string): Promise<boolean> {
  const st = await fsp.lstat(dir).catch(() => null);
  if (st?.isSymbolicLink()) {
    const target = await fsp.readlink(dir).catch(() => '?');
    throw new ExportDestinationError(
      `${dir} is a link (to ${target}), not a folder: an export writes only into folders of its own, never through a link. Remove the link, or export to another folder`,
    );
  }
  return st !== null && !st.isDirectory();
}

/**
 * Makes (or finds) a group folder just before a file goes in: a real folder, never a link put
 * there since the export began (lstat after mkdir, which would go through a link silently).
 * Throws a DestinationProblem naming the folder.
 */
async function ensureGroupFolder(dir: string): Promise<void> {
  try {
    await fsp.mkdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new DestinationProblem(dir, err);
  }
  const st = await fsp.lstat(dir).catch((err: unknown) => {
    throw new DestinationProblem(dir, err);
  });
  if (!st.isDirectory())
    throw new DestinationProblem(
      dir,
      null,
      `${dir} is not a folder any more (a ${st.isSymbolicLink() ? 'link' : 'file'} was put there during the export): nothing was written through it`,
    );
}

/** A failure of the destination, not of the original: the reason names the destination. */
class DestinationProblem extends Error {
  constructor(
    readonly path: string,
    readonly error: unknown,
    reason?: string,
  ) {
    super(reason ?? describeDestinationError(error, path));
  }
}

/** What a folder export keeps track of while it places files. */
interface FolderRun {
  out: string;
  mode: ExportMode;
  /** The destination's disk, for hard links (null otherwise). */
  destDev: number | null;
  plan: ExportPlan;
  total: number;
  /** Target paths claimed so far, lower-cased. */
  taken: Set<string>;
  /** Where this export placed files or found them already there. */
  placed: PlacedPaths;
  /** Images this export could not place: an earlier export's file of theirs is kept. */
  unplaced: Set<number>;
  /** The new manifest's files (not in a dry run). */
  files: ManifestFile[];
  copiedOtherDisk: number;
  copiedNotAllowed: number;
  /** Each placed record and its path in the export folder (for metadata.csv). */
  placedRecords: Array<{ record: ExportRecord; rel: string }>;
}

/** Where one record went: nowhere (why), or a name in its folder, already there or written (in a dry run: to be). */
type Placement =
  | { kind: 'failed'; reason: string }
  | { kind: 'there' | 'written'; name: string; stat: Stats; conflict: ExportPlan['conflicts'][number] | null };

async function placeRecord(r: ExportRecord, dir: string, run: FolderRun): Promise<Placement> {
  const source = await readableSource(r.absPath);
  if ('reason' in source) return { kind: 'failed', reason: source.reason };
  const slot = await slotFor(dir, r.absPath, source.stat, run.taken);
  if (slot.alreadyThere) return { kind: 'there', name: slot.name, stat: source.stat, conflict: null };
  const target = path.join(dir, slot.name);
  const conflict =
    slot.name === path.basename(r.absPath)
      ? null
      : { imageId: r.imageId, target: path.join(dir, path.basename(r.absPath)), renamedTo: target };
  const written: Placement = { kind: 'written', name: slot.name, stat: source.stat, conflict };
  const otherDisk = run.mode === 'hardlink' && source.stat.dev !== run.destDev;
  if (run.plan.dryRun) {
    if (otherDisk) run.copiedOtherDisk++;
    return written;
  }
  try {
    await ensureGroupFolder(dir);
    const placed = await placeFile(otherDisk ? 'copy' : run.mode, r.absPath, source.stat, target);
    if (otherDisk || placed.linkRefused === 'other-disk') run.copiedOtherDisk++;
    else if (placed.linkRefused === 'not-allowed') run.copiedNotAllowed++;
  } catch (err) {
    const full = destinationFull(err instanceof DestinationProblem ? err.error : err);
    if (full) throw new Error(`export stopped: ${full}; ${run.plan.written} of ${run.total} files were written to ${run.out}`);
    return { kind: 'failed', reason: await whyNotPlaced(err, r.absPath, target) };
  }
  return written;
}

/**
 * Why placing a file failed, blaming the side that failed: the original was readable just
 * before, so a "not found" is the destination's unless the original is gone now too.
 */
async function whyNotPlaced(err: unknown, original: string, target: string): Promise<string> {
  if (err instanceof DestinationProblem) return err.message;
  const source = await readableSource(original);
  if ('reason' in source) return source.reason;
  return describeDestinationError(err, target);
}

/** Counts one record's placement in the plan and its group, and lists its file for the manifest. */
async function countPlacement(r: ExportRecord, g: GroupFolder, p: Placement, run: FolderRun): Promise<void> {
  const { plan } = run;
  if (p.kind === 'failed') {
    plan.failed.push({ imageId: r.imageId, path: r.absPath, reason: p.reason });
    g.result.failed++;
    run.unplaced.add(r.imageId);
    return;
  }
  const rel = `${g.folder}/${p.name}`;
  run.placed.add(rel);
  run.placedRecords.push({ record: r, rel });
  if (p.kind === 'there') {
    plan.alreadyThere++;
    g.result.alreadyThere++;
  } else {
    if (p.conflict) plan.conflicts.push(p.conflict);
    g.result.newFiles++;
    if (!plan.dryRun) plan.written++;
  }
  if (plan.dryRun) return;
  const entry = await manifestEntry(run.out, rel, r.imageId, p.stat);
  if (entry) run.files.push(entry);
}

/**
 * One folder per group. An original that cannot be read or placed is skipped with its reason
 * and the export goes on (one deleted file stopped it halfway); only a full or read-only
 * destination, which every further file would hit too, stops it. Then the files an earlier
 * export from this database placed here and this one does not are removed (see
 * manifest.ts), and the marker becomes this export's manifest.
 */
async function exportFolders(
  records: readonly ExportRecord[],
  byGroup: Map<string, GroupCount>,
  options: ExportOptions,
  plan: ExportPlan,
): Promise<void> {
  const { out } = options;
  const mode = options.mode ?? 'copy';
  await checkFolderDestination(out, options.libraryRoots ?? [], plan);
  const prior = await readPriorExport(out, options.database);
  // Hard links cannot cross disks: an original on another disk than the destination is copied,
  // decided before writing it (a link that fails with EXDEV would leave empty folders behind).
  const destDev = mode === 'hardlink' ? (await fsp.stat(nearestExisting(out))).dev : null;
  const folders = await assignFolders(out, byGroup, plan);
  if (!plan.dryRun) {
    await fsp.mkdir(out, { recursive: true });
    await writeMarker(out, options.database);
  }
  const run: FolderRun = {
    out,
    mode,
    destDev,
    plan,
    total: records.length,
    taken: new Set(),
    placed: new PlacedPaths(),
    unplaced: new Set(),
    files: [],
    copiedOtherDisk: 0,
    copiedNotAllowed: 0,
    placedRecords: [],
  };
  for (const r of records) {
    const g = folders.get(String(r.groupId))!;
    await countPlacement(r, g, await placeRecord(r, path.join(out, g.folder), run), run);
  }
  const listAgain = await settlePrior(prior, run, folders);
  if (!plan.dryRun) await saveManifest(run, folders, listAgain, options.database);
  plan.notes.push(...copiedNotes(run));
  if (options.hfMetadata) await writeHfMetadata(run);
}

/** The columns of metadata.csv: `file_name` and `label` as Hugging Face's `imagefolder` reads them, then ours. */
const HF_COLUMNS = ['file_name', 'label', 'group_id', 'image_id', 'confidence', 'user_confirmed', 'taken_at', 'duplicate_of'] as const;
export const HF_METADATA = 'metadata.csv';

/**
 * metadata.csv beside the class folders (`datasets.load_dataset("imagefolder", data_dir=out)`):
 * one row per exported file, its path in the folder and its group's name as the label. Written
 * over an earlier one of ours (same header), never over another file.
 */
async function writeHfMetadata(run: FolderRun): Promise<void> {
  const target = path.join(run.out, HF_METADATA);
  const header = HF_COLUMNS.join(',');
  const existing = await fsp.readFile(target, 'utf8').catch(() => null);
  if (existing !== null && !existing.startsWith(header)) {
    run.plan.notes.push(`${target} exists and is not one of ours: the Hugging Face metadata was not written`);
    return;
  }
  if (run.plan.dryRun) {
    run.plan.notes.push(`${HF_METADATA} (Hugging Face imagefolder) would list ${fmtCount(run.placedRecords.length)} files`);
    return;
  }
  const lines = [header];
  for (const { record: r, rel } of run.placedRecords) {
    const values = [
      rel,
      r.groupName,
      r.groupId,
      r.imageId,
      r.confidence === null ? null : r.confidence.toFixed(4),
      r.userConfirmed,
      r.takenAt ?? null,
      r.duplicateOf ?? null,
    ];
    lines.push(values.map((v, i) => csvCell(v, i <= 1 || i === 6 ? 'path' : 'n')).join(','));
  }
  await fsp.writeFile(target, lines.join('\n') + '\n');
  run.plan.notes.push(`${HF_METADATA} lists the ${fmtCount(run.placedRecords.length)} files with their labels (Hugging Face imagefolder)`);
}

/**
 * The earlier export's files this one no longer places: removed if still as written (a dry run
 * counts them), kept with a note if changed since. Resolves to the entries the new manifest
 * lists again: kept because their image could not be placed now, or because removing failed.
 */
async function settlePrior(prior: PriorExport, run: FolderRun, folders: Map<string, GroupFolder>): Promise<ManifestFile[]> {
  const { plan, out } = run;
  const note = priorNote(prior, out, plan.dryRun);
  if (note) plan.notes.push(note);
  if (prior.kind !== 'listed') return [];
  const stale = await staleFiles(out, prior.manifest, run.placed, run.unplaced);
  const { removed, kept } = plan.dryRun ? { removed: stale.removable, kept: [] } : await removeFiles(out, stale.removable);
  plan.removedFiles = removed.map((f) => ({ imageId: f.imageId, path: manifestFileAt(out, f) }));
  const byFolder = new Map([...folders.values()].map((g) => [g.folder, g.result]));
  for (const f of removed) {
    const g = byFolder.get(f.path.split('/')[0]!);
    if (g) g.removed++;
  }
  const emptied = await removeEmptyFolders(out, removed, run.placed, plan.dryRun);
  plan.notes.push(...staleNotes(out, stale, kept, emptied, plan.dryRun));
  return [...stale.carried, ...kept.map((k) => k.entry)];
}

/** Why nothing of an earlier export is removed, where the folder holds one this export cannot go by. */
function priorNote(prior: PriorExport, out: string, dryRun: boolean): string | null {
  if (prior.kind === 'unlisted') {
    return `${EXPORT_MARKER} in ${out} lists no exported files (${prior.why}): files of earlier exports no longer in these groups ${dryRun ? 'will not be' : 'were not'} removed`;
  }
  if (prior.kind === 'other-database') {
    return `${out} holds an export from another database (${prior.database}): none of its files ${dryRun ? 'will be' : 'were'} removed`;
  }
  return null;
}

const fmtCount = (n: number) => n.toLocaleString('en-US');
const files = (n: number) => (n === 1 ? '1 file' : `${fmtCount(n)} files`);
const either = (n: number, one: string, many: string) => (n === 1 ? one : many);

/** The first few of a long list, and how many more (a note is a line, not a listing). */
function fewOf(items: readonly string[], few = 5): string {
  return items.length <= few ? items.join(', ') : `${items.slice(0, few).join(', ')} and ${fmtCount(items.length - few)} more`;
}

/** What became of the earlier export's files that were not removed, and of their folders (paths in full: the user looks for them). */
function staleNotes(
  out: string,
  stale: StaleFiles,
  kept: ReadonlyArray<{ entry: ManifestFile; reason: string }>,
  emptied: readonly string[],
  dryRun: boolean,
): string[] {
  const notes: string[] = [];
  const paths = (entries: readonly ManifestFile[]) => entries.map((e) => manifestFileAt(out, e));
  const changed = stale.changed.length;
  if (changed) {
    notes.push(
      `${files(changed)} no longer in these groups ${either(changed, 'has', 'have')} changed since an earlier export placed ${either(changed, 'it', 'them')}, so ${either(changed, 'it is', 'they are')} kept: ${fewOf(paths(stale.changed))}`,
    );
  }
  const carried = stale.carried.length;
  if (carried) {
    notes.push(
      `${files(carried)} of an earlier export ${either(carried, 'is', 'are')} kept where ${either(carried, 'it was', 'they were')}: ${either(carried, 'its original', 'their originals')} cannot be read now (see the files not exported): ${fewOf(paths(stale.carried))}`,
    );
  }
  if (kept.length)
    notes.push(
      `${files(kept.length)} no longer in these groups could not be removed: ${fewOf(kept.map((k) => `${manifestFileAt(out, k.entry)} (${k.reason})`))}`,
    );
  const n = emptied.length;
  if (n)
    notes.push(
      `${either(n, '1 group folder', `${fmtCount(n)} group folders`)} left empty ${dryRun ? 'would be' : either(n, 'was', 'were')} removed: ${fewOf(emptied.map((f) => path.join(out, f)))}`,
    );
  return notes;
}

/** Replaces the marker with this export's manifest; a failure is a note, not a failed export (the files are placed). */
async function saveManifest(
  run: FolderRun,
  folders: Map<string, GroupFolder>,
  listAgain: readonly ManifestFile[],
  database: string | undefined,
): Promise<void> {
  const manifest: ExportManifest = {
    app: 'constellate',
    manifest: MANIFEST_VERSION,
    time: new Date().toISOString(),
    database: database ?? null,
    groups: [...folders.values()].map((g) => ({ folder: g.folder, groupId: g.result.groupId, name: g.result.name })),
    files: [...run.files, ...listAgain],
  };
  try {
    await writeManifest(run.out, manifest);
  } catch (err) {
    run.plan.notes.push(
      `the list of exported files could not be saved in ${EXPORT_MARKER} (${describeError(err)}): the next export into ${run.out} will not recognise these files as its own`,
    );
  }
}

function copiedNotes(run: FolderRun): string[] {
  const { plan, out } = run;
  const copied = (count: number) => `${files(count)} ${plan.dryRun ? 'would be' : either(count, 'was', 'were')} copied, not hard-linked`;
  const notes: string[] = [];
  if (run.copiedOtherDisk > 0) {
    notes.push(
      `${copied(run.copiedOtherDisk)}: hard links cannot cross disks, and ${out} is on another disk than ${either(run.copiedOtherDisk, 'its original', 'their originals')}`,
    );
  }
  if (run.copiedNotAllowed > 0) {
    notes.push(
      `${copied(run.copiedNotAllowed)}: the system refused the links (a drive without hard links, such as FAT or exFAT, or a network share, or files you do not own)`,
    );
  }
  return notes;
}
