/**
 * EXIF capture date and camera, parsed with exifr from the EXIF block that sharp already
 * extracted (works the same for JPEG, PNG eXIf, WebP, TIFF and AVIF), or from a file's first
 * bytes (`readExifFile`). Never throws: broken EXIF just yields no date/camera.
 *
 * The date is the first of DateTimeOriginal (when the shutter fired), CreateDate (EXIF's
 * DateTimeDigitized: when it was stored, the same for a camera, the scan time for a scan) and
 * ModifyDate (IFD0's DateTime, which exifr names ModifyDate: the only date many phones' edited
 * copies and scanners write), each with its own sub-seconds (SubSecTime*) and offset
 * (OffsetTime*) where the file has them. Without any, the app dates an image by its file time
 * and says so (ImageSummary.dateSource).
 */
import fsp from 'node:fs/promises';
import exifr from 'exifr';

export interface ExifInfo {
  /**
   * Capture time as the camera wrote it: local wall-clock time 'YYYY-MM-DDTHH:mm:ss', '.sss'
   * when the file has sub-seconds, '+hh:mm' when it records the offset. Not converted to UTC
   * (EXIF usually has no zone).
   */
  takenAt?: string;
  cameraMake?: string;
  cameraModel?: string;
}

/** The date tags in the order they are tried, each with its sub-seconds and offset tags. */
const DATE_TAGS = [
  { date: 'DateTimeOriginal', subSec: 'SubSecTimeOriginal', offset: 'OffsetTimeOriginal' },
  { date: 'CreateDate', subSec: 'SubSecTimeDigitized', offset: 'OffsetTimeDigitized' },
  { date: 'ModifyDate', subSec: 'SubSecTime', offset: 'OffsetTime' },
] as const;

const PICK = [...DATE_TAGS.flatMap((t) => [t.date, t.subSec, t.offset]), 'Make', 'Model'];

const PARSE_OPTIONS = {
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
};

function cleanText(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.replace(/\u0000/g, '').trim();
  return s.length > 0 && s.length <= 128 ? s : undefined;
}

/**
 * EXIF 'YYYY:MM:DD HH:MM:SS' (+ sub-seconds digits, + '+hh:mm' offset) -> 'YYYY-MM-DDTHH:MM:SS.sss+hh:mm';
 * undefined for blanks like '0000:00:00 00:00:00' and impossible dates.
 */
export function normaliseExifDate(v: unknown, offset?: unknown, subSec?: unknown): string | undefined {
  let s: string | undefined;
  if (v instanceof Date && !Number.isNaN(v.getTime())) s = v.toISOString().slice(0, 19);
  else if (typeof v === 'string') {
    const m = /^(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?/.exec(v.trim());
    if (!m) return undefined;
    const [, y, mo, d, h, mi, se] = m;
    if (y === '0000' || mo === '00' || d === '00') return undefined;
    if (Number(mo) > 12 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59 || Number(se ?? 0) > 60) return undefined;
    s = `${y}-${mo}-${d}T${h}:${mi}:${se ?? '00'}`;
  }
  if (!s) return undefined;
  const digits = typeof subSec === 'string' || typeof subSec === 'number' ? /^\d{1,9}/.exec(String(subSec).trim())?.[0] : undefined;
  const frac = digits ? `.${digits.padEnd(3, '0').slice(0, 3)}` : '';
  const off = typeof offset === 'string' && /^[+-]\d{2}:\d{2}$/.test(offset.trim()) ? offset.trim() : '';
  return s + frac + off;
}

export { exifDateParts, formatTakenAt } from '../library/dates.js';

function infoFromTags(tags: Record<string, unknown> | undefined): ExifInfo {
  if (!tags) return {};
  const info: ExifInfo = {};
  for (const t of DATE_TAGS) {
    // A camera that writes no OffsetTimeDigitized still has one zone: the original's applies.
    const taken = normaliseExifDate(tags[t.date], tags[t.offset] ?? tags['OffsetTimeOriginal'] ?? tags['OffsetTime'], tags[t.subSec]);
    if (taken) {
      info.takenAt = taken;
      break;
    }
  }
  const make = cleanText(tags['Make']);
  const model = cleanText(tags['Model']);
  if (make) info.cameraMake = make;
  if (model) info.cameraModel = model;
  return info;
}

/** Parse the raw EXIF block from sharp's metadata ('Exif\0\0' + TIFF structure, or bare TIFF). */
export async function parseExif(exif: Uint8Array | undefined): Promise<ExifInfo> {
  if (!exif || exif.length < 8) return {};
  let tiff = exif;
  if (exif[0] === 0x45 && exif[1] === 0x78 && exif[2] === 0x69 && exif[3] === 0x66) tiff = exif.subarray(6); // 'Exif\0\0'
  try {
    return infoFromTags(
      (await exifr.parse(Buffer.from(tiff.buffer, tiff.byteOffset, tiff.byteLength), PARSE_OPTIONS)) as Record<string, unknown> | undefined,
    );
  } catch {
    return {};
  }
}

/** No image format with EXIF fits in fewer bytes (a JPEG's SOI and APP1 marker alone are 4). */
const MIN_IMAGE_BYTES = 16;

/**
 * The EXIF of an image file, read from its first bytes by exifr (JPEG, PNG, WebP, TIFF,
 * HEIC/AVIF); {} when it has none (or none that reads), null when the file cannot be read.
 */
export async function readExifFile(file: string): Promise<ExifInfo | null> {
  let size: number;
  try {
    size = (await fsp.stat(file)).size;
  } catch {
    return null;
  }
  // exifr leaves its file handle open when it throws before parsing (a file under 2 bytes:
  // until the garbage collector closes it, thousands of them in a folder of broken files).
  if (size < MIN_IMAGE_BYTES) return {};
  try {
    return infoFromTags((await exifr.parse(file, PARSE_OPTIONS)) as Record<string, unknown> | undefined);
  } catch {
    return {};
  }
}
