import type { JobState } from '../../core/shared/contract.js';

export function fmtCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** "1 image", "2 images", "1,234 images": a count with its noun, singular for one. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${fmtCount(n)} ${n === 1 ? one : many}`;
}

/**
 * The export destination proposed when the format changes, from the one typed for the other
 * format: the same place and name with the new format's ending ("/x/sorted" for folders,
 * "/x/sorted.csv", "/x/sorted.json"), so a folder path is never reused as a file name.
 */
export function exportPathFor(out: string, format: 'folders' | 'csv' | 'json'): string {
  const base = out.trim().replace(/[\\/]+$/, '').replace(/\.(csv|json)$/i, '');
  if (!base) return '';
  return format === 'folders' ? base : `${base}.${format}`;
}

export function fmtPct(x: number | null | undefined): string {
  return x === null || x === undefined ? '—' : `${Math.round(x * 100)}%`;
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024,
    u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

export function fmtDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export function fmtDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export const PHASE_LABEL: Record<string, string> = {
  scan: 'Scanning',
  check: 'Checking for copies',
  embed: 'Decoding and embedding',
  train: 'Clustering',
  write: 'Saving',
  map: 'Mapping',
  download: 'Downloading',
  verify: 'Checking the model',
};

/** The message when a grouping run ends: what it made, and what became of the groups it replaced. */
export function jobDoneText(job: JobState): string {
  const p = job.placed;
  if (p) {
    const parts = [p.placed === 0 ? 'No new or changed images' : `Placed ${plural(p.placed, 'new or changed image')} in your groups`];
    if (p.unsorted) parts.push(`of those, ${fmtCount(p.unsorted)} ${p.unsorted === 1 ? 'fits' : 'fit'} no group well and went to Unsorted, where Regroup… makes groups for them`);
    if (p.newlyMissing) parts.push(`${plural(p.newlyMissing, 'image')} no longer in ${p.newlyMissing === 1 ? 'its folder' : 'their folders'}`);
    return parts.join('; ');
  }
  if (job.model) return `Added ${job.model.name}: Libraries > Models > Use switches the library to it`;
  const s = job.summary;
  if (!s) return 'Clustering finished';
  const parts = [`Grouped ${plural(s.images, 'image')} into ${plural(s.groups.length, 'group')}`];
  // more groups than asked: one per group holding pinned images
  if (s.kRequested !== undefined && s.k > s.kRequested) parts.push(`not ${s.kRequested}: ${s.pinnedGroups} groups hold pinned images`);
  if (s.names?.dropped.length) parts.push(`no group is mostly ${s.names.dropped.map((n) => `“${n}”`).join(', ')} any more: ${s.names.dropped.length === 1 ? 'that name was' : 'those names were'} dropped`);
  return parts.join('; ');
}

/** An error as the user reads it. */
export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
