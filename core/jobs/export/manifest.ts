/**
 * The manifest a folder export keeps in its EXPORT_MARKER file: which database it came from,
 * its groups (folder names are made safe, so the real names are here) and every file it placed
 * or found already there, with what identifies the file as the export's own (size and mtime;
 * for a symbolic link, its target). A later export into the folder from the same database
 * removes the files it no longer places (an image moved to another group, a group renamed):
 * without it, the folder held the image under two labels. Only files still exactly as written
 * are removed (unlink: a link's original is never touched), never one the user changed since,
 * and never outside the export folder: a marker that is not a manifest this version wrote
 * (older, corrupt, crafted) lists nothing, and nothing is removed.
 */
import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { EXPORT_MARKER } from '../../library/exportMarker.js';
import { describeError } from './files.js';

/** The manifest's format version (the `manifest` field); a marker without it lists nothing. */
export const MANIFEST_VERSION = 1;

/**
 * `folder/file`, the only shape an export writes. Anything else (absolute, `..`, deeper, empty
 * parts) did not come from this app and is never followed.
 */
export function isSafeManifestPath(p: string): boolean {
  const parts = p.split('/');
  return parts.length === 2 && parts.every(isSafeName);
}

function isSafeName(s: string): boolean {
  if (s === '' || s === '.' || s === '..' || s.includes('\0')) return false;
  // Windows reads `\` as a separator and `:` as a drive or a stream: a name with either is not one name there.
  return !(process.platform === 'win32' && /[\\:]/.test(s));
}

const manifestPath = z.string().refine(isSafeManifestPath);
const fileSchema = z.union([
  z.object({
    path: manifestPath,
    imageId: z.number().int(),
    how: z.enum(['copy', 'hardlink']),
    size: z.number().int().min(0),
    mtimeMs: z.number(),
  }),
  z.object({ path: manifestPath, imageId: z.number().int(), how: z.literal('symlink'), target: z.string().min(1) }),
]);
const manifestSchema = z.object({
  app: z.literal('constellate'),
  manifest: z.literal(MANIFEST_VERSION),
  time: z.string(),
  database: z.string().nullable(),
  groups: z.array(z.object({ folder: z.string(), groupId: z.number().int().nullable(), name: z.string() })),
  files: z.array(fileSchema),
});

export type ManifestFile = z.infer<typeof fileSchema>;
export type ExportManifest = z.infer<typeof manifestSchema>;

/** What an export folder holds from before: nothing, a manifest to go by, or a marker that is none. */
export type PriorExport =
  | { kind: 'none' }
  | { kind: 'unlisted'; why: string }
  | { kind: 'other-database'; database: string }
  | { kind: 'listed'; manifest: ExportManifest };

/** By the database exported from: a list that cannot say, or is another's, is not gone by. */
function byDatabase(manifest: ExportManifest, database: string | undefined): PriorExport {
  if (manifest.database === null || database === undefined) return { kind: 'unlisted', why: 'the database it came from is not known' };
  if (path.resolve(manifest.database) !== path.resolve(database)) return { kind: 'other-database', database: manifest.database };
  return { kind: 'listed', manifest };
}

/** Why a marker's text is no manifest of this version, or the manifest. */
function parseManifest(text: string): ExportManifest | string {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return 'it is not readable JSON';
  }
  const parsed = manifestSchema.safeParse(data);
  if (parsed.success) return parsed.data;
  const old = typeof data === 'object' && data !== null && !('manifest' in data);
  return old ? 'an export that did not finish, or one by an earlier version' : 'it is not a list this version can trust';
}

