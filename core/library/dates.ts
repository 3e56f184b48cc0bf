/** Photo dates as the store keeps them: the EXIF wall clock as if UTC, and its zone where recorded (core/images/metadata.ts reads them). */

/**
 * A normalised EXIF date as stored: `wallClockMs` is its wall-clock reading taken as UTC (so
 * it shows the time the camera showed, whatever the viewer's zone), `offsetMinutes` the zone it
 * records (east of UTC), null when it records none.
 */
export function exifDateParts(takenAt: string): { wallClockMs: number; offsetMinutes: number | null } | null {
  const m =
    /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?)([+-]\d{2}):?(\d{2})?$/.exec(takenAt) ??
    /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?)$/.exec(takenAt);
  if (!m) return null;
  const ms = Date.parse(`${m[1]}Z`);
  if (!Number.isFinite(ms)) return null;
  const offsetMinutes = m[2] === undefined ? null : Math.sign(Number(`${m[2]}1`)) * (Math.abs(Number(m[2])) * 60 + Number(m[3] ?? 0));
  return { wallClockMs: ms, offsetMinutes };
}

/** The stored date back as ISO 8601: the wall clock, with its offset when known ('2021-06-12T14:03:22.350+02:00'). */
export function formatTakenAt(wallClockMs: number, offsetMinutes: number | null): string {
  const base = new Date(wallClockMs)
    .toISOString()
    .slice(0, 23)
    .replace(/\.000$/, '');
  if (offsetMinutes === null) return base;
  const a = Math.abs(offsetMinutes);
  return `${base}${offsetMinutes < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}
