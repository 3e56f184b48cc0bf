/**
 * Images the browser cannot display (TIFF) are served as converted copies, over the real HTTP
 * server and Electron's media protocol, from a real database and real files: what the Image and
 * Review screens load. JPEGs (and the thumbnail) are still served as they are.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpServer } from '../../core/api/http.js';
import { createService } from '../../core/api/service.js';
import { PREVIEW_DIR_NAME, PREVIEW_MAX_SIDE, previewFile } from '../../core/images/preview.js';
import { openStore, type Store } from '../../core/store/index.js';
import { handleMediaRequest } from '../../electron/protocol.js';

let work: string;
let store: Store;
let service: ReturnType<typeof createService>;
let server: HttpServer;
const ids = new Map<string, number>();

/** 400x300 pixels, white with a red 60 px square at the top left, and EXIF orientation 6 (shown 300x400, the square at the top right). */
async function orientedTiff(): Promise<Buffer> {
  const [w, h] = [400, 300];
  const raw = Buffer.alloc(w * h * 3, 255);
  for (let y = 0; y < 60; y++) for (let x = 0; x < 60; x++) raw.set([255, 0, 0], (y * w + x) * 3);
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .withMetadata({ orientation: 6 })
    .tiff({ compression: 'lzw' })
    .toBuffer();
}

async function twoPageTiff(): Promise<Buffer> {
  const page = (background: string) =>
    sharp({ create: { width: 120, height: 80, channels: 3, background } })
      .png()
      .toBuffer();
  return sharp([await page('red'), await page('blue')], { join: { animated: true } })
    .tiff()
    .toBuffer();
}

interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function get(p: string, headers: Record<string, string> = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const r = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path: `${p}?token=${server.token}`,
        headers: { host: `127.0.0.1:${server.port}`, ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    r.on('error', reject);
    r.end();
  });
}

/** The pixel at (x, y) of an encoded image, RGB. */
async function pixel(image: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return Array.from(data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3));
}

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'cs-preview-'));
  const photos = path.join(work, 'photos');
  mkdirSync(photos);
  const files: Record<string, Buffer> = {
    'oriented.tif': await orientedTiff(),
    'pages.tiff': await twoPageTiff(),
    'wide.tif': await sharp({ create: { width: 5000, height: 1000, channels: 3, background: 'green' } })
      .tiff({ compression: 'lzw' })
      .toBuffer(),
    'cutout.tif': await sharp({ create: { width: 64, height: 48, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 0.5 } } })
      .tiff({ compression: 'lzw' })
      .toBuffer(), // sharp's default (JPEG) compression drops alpha
    'tiff-named.jpg': await orientedTiff(),
    'photo.jpg': await sharp({ create: { width: 32, height: 16, channels: 3, background: 'red' } })
      .jpeg()
      .toBuffer(),
  };
  for (const [name, bytes] of Object.entries(files)) writeFileSync(path.join(photos, name), bytes);
  store = openStore(path.join(work, 'db', 'c.db'));
  const lib = store.libraries.add(photos);
  const gen = store.libraries.beginScan(lib.id);
  store.images.upsertScanned(
    lib.id,
    gen,
    Object.keys(files).map((relPath) => ({
      relPath,
      size: statSync(path.join(photos, relPath)).size,
      mtimeMs: statSync(path.join(photos, relPath)).mtimeMs,
    })),
  );
  store.libraries.finishScan(lib.id, gen);
  for (const name of Object.keys(files)) ids.set(name, store.images.getByPath(lib.id, name)!.id);
  // As the scan leaves them: decoded (only images that decoded are served).
  store.images.markDecoded(
    Object.keys(files).map((name, i) => ({ id: ids.get(name)!, contentHash: `preview-fixture:${i}`, width: 1, height: 1, format: 'tiff' })),
  );
  service = createService({ store });
  server = await startHttpServer(service, {});
}, 60_000);

afterAll(async () => {
  await server.close();
  await service.close();
  store.close();
  rmSync(work, { recursive: true, force: true });
});

