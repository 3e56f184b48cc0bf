/**
 * Why a file (or folder) was not turned into an image.
 *
 * `code` is a stable machine code (safe to store in SQLite and to switch on in the UI);
 * `message` is a human sentence, may change between versions, never parse it.
 */
export const SKIP_CODES = [
  /** The file is an image, but in a format this build cannot decode (HEIC without HEVC, JPEG XL, RAW, BMP, SVG...). */
  'unsupported-format',
  /** Not an image at all (wrong extension, or the content is not any image format we know). */
  'not-an-image',
  /** Zero bytes long. */
  'empty-file',
  /** The image data ends early (partial download/copy). */
  'truncated',
  /** Permission denied, not a regular file, or another I/O error. */
  'unreadable',
  /** Width x height above the pixel limit (decompression-bomb guard). */
  'too-many-pixels',
  /** The file is larger than the byte limit for one image. */
  'too-large',
  /** The decoder failed for another reason (corrupt data). */
  'decode-error',
  /** A symbolic link pointing back to one of its own ancestor folders. */
  'symlink-loop',
  /** A symbolic link whose target does not exist. */
  'broken-link',
  /** The same folder or file was already reached through another path (symlink). */
  'duplicate',
  /** The file was listed but had disappeared by the time it was read. */
  'vanished',
] as const;

export type SkipCode = (typeof SKIP_CODES)[number];

export interface SkipReason {
  code: SkipCode;
  message: string;
}

export function skipReason(code: SkipCode, message: string): SkipReason {
  return { code, message };
}

export function isSkipCode(value: unknown): value is SkipCode {
  return typeof value === 'string' && (SKIP_CODES as readonly string[]).includes(value);
}

/** Map a Node fs error (ENOENT, EACCES, ...) to a skip reason. Never throws. */
export function skipFromFsError(err: unknown, what: 'file' | 'folder' = 'file'): SkipReason {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const detail = err instanceof Error ? err.message : String(err);
  switch (code) {
    case 'ENOENT':
      return skipReason('vanished', `The ${what} disappeared before it could be read`);
    case 'EACCES':
    case 'EPERM':
      return skipReason('unreadable', `Permission denied: the ${what} cannot be read`);
    case 'EISDIR':
      return skipReason('unreadable', 'This is a folder, not a file');
    case 'ELOOP':
      return skipReason('symlink-loop', 'Too many levels of symbolic links');
    case 'ENOTDIR':
      return skipReason('vanished', `The ${what} was replaced while scanning`);
    default:
      return skipReason('unreadable', `The ${what} cannot be read (${code ?? detail})`);
  }
}
