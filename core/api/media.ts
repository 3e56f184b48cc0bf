/**
 * Opening a media file (a thumbnail, an original, a converted copy) to serve it, for both
 * transports (the HTTP server, Electron's media protocol). The file is opened once and what is
 * sent is read from that handle, so the bytes checked are the bytes served: they must sniff as
 * a format browsers display, whatever the name says, and that format is the Content-Type. A
 * text file, an HTML page, a FIFO or a folder behind an image's path is never served.
 */
import { constants as fsConstants } from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import { sniffFormat, type SniffedFormat } from '../images/sniff.js';

/** What Chromium's <img> decodes, by content. TIFF and HEIC are shown as converted copies. */
const SHOWN_TYPES: Partial<Record<SniffedFormat, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
};

/** Enough for every signature sniffFormat knows. */
const HEAD_BYTES = 4096;

export interface OpenedMedia {
  /** Read the body from here (createReadStream closes it at the end). */
  handle: FileHandle;
  size: number;
  mtimeMs: number;
  mtime: Date;
  /** The MIME type the content sniffs as. */
  type: string;
}

/**
 * Opens `file` to serve it: a regular file whose first bytes are an image browsers show; null
 * for anything else (missing, unreadable, not a file, not such an image), with nothing left open.
 */
export async function openMedia(file: string): Promise<OpenedMedia | null> {
  let handle: FileHandle;
  try {
    // O_NONBLOCK: a FIFO put where an image was would block the open; fstat then refuses it.
    handle = await fsp.open(file, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  } catch {
    return null;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new Error('not a file');
    const head = Buffer.alloc(Math.min(HEAD_BYTES, stat.size));
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const type = SHOWN_TYPES[sniffFormat(head.subarray(0, bytesRead))];
    if (!type) throw new Error('not an image browsers show');
    return { handle, size: stat.size, mtimeMs: stat.mtimeMs, mtime: stat.mtime, type };
  } catch {
    await handle.close().catch(() => undefined);
    return null;
  }
}
