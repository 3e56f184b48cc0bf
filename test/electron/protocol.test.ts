/** The media and app protocols: only integer ids in, only registered-library files out. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { MEDIA } from '../../core/shared/contract.js';
import { MEDIA_BASE } from '../../electron/constants.js';
import {
  PRIVILEGED_SCHEMES,
  handleAppRequest,
  handleMediaRequest,
  parseMediaUrl,
  resolveAppAsset,
  resolveMediaRequest,
} from '../../electron/protocol.js';
import { contentSecurityPolicy } from '../../electron/security.js';
import { suiteTempDir } from '../helpers/tempDir.js';
import { hostDouble } from './doubles.js';

/** net.fetch stand-in: reads the file a file:// URL names. */
const fetchFile = vi.fn(async (url: string) => {
  try {
    return new Response(readFileSync(fileURLToPath(url)), { headers: { 'content-type': 'image/jpeg' } });
  } catch {
    return new Response(null, { status: 404 });
  }
});

describe('scheme registration', () => {
  it('registers app: and constellate: as standard, secure, fetchable schemes', () => {
    expect(PRIVILEGED_SCHEMES.map((s) => s.scheme)).toEqual(['app', 'constellate']);
    for (const s of PRIVILEGED_SCHEMES) expect(s.privileges).toEqual({ standard: true, secure: true, supportFetchAPI: true });
  });
});

describe('media URLs', () => {
  it('are what the client builds from MEDIA and mediaBase', () => {
    expect(parseMediaUrl(MEDIA_BASE + MEDIA.thumbnail(42))).toEqual({ ok: true, kind: 'thumbnail', imageId: 42 });
    expect(parseMediaUrl(MEDIA_BASE + MEDIA.image(7))).toEqual({ ok: true, kind: 'image', imageId: 7 });
    expect(parseMediaUrl('constellate://media/thumb/7?v=3')).toEqual({ ok: true, kind: 'thumbnail', imageId: 7 });
  });
  it('refuse anything but a positive integer id', () => {
    for (const url of [
      'constellate://media/thumb/0',
      'constellate://media/thumb/-1',
      'constellate://media/thumb/1.5',
      'constellate://media/thumb/01',
      'constellate://media/thumb/1e3',
      'constellate://media/thumb/99999999999999999',
      'constellate://media/thumb/',
      'constellate://media/thumb/1/extra',
      'constellate://media/thumb/..%2F..%2Fetc%2Fpasswd',
      'constellate://media/image//etc/passwd',
      'constellate://media/file/1',
      'constellate://media/image/%2Fhome%2Fme%2Fa.jpg',
      'constellate://media/image/1;rm',
    ]) {
      expect(parseMediaUrl(url), url).toEqual({ ok: false, status: 400 });
    }
  });
  it('refuse other hosts, schemes and methods', () => {
    expect(parseMediaUrl('constellate://elsewhere/thumb/1')).toEqual({ ok: false, status: 404 });
    expect(parseMediaUrl('constellate://user:pw@media/thumb/1')).toEqual({ ok: false, status: 404 });
    expect(parseMediaUrl('file:///thumb/1')).toEqual({ ok: false, status: 404 });
    expect(parseMediaUrl('not a url')).toEqual({ ok: false, status: 400 });
    expect(parseMediaUrl('constellate://media/thumb/1', 'POST')).toEqual({ ok: false, status: 405 });
  });
  it('resolve through host.mediaFile by id only', () => {
    const host = hostDouble();
    host.files.set('thumbnail/5', '/data/thumbnails/ab/abc.webp');
    host.files.set('image/6', 'relative/path.jpg');
    const spy = vi.spyOn(host, 'mediaFile');
    expect(resolveMediaRequest('constellate://media/thumb/5', 'GET', host)).toEqual({ ok: true, path: '/data/thumbnails/ab/abc.webp' });
    expect(resolveMediaRequest('constellate://media/image/5', 'GET', host)).toEqual({ ok: false, status: 404 });
    expect(resolveMediaRequest('constellate://media/image/6', 'GET', host)).toEqual({ ok: false, status: 404 });
    expect(spy.mock.calls).toEqual([
      ['thumbnail', 5],
      ['image', 5],
      ['image', 6],
    ]);
    spy.mockClear();
    resolveMediaRequest('constellate://media/image/..%2F1', 'GET', host);
    expect(spy).not.toHaveBeenCalled();
  });
});

