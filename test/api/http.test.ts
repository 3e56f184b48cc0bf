import { mkdtempSync, readdirSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../core/shared/client.js';
import type { ApiEvent, ApiHandlers } from '../../core/shared/contract.js';
import type { ApiHost } from '../../core/api/host.js';
import { startHttpServer, type HttpServer } from '../../core/api/http.js';

// A minimal in-test host: the transport layer is what is under test here.
let tmp: string;
let server: HttpServer;
const listeners = new Set<(e: ApiEvent) => void>();
const seen: unknown[] = [];

function makeHost(): ApiHost {
  const handlers = {
    getStatus: async () => ({ version: 't', dbPath: ':memory:', backend: null, job: null, unsortedThreshold: 0.3, hasRun: false }),
    renameGroup: async (input: unknown) => {
      seen.push(input);
      return { canUndo: true, canRedo: false, undoId: 1, undoLabel: 'rename', redoLabel: null };
    },
    getImage: async () => {
      throw new ApiError('not-found', 'image 9 not found');
    },
    undo: async () => {
      throw new Error('boom');
    },
  } as unknown as ApiHandlers;
  return {
    handlers,
    mediaFile: (kind, id) =>
      id === 1
        ? path.join(tmp, kind === 'thumbnail' ? 'thumb.webp' : 'photo.JPG')
        : id === 3 && kind === 'image'
          ? path.join(tmp, 'big.jpg')
          : null,
    onEvent: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    close: async () => {},
  };
}

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function req(method: string, p: string, opts: { headers?: Record<string, string>; body?: string } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const r = request(
      { host: '127.0.0.1', port: server.port, method, path: p, headers: { host: `127.0.0.1:${server.port}`, ...opts.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    r.on('error', reject);
    if (opts.body !== undefined) r.write(opts.body);
    r.end();
  });
}

const api = (method: string, body: unknown, headers: Record<string, string> = {}) =>
  req('POST', `/api/${method}`, {
    headers: { 'content-type': 'application/json', 'x-constellate-token': server.token, ...headers },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'constellate-http-'));
  const ui = path.join(tmp, 'ui');
  mkdirSync(path.join(ui, 'assets'), { recursive: true });
  writeFileSync(path.join(ui, 'index.html'), '<!doctype html><title>ui</title>');
  writeFileSync(path.join(ui, 'assets', 'app-abc.js'), 'console.log(1)');
  writeFileSync(path.join(tmp, 'secret.txt'), 'top secret');
  writeFileSync(path.join(tmp, 'thumb.webp'), Buffer.from('RIFF0000WEBP'));
  writeFileSync(path.join(tmp, 'photo.JPG'), Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
  // larger than the socket's buffers: a dropped request leaves the rest of it unread
  writeFileSync(path.join(tmp, 'big.jpg'), Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(16 << 20)]));
  server = await startHttpServer(makeHost(), { staticDir: ui });
});
afterAll(async () => {
  await server.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('startHttpServer', () => {
  it('binds 127.0.0.1 and prints a URL carrying a long random token', () => {
    expect(server.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/\\?token=[0-9a-f]{64}$`));
  });

  it('runs methods with the token', async () => {
    const res = await api('getStatus', {});
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ version: 't', unsortedThreshold: 0.3 });
  });

  it('refuses API calls without or with a wrong token (401)', async () => {
    const none = await req('POST', '/api/getStatus', { headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(none.status).toBe(401);
    const wrong = await api('getStatus', {}, { 'x-constellate-token': 'nope' });
    expect(wrong.status).toBe(401);
    // The query-string token is for GETs only (img, EventSource), not for state-changing POSTs.
    const viaQuery = await req('POST', `/api/getStatus?token=${server.token}`, {
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(viaQuery.status).toBe(401);
  });

  it('refuses a foreign Host header (DNS rebinding) and a foreign Origin (403)', async () => {
    const host = await api('getStatus', {}, { host: `evil.example:${server.port}` });
    expect(host.status).toBe(403);
    const origin = await api('getStatus', {}, { origin: 'http://evil.example' });
    expect(origin.status).toBe(403);
    const ok = await api('getStatus', {}, { host: `localhost:${server.port}`, origin: `http://localhost:${server.port}` });
    expect(ok.status).toBe(200);
  });

  it('validates input and maps errors to 400/404/500 bodies', async () => {
    const bad = await api('renameGroup', { groupId: -1, name: '' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.code).toBe('invalid-input');
    expect(seen).toHaveLength(0);
    const ok = await api('renameGroup', { groupId: 3, name: '  Birds ' });
    expect(ok.status).toBe(200);
    expect(seen[0]).toEqual({ groupId: 3, name: 'Birds' });
    expect((await api('getImage', { id: 9 })).status).toBe(404);
    expect((await api('noSuchMethod', {})).status).toBe(404);
    const internal = await api('undo', {});
    expect(internal.status).toBe(500);
    expect(JSON.parse(internal.body).error).toEqual({ code: 'internal', message: 'boom' });
    const notJson = await req('POST', '/api/getStatus', {
      headers: { 'content-type': 'application/json', 'x-constellate-token': server.token },
      body: '{nope',
    });
    expect(notJson.status).toBe(400);
    const form = await req('POST', '/api/getStatus', {
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-constellate-token': server.token },
      body: 'a=1',
    });
    expect(form.status).toBe(415);
    expect((await req('GET', '/api/getStatus', { headers: { 'x-constellate-token': server.token } })).status).toBe(405);
  });

  it('serves media by id with the right type and cache headers; token required', async () => {
    const thumb = await req('GET', `/thumb/1?token=${server.token}`);
    expect(thumb.status).toBe(200);
    expect(thumb.headers['content-type']).toBe('image/webp');
    // revalidated every time: a file changed in place keeps its id, so its URL
    expect(thumb.headers['cache-control']).toBe('private, no-cache');
    expect(thumb.headers['etag']).toBeTruthy();
    const image = await req('GET', `/image/1?token=${server.token}`);
    expect(image.headers['content-type']).toBe('image/jpeg');
    const cached = await req('GET', `/image/1?token=${server.token}`, { headers: { 'if-none-match': String(image.headers['etag']) } });
    expect(cached.status).toBe(304);
    expect((await req('GET', '/thumb/1')).status).toBe(401);
    expect((await req('GET', `/thumb/2?token=${server.token}`)).status).toBe(404);
    expect((await req('GET', `/thumb/..%2Fsecret.txt?token=${server.token}`)).status).toBe(400);
  });

  it('closes the file when the browser drops a request mid-body (a thumbnail scrolled past)', async () => {
    const open = () => readdirSync('/proc/self/fd').length;
    const before = open();
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve) => {
        const r = request(
          { host: '127.0.0.1', port: server.port, path: `/image/3?token=${server.token}`, headers: { host: `127.0.0.1:${server.port}` } },
          (res) => {
            res.once('data', () => {
              r.destroy();
              resolve();
            });
          },
        );
        r.on('error', () => undefined);
        r.end();
      });
    }
    await expect.poll(open, { timeout: 3000 }).toBe(before);
  });

  it('serves the UI with a strict CSP, an SPA fallback and no traversal', async () => {
    const index = await req('GET', '/');
    expect(index.status).toBe(200);
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    expect(index.headers['content-security-policy']).toContain("default-src 'self'");
    const asset = await req('GET', '/assets/app-abc.js');
    expect(asset.headers['content-type']).toContain('javascript');
    expect(asset.headers['cache-control']).toContain('immutable');
    const route = await req('GET', '/groups/12');
    expect(route.status).toBe(200);
    expect(route.body).toContain('<title>ui</title>');
    expect((await req('GET', '/assets/missing.js')).status).toBe(404);
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/assets/..%2f..%2fsecret.txt', '/%2e%2e%5csecret.txt']) {
      const r = await req('GET', p);
      expect(r.body, p).not.toContain('top secret');
    }
  });

  it('streams events over SSE with the token', async () => {
    const got = await new Promise<string>((resolve, reject) => {
      const r = request(
        { host: '127.0.0.1', port: server.port, path: `/api/events?token=${server.token}`, headers: { host: `127.0.0.1:${server.port}` } },
        (res) => {
          expect(res.statusCode).toBe(200);
          expect(res.headers['content-type']).toContain('text/event-stream');
          let buf = '';
          res.on('data', (c: Buffer) => {
            buf += c.toString('utf8');
            if (buf.includes(': connected')) for (const l of listeners) l({ type: 'changed', what: 'groups' });
            const m = /data: (.*)\n\n/.exec(buf);
            if (m) {
              r.destroy();
              resolve(m[1]!);
            }
          });
        },
      );
      r.on('error', reject);
      r.end();
    });
    expect(JSON.parse(got)).toEqual({ type: 'changed', what: 'groups' });
    expect((await req('GET', '/api/events')).status).toBe(401);
  });
});
