/**
 * The two custom schemes and their request handlers, as plain functions over the Fetch API's
 * Request/Response so they are tested without Electron:
 *
 * - `constellate://media/{thumb|image}/<id>`: pixels for the renderer. Only an integer image id is
 *   read from the URL; the file comes from `host.mediaFile`, which answers only for images that
 *   decoded, in registered libraries, and its bytes must be an image (core/api/media.ts). No
 *   path from the renderer is ever opened.
 * - `app://constellate/...`: the renderer's own files (`dist/renderer/`), with the CSP header.
 */
import { isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import type { CustomScheme } from 'electron';
import type { ApiHost, MediaKind } from '../core/api/host.js';
import { openMedia } from '../core/api/media.js';
import { APP_HOST, APP_SCHEME, MEDIA_HOST, MEDIA_SCHEME } from './constants.js';
import { contentSecurityPolicy } from './security.js';

/** Registered before `app.ready`. `standard` gives the URLs an origin (so 'self' works in the CSP). */
export const PRIVILEGED_SCHEMES: CustomScheme[] = [
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  { scheme: MEDIA_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
];

/** Fetches a local file URL: `net.fetch` under Electron, a stub in tests. */
export type FileFetcher = (fileUrl: string) => Promise<Response>;

export type MediaTarget = { ok: true; kind: MediaKind; imageId: number } | { ok: false; status: 400 | 404 | 405 };

const MEDIA_PATH = /^\/(thumb|image)\/([1-9][0-9]{0,15})$/;

/** Pure: what a media URL asks for. Anything but `<scheme>://media/(thumb|image)/<positive int>` is refused. */
export function parseMediaUrl(url: string, method = 'GET'): MediaTarget {
  if (method !== 'GET' && method !== 'HEAD') return { ok: false, status: 405 };
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { ok: false, status: 400 };
  }
  if (u.protocol !== `${MEDIA_SCHEME}:` || u.hostname !== MEDIA_HOST || u.username || u.password || u.port) {
    return { ok: false, status: 404 };
  }
  const m = MEDIA_PATH.exec(u.pathname);
  if (!m) return { ok: false, status: 400 };
  const imageId = Number(m[2]);
  if (!Number.isSafeInteger(imageId)) return { ok: false, status: 400 };
  return { ok: true, kind: m[1] === 'thumb' ? 'thumbnail' : 'image', imageId };
}

/** Pure: the file to serve for a media URL, or the status to answer with. */
export function resolveMediaRequest(
  url: string,
  method: string,
  host: Pick<ApiHost, 'mediaFile'>,
): { ok: true; path: string } | { ok: false; status: number } {
  const target = parseMediaUrl(url, method);
  if (!target.ok) return target;
  const path = host.mediaFile(target.kind, target.imageId);
  // The host answers by id from the database; still, never hand a relative path to the fetcher.
  if (path == null || !isAbsolute(path)) return { ok: false, status: 404 };
  return { ok: true, path };
}

/**
 * The file to show for a resolved media request: for an image the browser cannot display
 * (TIFF), the host's converted copy (see ApiHost.previewFile); else the file itself.
 */
async function shownFile(
  url: string,
  path: string,
  host: Pick<ApiHost, 'previewFile'>,
): Promise<{ ok: true; path: string } | { ok: false; status: number }> {
  const target = parseMediaUrl(url);
  if (!target.ok || target.kind !== 'image' || !host.previewFile) return { ok: true, path };
  const preview = await host.previewFile(target.imageId);
  return preview !== null && isAbsolute(preview) ? { ok: true, path: preview } : { ok: false, status: 404 };
}

/**
 * Serves a media URL from the file the host names: opened once, its bytes sniffed as an image
 * browsers show and sent with that type, read from the same handle (see core/api/media.ts).
 */
export async function handleMediaRequest(request: Request, host: Pick<ApiHost, 'mediaFile' | 'previewFile'>): Promise<Response> {
  let resolved: ReturnType<typeof resolveMediaRequest>;
  try {
    resolved = resolveMediaRequest(request.url, request.method, host);
    if (resolved.ok) resolved = await shownFile(request.url, resolved.path, host);
  } catch {
    return plain(500);
  }
  if (!resolved.ok) return plain(resolved.status);
  const media = await openMedia(resolved.path);
  if (!media) return plain(404);
  const headers = new Headers({
    'Content-Type': media.type,
    'Content-Length': String(media.size),
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-cache',
  });
  if (request.method === 'HEAD') {
    await media.handle.close();
    return new Response(null, { status: 200, headers });
  }
  const body = Readable.toWeb(media.handle.createReadStream({ start: 0 })) as ReadableStream<Uint8Array>;
  return new Response(body, { status: 200, headers });
}

/** Pure: the file under `rootDir` an `app://constellate/...` URL names, or null (outside, malformed). */
export function resolveAppAsset(url: string, rootDir: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.hostname !== APP_HOST) return null;
  let pathname: string;
  try {
    pathname = decodeURIComponent(u.pathname);
  } catch {
    return null;
  }
  // No encoded separators or dot segments survive decoding: such a URL is refused, not normalised.
  if (pathname.includes('\0') || pathname.includes('\\') || pathname.split('/').includes('..')) return null;
  if (pathname === '/' || pathname === '') pathname = '/index.html';
  const root = resolve(rootDir);
  const file = resolve(join(root, normalize(pathname)));
  const rel = relative(root, file);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) return null;
  return file;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

export async function handleAppRequest(
  request: Request,
  rootDir: string,
  fetchFile: FileFetcher,
  options: { devServerUrl?: string | undefined } = {},
): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD') return plain(405);
  const file = resolveAppAsset(request.url, rootDir);
  if (!file) return plain(404);
  try {
    const res = await fetchFile(pathToFileURL(file).href);
    if (!res.ok) return plain(404);
    const headers = new Headers();
    const ext = file.slice(file.lastIndexOf('.')).toLowerCase();
    headers.set('Content-Type', CONTENT_TYPES[ext] ?? res.headers.get('content-type') ?? 'application/octet-stream');
    headers.set('Content-Security-Policy', contentSecurityPolicy(options));
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(request.method === 'HEAD' ? null : res.body, { status: 200, headers });
  } catch {
    return plain(404);
  }
}

function plain(status: number): Response {
  return new Response(null, { status, headers: { 'X-Content-Type-Options': 'nosniff' } });
}