describe('images the browser cannot display', () => {
  it('a TIFF comes back as a JPEG, oriented, decodable, with the no-cache ETag policy; its original is unchanged', async () => {
    const res = await get(`/image/${ids.get('oriented.tif')}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/jpeg');
    expect(res.headers['cache-control']).toBe('private, no-cache');
    expect(Number(res.headers['content-length'])).toBe(res.body.length);
    const meta = await sharp(res.body).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 300, 400]);
    expect(meta.orientation ?? 1).toBe(1); // applied, not left to the browser
    // orientation 6 turns the top-left corner to the top right
    expect((await pixel(res.body, 270, 30))[0]).toBeGreaterThan(200);
    expect((await pixel(res.body, 270, 30))[1]).toBeLessThan(60);
    expect(Math.min(...(await pixel(res.body, 30, 30)))).toBeGreaterThan(200); // white
    // revalidated like any image: unchanged, it is a 304 without converting again
    const again = await get(`/image/${ids.get('oriented.tif')}`, { 'if-none-match': String(res.headers.etag) });
    expect(again.status).toBe(304);
    // Open and Show in folder still get the original
    expect(service.mediaFile('image', ids.get('oriented.tif')!)).toBe(path.join(work, 'photos', 'oriented.tif'));
  });

  it('by content: a TIFF named .jpg is converted; a JPEG is served as it is', async () => {
    const named = await get(`/image/${ids.get('tiff-named.jpg')}`);
    expect((await sharp(named.body).metadata()).format).toBe('jpeg');
    const photo = await get(`/image/${ids.get('photo.jpg')}`);
    expect(photo.body.equals(readFileSync(path.join(work, 'photos', 'photo.jpg')))).toBe(true);
  });

  it('the first page of a multi-page TIFF; the long side at most 4096 px; transparency kept in WebP', async () => {
    const pages = await get(`/image/${ids.get('pages.tiff')}`);
    const [red, , blue] = await pixel(pages.body, 60, 40); // page 1 is red, page 2 blue
    expect(red).toBeGreaterThan(200);
    expect(blue).toBeLessThan(60);
    const wide = await get(`/image/${ids.get('wide.tif')}`);
    const wm = await sharp(wide.body).metadata();
    expect([wm.width, wm.height]).toEqual([PREVIEW_MAX_SIDE, Math.round((PREVIEW_MAX_SIDE * 1000) / 5000)]);
    const cutout = await get(`/image/${ids.get('cutout.tif')}`);
    expect(cutout.headers['content-type']).toBe('image/webp');
    const cm = await sharp(cutout.body).metadata();
    expect([cm.format, cm.width, cm.height, cm.hasAlpha]).toEqual(['webp', 64, 48, true]);
  });

  it('is converted once and cached beside the thumbnails; a changed original is converted again', async () => {
    const cacheDir = path.join(work, 'db', PREVIEW_DIR_NAME);
    const id = ids.get('oriented.tif')!;
    const first = await service.previewFile(id);
    expect(path.dirname(first!)).toBe(cacheDir);
    const before = statSync(first!).mtimeMs;
    const etag = String((await get(`/image/${id}`)).headers.etag);
    expect(await service.previewFile(id)).toBe(first);
    expect(statSync(first!).mtimeMs).toBe(before); // not written again
    // the original edited in place (same id, same URL): a new copy, a new ETag, so the browser's copy is not shown
    const later = new Date(Date.now() + 60_000);
    utimesSync(path.join(work, 'photos', 'oriented.tif'), later, later);
    expect(await service.previewFile(id)).not.toBe(first);
    const res = await get(`/image/${id}`, { 'if-none-match': etag });
    expect(res.status).toBe(200);
    expect(res.headers.etag).not.toBe(etag);
  });

  it('keeps at most the newest copies it is allowed', async () => {
    const dir = path.join(work, 'evict');
    const photos = ['oriented.tif', 'pages.tiff', 'cutout.tif'].map((n) => path.join(work, 'photos', n));
    for (const p of photos) await previewFile(p, dir, 2);
    expect(readdirSync(dir)).toHaveLength(2);
    expect(path.dirname(await previewFile(photos[2]!, dir, 2))).toBe(dir); // the newest kept
  });

  it("Electron's media protocol serves the same converted copy", async () => {
    const res = await handleMediaRequest(new Request(`constellate://media/image/${ids.get('oriented.tif')}`), service);
    expect(res.status).toBe(200);
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 300, 400]);
    const photo = await handleMediaRequest(new Request(`constellate://media/image/${ids.get('photo.jpg')}`), service);
    expect(Buffer.from(await photo.arrayBuffer()).equals(readFileSync(path.join(work, 'photos', 'photo.jpg')))).toBe(true);
  });
});