/** The manifest in `out`, if there is one this export may go by (`database`: the one exported from). */
export async function readPriorExport(out: string, database: string | undefined): Promise<PriorExport> {
  let text: string;
  try {
    text = await fsp.readFile(path.join(out, EXPORT_MARKER), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? { kind: 'none' } : { kind: 'unlisted', why: describeError(err) };
  }
  const manifest = parseManifest(text);
  return typeof manifest === 'string' ? { kind: 'unlisted', why: manifest } : byDatabase(manifest, database);
}

/** A placed (or already there) file as the manifest records it; null if it is not there now. */
export async function manifestEntry(out: string, rel: string, imageId: number, original: Stats): Promise<ManifestFile | null> {
  const abs = path.join(out, ...rel.split('/'));
  const st = await fsp.lstat(abs).catch(() => null);
  if (!st) return null;
  if (st.isSymbolicLink()) return { path: rel, imageId, how: 'symlink', target: await fsp.readlink(abs) };
  // A hard link is the original's own inode; anything else with its content is a copy.
  const how = st.dev === original.dev && st.ino === original.ino ? 'hardlink' : 'copy';
  return { path: rel, imageId, how, size: st.size, mtimeMs: st.mtimeMs };
}

/** A manifest entry's file, absolute. */
export function manifestFileAt(out: string, entry: ManifestFile): string {
  return path.join(out, ...entry.path.split('/'));
}

type Standing = 'gone' | 'ours' | 'changed' | 'not-followed';

/**
 * Whether a listed file is still what the export wrote. Its folder must be a real folder of
 * the export, not a link to one elsewhere (lstat: links are not followed).
 */
async function standing(out: string, entry: ManifestFile): Promise<Standing> {
  const abs = manifestFileAt(out, entry);
  const folder = await fsp.lstat(path.dirname(abs)).catch(() => null);
  if (!folder) return 'gone';
  if (!folder.isDirectory()) return 'not-followed';
  const st = await fsp.lstat(abs).catch(() => null);
  if (!st) return 'gone';
  if (entry.how === 'symlink') {
    return st.isSymbolicLink() && (await fsp.readlink(abs).catch(() => null)) === entry.target ? 'ours' : 'changed';
  }
  return st.isFile() && st.size === entry.size && st.mtimeMs === entry.mtimeMs ? 'ours' : 'changed';
}

/** Names compared as a case- and normalization-insensitive disk (macOS, Windows) would. */
const folded = (rel: string) => rel.normalize('NFC').toLowerCase();

/**
 * Whether `a` and `b` (spelt differently only in case or normalization) are one directory
 * entry: on a case-insensitive disk they are, and "fruit/x.png" listed before is the
 * "Fruit/x.png" this export found already there. Hard links share an inode, so inodes cannot
 * tell; the folder's listing can (it holds both names only where they are two files).
 */
async function sameEntry(out: string, a: string, b: string): Promise<boolean> {
  const [folderA, nameA] = a.split('/') as [string, string];
  const [folderB, nameB] = b.split('/') as [string, string];
  const dirA = path.join(out, folderA);
  const [sa, sb] = await Promise.all([fsp.stat(dirA).catch(() => null), fsp.stat(path.join(out, folderB)).catch(() => null)]);
  if (!sa || !sb || sa.dev !== sb.dev || sa.ino !== sb.ino) return false;
  if (nameA === nameB) return true;
  const names = await fsp.readdir(dirA).catch(() => [] as string[]);
  return !(names.includes(nameA) && names.includes(nameB));
}

/** The files this export placed or found already there (paths as the manifest writes them). */
export class PlacedPaths {
  private readonly exact = new Set<string>();
  private readonly byFolded = new Map<string, string[]>();
  private readonly folders = new Set<string>();

  add(rel: string): void {
    this.exact.add(rel);
    this.folders.add(rel.split('/')[0]!);
    const k = folded(rel);
    this.byFolded.set(k, [...(this.byFolded.get(k) ?? []), rel]);
  }

  /** Whether this export placed a file at `rel`, however the disk spells it. */
  async has(out: string, rel: string): Promise<boolean> {
    if (this.exact.has(rel)) return true;
    for (const other of this.byFolded.get(folded(rel)) ?? []) if (await sameEntry(out, rel, other)) return true;
    return false;
  }

  /** Whether anything was placed in `folder`. */
  inFolder(folder: string): boolean {
    return this.folders.has(folder);
  }
}

/**
 * The earlier export's files this one does not place: `removable` (still as written),
 * `changed` (edited since: the user's now, kept and forgotten), `carried` (their image's
 * original cannot be read now, so this export could not place it anew: kept, and listed again
 * so a later export can remove them once it does).
 */
export interface StaleFiles {
  removable: ManifestFile[];
  changed: ManifestFile[];
  carried: ManifestFile[];
}

export async function staleFiles(
  out: string,
  manifest: ExportManifest,
  placed: PlacedPaths,
  unreadable: ReadonlySet<number>,
): Promise<StaleFiles> {
  const result: StaleFiles = { removable: [], changed: [], carried: [] };
  const seen = new Set<string>();
  for (const entry of manifest.files) {
    if (seen.has(entry.path) || (await placed.has(out, entry.path))) continue;
    seen.add(entry.path);
    const s = await standing(out, entry);
    if (s === 'changed') result.changed.push(entry);
    else if (s === 'ours') (unreadable.has(entry.imageId) ? result.carried : result.removable).push(entry);
  }
  return result;
}

/** Unlinks each file (a link itself, never what it points to); those that fail stay, with why. */
export async function removeFiles(
  out: string,
  files: readonly ManifestFile[],
): Promise<{ removed: ManifestFile[]; kept: Array<{ entry: ManifestFile; reason: string }> }> {
  const removed: ManifestFile[] = [];
  const kept: Array<{ entry: ManifestFile; reason: string }> = [];
  for (const entry of files) {
    try {
      await fsp.unlink(manifestFileAt(out, entry));
      removed.push(entry);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') kept.push({ entry, reason: describeError(err) });
    }
  }
  return { removed, kept };
}

/**
 * The folders of `removed` files that are empty now (in a dry run: would be, nothing placed in
 * them and every entry removed). rmdir only, never recursive: a folder holding anything else
 * stays.
 */
export async function removeEmptyFolders(
  out: string,
  removed: readonly ManifestFile[],
  placed: PlacedPaths,
  dryRun: boolean,
): Promise<string[]> {
  const byFolder = new Map<string, Set<string>>();
  for (const f of removed) {
    const [folder, name] = f.path.split('/') as [string, string];
    byFolder.set(folder, (byFolder.get(folder) ?? new Set()).add(name));
  }
  const emptied: string[] = [];
  for (const [folder, names] of byFolder) {
    const dir = path.join(out, folder);
    if (dryRun) {
      const left = await fsp.readdir(dir).catch(() => null);
      if (left && !placed.inFolder(folder) && left.every((n) => names.has(n))) emptied.push(folder);
    } else if (
      await fsp.rmdir(dir).then(
        () => true,
        () => false,
      )
    ) {
      emptied.push(folder);
    }
  }
  return emptied;
}

/** The manifest as text: one line per group and per file (100,000 files stay a few MB, and readable). */
function manifestText(m: ExportManifest): string {
  const list = (items: readonly object[]) => (items.length ? `[\n${items.map((x) => `    ${JSON.stringify(x)}`).join(',\n')}\n  ]` : '[]');
  const fields = [
    ...(['app', 'manifest', 'time', 'database'] as const).map((k) => `  "${k}": ${JSON.stringify(m[k])}`),
    `  "groups": ${list(m.groups)}`,
    `  "files": ${list(m.files)}`,
  ];
  return `{\n${fields.join(',\n')}\n}\n`;
}

/**
 * Replaces the marker with `manifest` atomically: written and flushed to a temporary file
 * beside it, then renamed over it, so an export stopped halfway leaves the old marker whole
 * (the folder stays marked, and its list stays true) and never a half-written one.
 */
export async function writeManifest(out: string, manifest: ExportManifest): Promise<void> {
  const tmp = path.join(out, `${EXPORT_MARKER}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await fsp.open(tmp, 'wx');
    try {
      await fh.writeFile(manifestText(manifest));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, path.join(out, EXPORT_MARKER));
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}
