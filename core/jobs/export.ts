/**
 * Exports the current grouping: CSV, JSON (one record per image) or one folder per group
 * (copy, hardlink or symlink). Never overwrites: an existing target or a name collision gets
 * a numeric suffix, and a dry run reports exactly what would be written. Originals are only
 * read (copy) or linked to, never moved or changed.
 */
import { constants as fsConstants } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { ExportPlan } from '../api/contract.js';

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

/** A folder name that is valid on Windows, macOS and Linux. */
export function safeFolderName(name: string): string {
  let s = name.normalize('NFC').replace(/[<>:"/\\|?*\u0000-\u001f]/g, '_').replace(/[. ]+$/, '').trim();
  if (/^(con|prn|aux|nul|com\d|lpt\d)$/i.test(s)) s = `${s}_`;
  return s.slice(0, 120) || 'group';
}

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** `name.ext`, else `name (2).ext`, `name (3).ext`, ... avoiding both disk and this plan. */
async function freeName(dir: string, file: string, taken: Set<string>): Promise<string> {
  const ext = path.extname(file);
  const stem = file.slice(0, file.length - ext.length);
  for (let i = 1; ; i++) {
    const candidate = i === 1 ? file : `${stem} (${i})${ext}`;
    const full = path.join(dir, candidate);
    if (!taken.has(full.toLowerCase()) && !(await exists(full))) {
      taken.add(full.toLowerCase());
      return candidate;
    }
  }
}

export async function exportRecords(
  records: readonly ExportRecord[],
  options: { format: ExportFormat; out: string; mode?: ExportMode; dryRun?: boolean },
): Promise<ExportPlan> {
  const dryRun = options.dryRun ?? false;
  const byGroup = new Map<string, { groupId: number | null; name: string; count: number }>();
  for (const r of records) {
    const key = String(r.groupId);
    const g = byGroup.get(key) ?? { groupId: r.groupId, name: r.groupName, count: 0 };
    g.count++;
    byGroup.set(key, g);
  }
  const plan: ExportPlan = { total: records.length, groups: [], conflicts: [], dryRun, written: 0 };

  if (options.format !== 'folders') {
    const target = (await exists(options.out)) ? path.join(path.dirname(options.out), await freeName(path.dirname(options.out), path.basename(options.out), new Set())) : options.out;
    plan.groups = [...byGroup.values()].map((g) => ({ ...g, target }));
    if (target !== options.out) plan.conflicts.push({ imageId: 0, target: options.out, renamedTo: target });
    if (!dryRun) {
      await fsp.mkdir(path.dirname(target), { recursive: true });
      // 'wx': fail rather than overwrite if something appeared since the check.
      await fsp.writeFile(target, options.format === 'csv' ? toCsv(records) : toJson(records), { flag: 'wx' });
      plan.written = records.length;
    }
    return plan;
  }

  // Folders: one per group, names made safe and unique (two groups may share a name).
  const mode = options.mode ?? 'copy';
  const folderOf = new Map<string, string>();
  const usedFolders = new Set<string>();
  for (const [key, g] of byGroup) {
    const base = safeFolderName(g.name);
    let name = base;
    for (let i = 2; usedFolders.has(name.toLowerCase()); i++) name = `${base} (${i})`;
    usedFolders.add(name.toLowerCase());
    folderOf.set(key, name);
    plan.groups.push({ groupId: g.groupId, name: g.name, target: path.join(options.out, name), count: g.count });
  }
  const taken = new Set<string>();
  for (const r of records) {
    const dir = path.join(options.out, folderOf.get(String(r.groupId))!);
    const wanted = path.basename(r.absPath);
    const name = await freeName(dir, wanted, taken);
    const target = path.join(dir, name);
    if (name !== wanted) plan.conflicts.push({ imageId: r.imageId, target: path.join(dir, wanted), renamedTo: target });
    if (dryRun) continue;
    await fsp.mkdir(dir, { recursive: true });
    if (mode === 'copy') await fsp.copyFile(r.absPath, target, fsConstants.COPYFILE_EXCL);
    else if (mode === 'hardlink') await fsp.link(r.absPath, target);
    else await fsp.symlink(r.absPath, target);
    plan.written++;
  }
  return plan;
}
