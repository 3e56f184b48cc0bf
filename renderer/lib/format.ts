import type { JobState, NameOffer } from '../../core/shared/contract.js';

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
  const base = out
    .trim()
    .replace(/[\\/]+$/, '')
    .replace(/\.(csv|json)$/i, '');
  if (!base) return '';
  return format === 'folders' ? base : `${base}.${format}`;
}

/**
 * How a confidence is coloured. It is calibrated (the share of such images in the right group,
 * docs/clustering.md), so it rarely passes about 75%: from 60% an image is likely right, below the
 * default Unsorted threshold (35%) it is more likely wrong.
 */
export function confidenceLevel(c: number): 'low' | 'mid' | 'high' {
  return c < 0.35 ? 'low' : c < 0.6 ? 'mid' : 'high';
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

/**
 * A photo's date as its camera showed it: the wall clock of ImageSummary.takenAt, whatever the
 * viewer's zone (a photo taken at 14:00 in Rome reads 14:00 in New York too).
 */
export function fmtTaken(takenAt: string | null | undefined): string {
  const m = takenAt ? /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})/.exec(takenAt) : null;
  return m ? fmtDate(m[1]) : '—';
}

/** An image's date and where it comes from: "Taken 4 Mar 2019, 05:06", or "File date 12 Nov 2024, 10:00". */
export function imageDateText(i: { takenAt: string | null; fileTime?: string }): string {
  if (i.takenAt) return `Taken ${fmtTaken(i.takenAt)}`;
  return i.fileTime ? `File date ${fmtDate(i.fileTime)} (the photo records no date)` : 'No date';
}

export const PHASE_LABEL: Record<string, string> = {
  scan: 'Scanning',
  check: 'Checking for copies',
  model: 'Loading the model…',
  embed: 'Decoding and embedding',
  details: 'Reading dates',
  train: 'Clustering',
  write: 'Saving',
  map: 'Mapping',
  download: 'Downloading',
  verify: 'Checking the model',
};

/** What a phase counts, where it is not images ("Clustering 3 / 30 epochs"). */
export const PHASE_UNIT: Record<string, string> = { train: 'epochs' };

/**
 * Where the model ran, in a user's words: "CPU" or "GPU", never a package name ("wasm",
 * "tfjs-node"); the device's details (WebAssembly SIMD, CUDA) are for a tooltip.
 */
export function backendText(b: { choice: string; device: string } | null | undefined): string {
  if (!b) return '—';
  const head = b.device.split(' (')[0]!.trim();
  if (/^(CPU|GPU)$/i.test(head)) return head.toUpperCase();
  return /gpu|cuda|webgpu|webgl|directml|coreml/i.test(`${b.choice} ${b.device}`) ? 'GPU' : 'CPU';
}

/** The message when a grouping run ends: what it made, and what became of the groups it replaced. */
export function jobDoneText(job: JobState): string {
  const p = job.placed;
  if (p) {
    const parts = [p.placed === 0 ? 'No new or changed images' : `Placed ${plural(p.placed, 'new or changed image')} in your groups`];
    if (p.unsorted)
      parts.push(
        `of those, ${fmtCount(p.unsorted)} ${p.unsorted === 1 ? 'fits' : 'fit'} no group well and went to Unsorted, where Regroup… makes groups for them`,
      );
    if (p.newlyMissing)
      parts.push(`${plural(p.newlyMissing, 'image')} no longer in ${p.newlyMissing === 1 ? 'its folder' : 'their folders'}`);
    return parts.join('; ');
  }
  if (job.model) return `Added ${job.model.name}: Libraries > Models > Use switches the library to it`;
  const s = job.summary;
  if (!s) return 'Clustering finished';
  const parts = [`Grouped ${plural(s.images, 'image')} into ${plural(s.groups.length, 'group')}`];
  // more groups than asked: one per group holding pinned images
  if (s.kRequested !== undefined && s.k > s.kRequested) parts.push(`not ${s.kRequested}: ${s.pinnedGroups} groups hold pinned images`);
  const offered = new Set((s.names?.offers ?? []).map((o) => o.name));
  const lost = (s.names?.dropped ?? []).filter((n) => !offered.has(n));
  for (const o of s.names?.offers ?? []) parts.push(nameOfferText(o));
  if (lost.length)
    parts.push(
      `no group is mostly ${lost.map((n) => `“${n}”`).join(', ')} any more: ${lost.length === 1 ? 'that name was' : 'those names were'} dropped`,
    );
  return parts.join('; ');
}

/** "“Windmills” was not kept: its images are now in “Group 4” (12 of 18)". */
export function nameOfferText(o: NameOffer): string {
  return `“${o.name}” was not kept: its images are now in “${o.groupName}” (${fmtCount(o.count)} of ${fmtCount(o.of)})`;
}

/** An error as the user reads it. */
export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
