/**
 * Exports the current grouping: CSV, JSON (one record per image) or one folder per group
 * (copy, hardlink or symlink). Never overwrites: an existing target or a name collision gets
 * a numeric suffix, unless it already holds the same content (an earlier export: "already
 * there", not written again). A dry run reports exactly what would be written, and which
 * originals are gone. Originals are only read (copy) or linked to, never moved or changed.
 * A folder export marks its folder (EXPORT_MARKER) so library scans leave it out.
 */
import { constants as fsConstants, type Stats } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { ExportPlan } from '../api/contract.js';
import { EXPORT_MARKER } from '../library/exportMarker.js';
import { describeError, destinationFull, placeFile, readableSource, sameContent } from './exportFiles.js';
import { ExportDestinationError, fileInTheWay, libraryContaining, nearestExisting } from './exportTarget.js';

export interface ExportRecord {
  imageId: number;
  absPath: string;
  groupId: number | null;
  groupName: string;
  confidence: number | null;
}

export type ExportFormat = 'csv' | 'json' | 'folders';
export type ExportMode = 'copy' | 'hardlink' | 'symlink';

export const UNSORTED_NAME = 'Unsorted';

export function toCsv(records: readonly ExportRecord[]): string {
  const lines = ['path,group_id,group_name,confidence'];
  for (const r of records) {
    lines.push([csvField(r.absPath), r.groupId ?? '', csvField(r.groupName), r.confidence === null ? '' : r.confidence.toFixed(4)].join(','));
  }
  return lines.join('\n') + '\n';
}