describe('media handler', () => {
  const dir = suiteTempDir('constellate-media-');
  const file = join(dir, 'a.jpg');
  beforeAll(() => {
    writeFileSync(file, Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
    writeFileSync(join(dir, 'page.jpg'), '<!doctype html><script>alert(1)</script>');
  });
  const host = hostDouble();
  host.files.set('image/1', file);
  host.files.set('image/2', join(dir, 'gone.jpg'));
  host.files.set('image/4', join(dir, 'page.jpg'));

  it('serves the registered file with the type its content sniffs as', async () => {
    const res = await handleMediaRequest(new Request('constellate://media/image/1'), host);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]));
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-type')).toBe('image/jpeg');
  });
  it('answers 404 for unknown ids, vanished files and files that are no image, 400 for bad URLs', async () => {
    expect((await handleMediaRequest(new Request('constellate://media/image/3'), host)).status).toBe(404);
    expect((await handleMediaRequest(new Request('constellate://media/image/abc'), host)).status).toBe(400);
    expect((await handleMediaRequest(new Request('constellate://media/image/2'), host)).status).toBe(404);
    expect((await handleMediaRequest(new Request('constellate://media/image/4'), host)).status).toBe(404);
  });
  it('answers 500 if the host throws', async () => {
    const broken = {
      mediaFile: () => {
        throw new Error('db closed');
      },
    };
    expect((await handleMediaRequest(new Request('constellate://media/image/1'), broken)).status).toBe(500);
  });
});

describe('app protocol', () => {
  // The renderer folder inside a temp folder, so the secret next to it stays in that temp folder.
  const root = join(suiteTempDir('constellate-renderer-'), 'renderer');
  beforeAll(() => {
    mkdirSync(join(root, 'assets'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>Constellate</title>');
    writeFileSync(join(root, 'assets', 'main.js'), 'console.log(1)');
    writeFileSync(join(root, '..', 'secret.txt'), 'no');
  });

  it('maps app://constellate/ URLs into the renderer folder only', () => {
    expect(resolveAppAsset('app://constellate/', root)).toBe(join(root, 'index.html'));
    expect(resolveAppAsset('app://constellate/assets/main.js', root)).toBe(join(root, 'assets', 'main.js'));
    // Dot segments are either normalised away by the URL parser (staying inside the folder) or refused.
    for (const url of [
      'app://constellate/../secret.txt',
      'app://constellate/%2e%2e/secret.txt',
      'app://constellate/assets/../../secret.txt',
    ]) {
      const file = resolveAppAsset(url, root);
      expect(file === null || file.startsWith(root + sep), `${url} -> ${file}`).toBe(true);
    }
    for (const url of [
      'app://constellate/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      'app://constellate/..%2fsecret.txt',
      'app://constellate/..%5csecret.txt',
      'app://constellate/%00index.html',
      'app://constellate/%E0%A4%A',
      'app://other/index.html',
      'file:///etc/passwd',
    ]) {
      expect(resolveAppAsset(url, root), url).toBeNull();
    }
  });
  it('serves pages with the CSP header and a content type', async () => {
    const res = await handleAppRequest(new Request('app://constellate/index.html'), root, fetchFile);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(contentSecurityPolicy());
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await res.text()).toContain('Constellate');
    const js = await handleAppRequest(new Request('app://constellate/assets/main.js'), root, fetchFile);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await handleAppRequest(new Request('app://constellate/../secret.txt'), root, fetchFile)).status).toBe(404);
    expect((await handleAppRequest(new Request('app://constellate/missing.js'), root, fetchFile)).status).toBe(404);
  });
});
