/**
 * Content sniffing by magic bytes. Decoding trusts the content, never the extension: PNG bytes
 * named .jpg decode as PNG, and only the formats below are handed to sharp (so an SVG, PDF or
 * any other libvips loader can never be reached through a file that merely claims to be a JPEG).
 */
export type SniffedFormat =
  'jpeg' | 'png' | 'gif' | 'webp' | 'tiff' | 'avif' | 'heic' | 'jxl' | 'bmp' | 'psd' | 'jp2' | 'ico' | 'svg' | 'pdf' | 'unknown';

const ascii = (buf: Uint8Array, start: number, len: number): string =>
  start + len <= buf.length ? String.fromCharCode(...buf.subarray(start, start + len)) : '';

const startsWith = (buf: Uint8Array, bytes: readonly number[], offset = 0): boolean =>
  buf.length >= offset + bytes.length && bytes.every((b, i) => buf[offset + i] === b);

const HEIC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs']);
const AVIF_BRANDS = new Set(['avif', 'avis']);

/** ISO-BMFF `ftyp` box: major + compatible brands decide AVIF vs HEIC. */
function sniffFtyp(buf: Uint8Array): SniffedFormat | undefined {
  if (ascii(buf, 4, 4) !== 'ftyp') return undefined;
  const boxSize = ((buf[0]! << 24) | (buf[1]! << 16) | (buf[2]! << 8) | buf[3]!) >>> 0;
  const end = Math.min(buf.length, boxSize >= 16 && boxSize <= 4096 ? boxSize : 64);
  const brands = [ascii(buf, 8, 4)];
  for (let o = 16; o + 4 <= end; o += 4) brands.push(ascii(buf, o, 4));
  if (brands.some((b) => AVIF_BRANDS.has(b))) return 'avif';
  if (brands.some((b) => HEIC_BRANDS.has(b))) return 'heic';
  if (brands.includes('mif1') || brands.includes('msf1')) return 'heic'; // generic HEIF, codec unknown
  if (brands.includes('jxl ')) return 'jxl';
  return 'unknown';
}

export function sniffFormat(buf: Uint8Array): SniffedFormat {
  if (startsWith(buf, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(buf, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  const head6 = ascii(buf, 0, 6);
  if (head6 === 'GIF87a' || head6 === 'GIF89a') return 'gif';
  if (ascii(buf, 0, 4) === 'RIFF' && ascii(buf, 8, 4) === 'WEBP') return 'webp';
  if (startsWith(buf, [0x49, 0x49, 0x2a, 0x00]) || startsWith(buf, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (startsWith(buf, [0x49, 0x49, 0x2b, 0x00]) || startsWith(buf, [0x4d, 0x4d, 0x00, 0x2b])) return 'tiff'; // BigTIFF
  const ftyp = sniffFtyp(buf);
  if (ftyp) return ftyp;
  if (startsWith(buf, [0xff, 0x0a])) return 'jxl';
  if (startsWith(buf, [0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a])) return 'jxl';
  if (startsWith(buf, [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20])) return 'jp2';
  if (startsWith(buf, [0xff, 0x4f, 0xff, 0x51])) return 'jp2';
  if (ascii(buf, 0, 2) === 'BM' && buf.length >= 26) return 'bmp';
  if (ascii(buf, 0, 4) === '8BPS') return 'psd';
  if (startsWith(buf, [0x00, 0x00, 0x01, 0x00]) && buf.length >= 22) return 'ico';
  if (ascii(buf, 0, 5) === '%PDF-') return 'pdf';
  const text = ascii(buf, 0, Math.min(buf.length, 512)).trimStart().toLowerCase();
  if (text.startsWith('<svg') || (text.startsWith('<?xml') && text.includes('<svg'))) return 'svg';
  return 'unknown';
}

/** Formats handed to sharp (HEIC/JXL only where the sharp build reports a decoder). */
export const DECODABLE_FORMATS: ReadonlySet<SniffedFormat> = new Set(['jpeg', 'png', 'gif', 'webp', 'tiff', 'avif']);

export const FORMAT_NAMES: Record<SniffedFormat, string> = {
  jpeg: 'JPEG',
  png: 'PNG',
  gif: 'GIF',
  webp: 'WebP',
  tiff: 'TIFF',
  avif: 'AVIF',
  heic: 'HEIC',
  jxl: 'JPEG XL',
  bmp: 'BMP',
  psd: 'Photoshop PSD',
  jp2: 'JPEG 2000',
  ico: 'ICO',
  svg: 'SVG',
  pdf: 'PDF',
  unknown: 'unknown',
};