export function toJson(records: readonly ExportRecord[]): string {
  return JSON.stringify(
    records.map((r) => ({ path: r.absPath, group_id: r.groupId, group_name: r.groupName, confidence: r.confidence })),
    null,
    2,
  );
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const MAX_FOLDER_NAME = 120;

/** A folder name that is valid on Windows, macOS and Linux. */
export function safeFolderName(name: string): string {
  let s = name.normalize('NFC').replace(/[<>:"/\\|?*\u0000-\u001f]/g, '_').trim();
  // Cut on code points, not UTF-16 units: a cut inside a surrogate pair (an emoji) leaves an
  // invalid half that some filesystems refuse. Windows refuses a trailing dot or space, which
  // a cut can leave too, so they are stripped after it.
  s = Array.from(s).slice(0, MAX_FOLDER_NAME).join('').replace(/[. ]+$/, '');
  // Windows reserves these names with any extension too ("NUL.txt", "con.tar.gz"): the
  // underscore goes after the reserved word, where it breaks the match.
  s = s.replace(/^(con|prn|aux|nul|com\d|lpt\d)(?=[. ]|$)/i, '$1_');
  return s || 'group';
}

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** `name.ext` for i = 1, else `name (i).ext`. */
function numbered(file: string, i: number): string {
  if (i === 1) return file;
  const ext = path.extname(file);
  return `${file.slice(0, file.length - ext.length)} (${i})${ext}`;
}

/** `name.ext`, else `name (2).ext`, `name (3).ext`, ... avoiding both disk and this plan. */
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
 * Where one original goes in its group folder: its own name, else `name (2).ext`, ... A name
 * already holding the same content (an earlier export into this folder) is that file, "already
 * there": exporting twice must not double every file. Only a different file under the name
 * moves the original on to the next number.
 */
async function slotFor(dir: string, original: string, originalStat: Stats, taken: Set<string>): Promise<{ name: string; alreadyThere: boolean }> {
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
  const plan: ExportPlan = { total: records.length, groups: [], conflicts: [], conflictCount: 0, alreadyThere: 0, failed: [], failedCount: 0, notes: [], dryRun, written: 0 };
  if (options.format === 'folders') await exportFolders(records, byGroup, options, plan);
  else await exportFile(records, [...byGroup.values()], options.format, options.out, plan);
  plan.conflictCount = plan.conflicts.length;
  plan.failedCount = plan.failed.length;
  return plan;
}

/** The plan with at most `limit` entries in each list (the counts say how many there are). */
export function listedAtMost(plan: ExportPlan, limit: number): ExportPlan {
  return { ...plan, conflicts: plan.conflicts.slice(0, limit), failed: plan.failed.slice(0, limit) };
}

/** CSV or JSON: one file, never overwriting one. */
async function exportFile(records: readonly ExportRecord[], groups: GroupCount[], format: 'csv' | 'json', out: string, plan: ExportPlan): Promise<void> {
  // A folder given as the output: the file goes into it under a fixed name (it went beside the
  // folder, as "folder (2)" with no extension).
  const intoFolder = (await fsp.stat(out).catch(() => null))?.isDirectory() ?? false;
  const dir = intoFolder ? out : path.dirname(out);
  const wanted = intoFolder ? `constellate-groups.${format}` : path.basename(out);
  const blocker = fileInTheWay(dir);
  if (blocker) throw new ExportDestinationError(`${blocker} is a file, not a folder`);
  const name = await freeName(dir, wanted, new Set());
  const target = path.join(dir, name);
  plan.groups = groups.map((g) => ({ ...g, target }));
  if (intoFolder) plan.notes.push(`${out} is a folder: the ${format.toUpperCase()} file ${plan.dryRun ? 'goes' : 'went'} into it, as ${name}`);
  if (name !== wanted) plan.conflicts.push({ imageId: 0, target: path.join(dir, wanted), renamedTo: target });
  if (plan.dryRun) return;
  await fsp.mkdir(dir, { recursive: true });
  // 'wx': fail rather than overwrite if something appeared since the check.
  await fsp.writeFile(target, format === 'csv' ? toCsv(records) : toJson(records), { flag: 'wx' });
  plan.written = records.length;
}

/**
 * The marker that leaves this folder out of library scans (see exportMarker.ts). An earlier
 * export's marker stays: the folder is marked already, and nothing is overwritten.
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
  plan.notes.push(`${out} is inside library ${library}: a marker file (${EXPORT_MARKER}) keeps the export out of its scans, so its images are not counted twice`);
}

const FOLDER_ORDER = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/**
 * One folder per group. An original that cannot be read or placed is skipped with its reason
 * and the export goes on (one deleted file stopped it halfway); only a full or read-only
 * destination, which every further file would hit too, stops it.
 */
async function exportFolders(records: readonly ExportRecord[], byGroup: Map<string, GroupCount>, options: ExportOptions, plan: ExportPlan): Promise<void> {
  const { out } = options;
  const mode = options.mode ?? 'copy';
  await checkFolderDestination(out, options.libraryRoots ?? [], plan);
  // Hard links cannot cross disks: an original on another disk than the destination is copied,
  // decided before writing it (the link failed with EXDEV, leaving empty folders).
  const destDev = mode === 'hardlink' ? (await fsp.stat(nearestExisting(out))).dev : null;

  // Names made safe and unique (two groups may share a name); the marker's name is not a
  // group's, and neither is a file's already there.
  const folderOf = new Map<string, string>();
  const usedFolders = new Set<string>([EXPORT_MARKER.toLowerCase()]);
  // In name order ("Group 2" before "Group 10"), Unsorted last: the preview lists them so, and a
  // shared name's "(2)" goes to the same group every time.
  const ordered = [...byGroup].sort(([, a], [, b]) => Number(a.groupId === null) - Number(b.groupId === null) || FOLDER_ORDER.compare(a.name, b.name));
  for (const [key, g] of ordered) {
    const base = safeFolderName(g.name);
    let name = base;
    for (let i = 2; usedFolders.has(name.toLowerCase()) || (await fsp.stat(path.join(out, name)).catch(() => null))?.isDirectory() === false; i++) name = `${base} (${i})`;
    usedFolders.add(name.toLowerCase());
    folderOf.set(key, name);
    plan.groups.push({ groupId: g.groupId, name: g.name, target: path.join(out, name), count: g.count });
  }
  if (!plan.dryRun) {
    await fsp.mkdir(out, { recursive: true });
    await writeMarker(out, options.database);
  }

  const taken = new Set<string>();
  let copiedOtherDisk = 0;
  let copiedNotAllowed = 0;
  for (const r of records) {
    const source = await readableSource(r.absPath);
    if ('reason' in source) {
      plan.failed.push({ imageId: r.imageId, path: r.absPath, reason: source.reason });
      continue;
    }
    const dir = path.join(out, folderOf.get(String(r.groupId))!);
    const slot = await slotFor(dir, r.absPath, source.stat, taken);
    if (slot.alreadyThere) {
      plan.alreadyThere++;
      continue;
    }
    const target = path.join(dir, slot.name);
    const conflict = slot.name === path.basename(r.absPath) ? null : { imageId: r.imageId, target: path.join(dir, path.basename(r.absPath)), renamedTo: target };
    const otherDisk = mode === 'hardlink' && source.stat.dev !== destDev;
    if (plan.dryRun) {
      if (conflict) plan.conflicts.push(conflict);
      if (otherDisk) copiedOtherDisk++;
      continue;
    }
    try {
      await fsp.mkdir(dir, { recursive: true });
      const placed = await placeFile(otherDisk ? 'copy' : mode, r.absPath, source.stat, target);
      if (otherDisk || placed.linkRefused === 'other-disk') copiedOtherDisk++;
      else if (placed.linkRefused === 'not-allowed') copiedNotAllowed++;
    } catch (err) {
      const full = destinationFull(err);
      if (full) throw new Error(`export stopped: ${full}; ${plan.written} of ${records.length} files were written to ${out}`);
      plan.failed.push({ imageId: r.imageId, path: r.absPath, reason: describeError(err) });
      continue;
    }
    if (conflict) plan.conflicts.push(conflict);
    plan.written++;
  }
  const copied = (count: number) => `${count === 1 ? '1 file' : `${count} files`} ${plan.dryRun ? 'would be' : count === 1 ? 'was' : 'were'} copied, not hard-linked`;
  if (copiedOtherDisk > 0) {
    plan.notes.push(`${copied(copiedOtherDisk)}: hard links cannot cross disks, and ${out} is on another disk than ${copiedOtherDisk === 1 ? 'its original' : 'their originals'}`);
  }
  if (copiedNotAllowed > 0) {
    plan.notes.push(`${copied(copiedNotAllowed)}: the system refused the links (a drive without hard links, such as FAT or exFAT, or a network share, or files you do not own)`);
  }
}
