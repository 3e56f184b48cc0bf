/**
 * The local HTTP server behind `constellate serve`: the API over `POST /api/<method>`, events
 * over SSE, thumbnails and images by id, and the built renderer as static files.
 *
 * Security (it serves your photo library): binds 127.0.0.1 only; a random per-launch token is
 * required on every API/media request (header `x-constellate-token`, or `?token=` for GETs
 * that cannot set headers: <img>, EventSource); the Host header must name this server (DNS
 * rebinding) and a foreign Origin is refused (CSRF); static files are confined to `staticDir`
 * and served with a strict Content-Security-Policy. Media paths come only from
 * `host.mediaFile(kind, id)` (and `host.previewFile(id)` for images), never from the request.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, promises as fsp, type Stats } from 'node:fs';
import { pipeline } from 'node:stream';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import type { ApiEvent } from '../shared/contract.js';
import { dispatch, toErrorBody, type ApiHost, type MediaKind } from './host.js';
import { openMedia } from './media.js';

export interface HttpServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** The built renderer (dist/renderer); without it only the API and media are served. */
  staticDir?: string;
  /** Fixed token (tests); default: 32 random bytes, hex. */
  token?: string;
}

export interface HttpServer {
  /** Open this in a browser: carries the token. */
  url: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

export const CSP = [
  "default-src 'self'",
  "img-src 'self' blob: data:",
  "style-src 'self' 'unsafe-inline'",
  "script-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

const MAX_BODY = 4 * 1024 * 1024;

const STATUS: Record<string, number> = { 'invalid-input': 400, 'not-found': 404, conflict: 409, busy: 409, internal: 500 };

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.avif': 'image/avif',
  '.bmp': 'image/bmp',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.heic': 'image/heic',
  '.heif': 'image/heif',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentTypeFor(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

function sameToken(given: string | null | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  send(res, status, { error: { code, message } });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Serves a file of the UI bundle (`staticRoot`): never one outside it, symlinks included; index.html for route-like paths. */
async function serveStatic(staticRoot: string | null, req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
  if (!staticRoot) {
    sendError(res, 404, 'not-found', 'no UI bundled with this server');
    return;
  }
  let rel: string;
  try {
    rel = decodeURIComponent(pathname);
  } catch {
    sendError(res, 400, 'invalid-input', 'bad path');
    return;
  }
  if (rel.includes('\0')) {
    sendError(res, 400, 'invalid-input', 'bad path');
    return;
  }
  const target = path.resolve(staticRoot, `.${path.posix.normalize(`/${rel}`)}`);
  if (target !== staticRoot && !target.startsWith(staticRoot + path.sep)) {
    sendError(res, 403, 'invalid-input', 'outside the UI folder');
    return;
  }
  const found = await findStaticFile(staticRoot, target, rel);
  if ('status' in found) {
    sendError(res, found.status, found.status === 403 ? 'invalid-input' : 'not-found', found.message);
    return;
  }
  const { file, stat } = found;
  const isHtml = file.endsWith('.html');
  const hashed = /[/\\]assets[/\\]/.test(file);
  res.writeHead(200, {
    'content-type': contentTypeFor(file),
    'content-length': stat.size,
    'cache-control': isHtml ? 'no-cache' : hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  });
  if (req.method === 'HEAD') res.end();
  else pipeline(createReadStream(file), res, () => undefined);
}

/** The file to serve for `target` (a folder's index.html; the SPA's for a route-like miss), checked again after symlinks. */
async function findStaticFile(
  staticRoot: string,
  target: string,
  rel: string,
): Promise<{ file: string; stat: Stats } | { status: 403 | 404; message: string }> {
  let file = target;
  let stat = await fsp.stat(file).catch(() => null);
  if (stat?.isDirectory()) {
    file = path.join(file, 'index.html');
    stat = await fsp.stat(file).catch(() => null);
  }
  if (!stat?.isFile()) {
    // SPA fallback for route-like paths; real asset misses stay 404.
    if (path.extname(rel) && !rel.endsWith('.html')) return { status: 404, message: 'no such file' };
    file = path.join(staticRoot, 'index.html');
    stat = await fsp.stat(file).catch(() => null);
    if (!stat?.isFile()) return { status: 404, message: 'UI not built' };
  }
  // Re-check after symlinks.
  const real = await fsp.realpath(file).catch(() => null);
  const realRoot = await fsp.realpath(staticRoot).catch(() => staticRoot);
  if (!real || (real !== realRoot && !real.startsWith(realRoot + path.sep))) return { status: 403, message: 'outside the UI folder' };
  return { file, stat };
}

/**
 * Serves an image's thumbnail or picture by its id (never a path from the request), revalidated
 * by ETag. The host answers only for images that decoded; the bytes must sniff as an image
 * browsers show, and are sent with the type they sniff as (see media.ts).
 */
async function serveMedia(host: ApiHost, req: IncomingMessage, res: ServerResponse, kind: MediaKind, idText: string): Promise<void> {
  const id = Number(idText);
  if (!/^\d+$/.test(idText) || !Number.isSafeInteger(id) || id <= 0) {
    sendError(res, 400, 'invalid-input', 'bad image id');
    return;
  }
  let file: string | null;
  try {
    // An image the browser cannot display (TIFF) is served as a converted copy.
    file = kind === 'image' && host.previewFile ? await host.previewFile(id) : host.mediaFile(kind, id);
  } catch (err) {
    send(res, 500, toErrorBody(err));
    return;
  }
  const media = file ? await openMedia(file) : null;
  if (!media) {
    sendError(res, 404, 'not-found', `no ${kind} for image ${id}`);
    return;
  }
  const etag = `"${media.size.toString(16)}-${Math.floor(media.mtimeMs).toString(16)}"`;
  const headers: Record<string, string> = {
    'content-type': media.type,
    // The URL is the image's id, and a changed file keeps its id: a cached copy would show the
    // old picture. The browser asks again each time; an unchanged file costs a stat and a 304.
    'cache-control': 'private, no-cache',
    etag,
    'last-modified': media.mtime.toUTCString(),
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; sandbox",
  };
  if (req.headers['if-none-match'] === etag) {
    await media.handle.close();
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, 'content-length': String(media.size) });
  if (req.method === 'HEAD') {
    await media.handle.close();
    res.end();
    return;
  }
  // pipeline, not pipe: a request the browser drops (a thumbnail scrolled past) destroys the
  // stream, which closes the file; pipe left it open until the garbage collector came by.
  pipeline(media.handle.createReadStream({ start: 0 }), res, () => undefined);
}

/** A POST /api/<method> call: a JSON body, dispatched to the host (which validates it). */
async function serveApi(host: ApiHost, req: IncomingMessage, res: ServerResponse, method: string, pathname: string): Promise<void> {
  if (method !== 'POST') {
    sendError(res, 405, 'invalid-input', 'POST only');
    return;
  }
  const ctype = req.headers['content-type'] ?? '';
  if (!ctype.toLowerCase().startsWith('application/json')) {
    sendError(res, 415, 'invalid-input', 'send application/json');
    return;
  }
  let input: unknown;
  try {
    const text = await readBody(req);
    input = text.trim() ? JSON.parse(text) : {};
  } catch (err) {
    sendError(res, 400, 'invalid-input', `bad JSON body: ${err instanceof Error ? err.message : String(err)}`);
    return;
  }
  try {
    const out = await dispatch(host, pathname.slice('/api/'.length), input);
    send(res, 200, out ?? null);
  } catch (err) {
    const body = toErrorBody(err);
    send(res, STATUS[body.error.code] ?? 500, body);
  }
}

/** The event stream (server-sent events): every event the host publishes, and a ping every 15 s. */
class EventStream {
  private readonly clients = new Set<ServerResponse>();
  private readonly unsubscribe: () => void;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(host: ApiHost) {
    this.unsubscribe = host.onEvent((event: ApiEvent) => {
      const line = `data: ${JSON.stringify(event)}\n\n`;
      for (const res of this.clients) res.write(line);
    });
    this.heartbeat = setInterval(() => {
      for (const res of this.clients) res.write(': ping\n\n');
    }, 15_000);
    this.heartbeat.unref();
  }

  serve(req: IncomingMessage, res: ServerResponse, method: string): void {
    if (method !== 'GET') {
      sendError(res, 405, 'invalid-input', 'GET only');
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': connected\n\n');
    this.clients.add(res);
    req.on('close', () => this.clients.delete(res));
  }

  close(): void {
    this.unsubscribe();
    clearInterval(this.heartbeat);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}

/**
 * Refuses a request from elsewhere: a Host header other than this server's (DNS rebinding) or a
 * foreign Origin. Returns false when it answered.
 */
function fromHere(req: IncomingMessage, res: ServerResponse, port: number): boolean {
  const hostHeader = (req.headers.host ?? '').toLowerCase();
  if (hostHeader !== `127.0.0.1:${port}` && hostHeader !== `localhost:${port}`) {
    sendError(res, 403, 'invalid-input', 'unexpected Host header');
    return false;
  }
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://127.0.0.1:${port}` && origin !== `http://localhost:${port}`) {
    sendError(res, 403, 'invalid-input', 'foreign origin');
    return false;
  }
  return true;
}

/** Refuses an API or media request without this launch's token (a header, or `?token=` on GET). Returns false when it answered. */
function hasToken(req: IncomingMessage, res: ServerResponse, url: URL, token: string): boolean {
  const method = req.method ?? 'GET';
  const headerToken = req.headers['x-constellate-token'];
  const given =
    typeof headerToken === 'string' ? headerToken : method === 'GET' || method === 'HEAD' ? url.searchParams.get('token') : null;
  if (sameToken(given, token)) return true;
  sendError(res, 401, 'invalid-input', 'missing or wrong token');
  return false;
}

export async function startHttpServer(host: ApiHost, opts: HttpServerOptions = {}): Promise<HttpServer> {
  const token = opts.token ?? randomBytes(32).toString('hex');
  const staticRoot = opts.staticDir ? path.resolve(opts.staticDir) : null;
  const events = new EventStream(host);
  let port = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!fromHere(req, res, port)) return;
    const url = new URL(req.url ?? '/', `http://${(req.headers.host ?? '').toLowerCase()}`);
    const pathname = url.pathname;
    const method = req.method ?? 'GET';
    const isApi = pathname.startsWith('/api/');
    const media = /^\/(thumb|image)\/([^/]+)$/.exec(pathname);
    if ((isApi || media) && !hasToken(req, res, url, token)) return;
    if (media) {
      if (method !== 'GET' && method !== 'HEAD') sendError(res, 405, 'invalid-input', 'GET only');
      else await serveMedia(host, req, res, media[1] === 'thumb' ? 'thumbnail' : 'image', media[2]!);
    } else if (pathname === '/api/events') events.serve(req, res, method);
    else if (isApi) await serveApi(host, req, res, method, pathname);
    else if (method !== 'GET' && method !== 'HEAD') sendError(res, 405, 'invalid-input', 'GET only');
    else await serveStatic(staticRoot, req, res, pathname);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, toErrorBody(err));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  port = typeof addr === 'object' && addr ? addr.port : 0;

  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    token,
    port,
    async close() {
      events.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
