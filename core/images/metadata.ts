/**
 * EXIF capture date and camera, parsed with exifr from the EXIF block that sharp already
 * extracted (works the same for JPEG, PNG eXIf, WebP, TIFF and AVIF). Never throws: broken
 * EXIF just yields no date/camera.
 */
import exifr from 'exifr';

export interface ExifInfo {
  /**
   * Capture time from DateTimeOriginal (else CreateDate, else DateTime), as written by the
   * camera: local wall-clock time 'YYYY-MM-DDTHH:mm:ss', with '+hh:mm' appended when the file
   * records the offset (OffsetTimeOriginal). Not converted to UTC (EXIF usually has no zone).
   */
  takenAt?: string;
  cameraMake?: string;
  cameraModel?: string;
}

const PICK = ['DateTimeOriginal', 'CreateDate', 'DateTime', 'OffsetTimeOriginal', 'OffsetTime', 'Make', 'Model'];

function cleanText(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.replace(/\u0000/g, '').trim();
  return s.length > 0 && s.length <= 128 ? s : undefined;
}

/** EXIF 'YYYY:MM:DD HH:MM:SS' -> 'YYYY-MM-DDTHH:MM:SS'; undefined for blanks like '0000:00:00 00:00:00'. */
export function normaliseExifDate(v: unknown, offset?: unknown): string | undefined {
  let s: string | undefined;
  if (v instanceof Date && !Number.isNaN(v.getTime())) s = v.toISOString().slice(0, 19);
  else if (typeof v === 'string') {
    const m = /^(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?/.exec(v.trim());
    if (!m) return undefined;
    const [, y, mo, d, h, mi, se] = m;
    if (y === '0000' || mo === '00' || d === '00') return undefined;
    s = `${y}-${mo}-${d}T${h}:${mi}:${se ?? '00'}`;
  }
  if (!s) return undefined;
  const off = typeof offset === 'string' && /^[+-]\d{2}:\d{2}$/.test(offset.trim()) ? offset.trim() : '';
  return s + off;
}

/** Parse the raw EXIF block from sharp's metadata ('Exif\0\0' + TIFF structure, or bare TIFF). */
export async function parseExif(exif: Uint8Array | undefined): Promise<ExifInfo> {
  if (!exif || exif.length < 8) return {};
  let tiff = exif;
  if (exif[0] === 0x45 && exif[1] === 0x78 && exif[2] === 0x69 && exif[3] === 0x66) tiff = exif.subarray(6); // 'Exif\0\0'
  try {
    const tags = (await exifr.parse(Buffer.from(tiff.buffer, tiff.byteOffset, tiff.byteLength), {
      pick: PICK,
      reviveValues: false,
      translateValues: false,
      gps: false,
      interop: false,
      ifd1: false,
      xmp: false,
      icc: false,
      iptc: false,
      makerNote: false,
      userComment: false,
    })) as Record<string, unknown> | undefined;
    if (!tags) return {};
    const info: ExifInfo = {};
    const taken =
      normaliseExifDate(tags.DateTimeOriginal, tags.OffsetTimeOriginal) ??
      normaliseExifDate(tags.CreateDate, tags.OffsetTimeOriginal) ??
      normaliseExifDate(tags.DateTime, tags.OffsetTime);
    if (taken) info.takenAt = taken;
    const make = cleanText(tags.Make);
    const model = cleanText(tags.Model);
    if (make) info.cameraMake = make;
    if (model) info.cameraModel = model;
    return info;
  } catch {
    return {};
  }
}
