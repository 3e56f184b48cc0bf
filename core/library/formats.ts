import path from 'node:path';
import sharp from 'sharp';
import { skipReason, type SkipReason } from './skips.js';

/**
 * What this build of sharp/libvips can decode, probed once from `sharp.format`.
 *
 * Prebuilt sharp ships libheif with the AV1 decoder only (AVIF works, HEIC/HEVC does not) and
 * no JPEG XL decoder; a custom libvips build may have them, in which case `.heic`/`.jxl` files
 * are accepted automatically.
 */
export interface DecoderSupport {
  heic: boolean;
  jxl: boolean;
}

let cachedSupport: DecoderSupport | undefined;

export function decoderSupport(): DecoderSupport {
  if (cachedSupport) return cachedSupport;
  const fmt = sharp.format as unknown as Record<string, { input?: { buffer?: boolean; fileSuffix?: string[] } } | undefined>;
  const suffixes = (name: string): string[] => fmt[name]?.input?.fileSuffix ?? [];
  cachedSupport = {
    heic: fmt.heif?.input?.buffer === true && suffixes('heif').some((s) => s === '.heic' || s === '.heif'),
    jxl: fmt.jxl?.input?.buffer === true,
  };
  return cachedSupport;
}

/** Extensions (lower case, with dot) that are decoded. GIF: first frame only. */
const BASE_SUPPORTED = ['.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif'];
const HEIC_EXTS = ['.heic', '.heif', '.hif'];
const JXL_EXTS = ['.jxl'];

/** Image formats we recognise but do not decode: recorded as `unsupported-format`. */
const KNOWN_UNSUPPORTED: Record<string, string> = {
  '.bmp': 'BMP is not supported',
  '.dib': 'BMP is not supported',
  '.ico': 'ICO icons are not supported',
  '.icns': 'ICNS icons are not supported',
  '.svg': 'SVG (vector) images are not supported',
  '.svgz': 'SVG (vector) images are not supported',
  '.psd': 'Photoshop PSD files are not supported',
  '.psb': 'Photoshop PSB files are not supported',
  '.xcf': 'GIMP XCF files are not supported',
  '.jp2': 'JPEG 2000 is not supported',
  '.j2k': 'JPEG 2000 is not supported',
  '.jpx': 'JPEG 2000 is not supported',
  '.jxr': 'JPEG XR is not supported',
  '.wdp': 'JPEG XR is not supported',
  '.hdr': 'Radiance HDR is not supported',
  '.exr': 'OpenEXR is not supported',
  '.tga': 'TGA is not supported',
  '.pcx': 'PCX is not supported',
  '.ppm': 'PPM is not supported',
  '.pgm': 'PGM is not supported',
  '.pbm': 'PBM is not supported',
  '.pnm': 'PNM is not supported',
  '.dds': 'DDS is not supported',
  '.apng': 'APNG files are not supported (rename to .png)',
  '.avifs': 'AVIF image sequences are not supported',
  '.heics': 'HEIC image sequences are not supported',
};
const RAW_EXTS = [
  '.dng',
  '.cr2',
  '.cr3',
  '.crw',
  '.nef',
  '.nrw',
  '.arw',
  '.srf',
  '.sr2',
  '.orf',
  '.rw2',
  '.raf',
  '.pef',
  '.srw',
  '.x3f',
  '.erf',
  '.kdc',
  '.dcr',
  '.mrw',
  '.3fr',
  '.mef',
  '.mos',
  '.iiq',
  '.rwl',
];

export type ExtensionClass = { kind: 'image' } | { kind: 'skip'; skip: SkipReason };

/**
 * Classify a file by its name alone (the scan does not open files: a folder of 10,000
 * non-image files costs no reads). Decoding later checks the content, so an extension that
 * lies (PNG bytes named .jpg) still decodes correctly by content.
 */
export function classifyExtension(filePath: string): ExtensionClass {
  const ext = path.extname(filePath).toLowerCase();
  if (BASE_SUPPORTED.includes(ext)) return { kind: 'image' };
  const support = decoderSupport();
  if (HEIC_EXTS.includes(ext)) {
    return support.heic
      ? { kind: 'image' }
      : { kind: 'skip', skip: skipReason('unsupported-format', 'HEIC is not supported (no HEVC decoder)') };
  }
  if (JXL_EXTS.includes(ext)) {
    return support.jxl
      ? { kind: 'image' }
      : { kind: 'skip', skip: skipReason('unsupported-format', 'JPEG XL is not supported (no JPEG XL decoder)') };
  }
  if (RAW_EXTS.includes(ext)) {
    return {
      kind: 'skip',
      skip: skipReason('unsupported-format', `Camera RAW files (${ext}) are not supported; export a JPEG`),
    };
  }
  const known = KNOWN_UNSUPPORTED[ext];
  if (known) return { kind: 'skip', skip: skipReason('unsupported-format', known) };
  return {
    kind: 'skip',
    skip: skipReason('not-an-image', ext ? `Not an image file (${ext})` : 'Not an image file (no extension)'),
  };
}

export function isSupportedExtension(filePath: string): boolean {
  return classifyExtension(filePath).kind === 'image';
}

/** The extensions that are decoded with this build (lower case, with dot). */
export function supportedExtensions(): string[] {
  const s = decoderSupport();
  return [...BASE_SUPPORTED, ...(s.heic ? HEIC_EXTS : []), ...(s.jxl ? JXL_EXTS : [])];
}
