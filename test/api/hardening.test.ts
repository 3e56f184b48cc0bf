/**
 * Cases an outside attack on the local server found (tracker issue 22), on a real database
 * grouped from real images with the real model, through the real HTTP server and Electron's
 * media protocol handler:
 * - the media routes serve only images that decoded, inside their library, with the type their
 *   bytes sniff as (a library held `link.jpg -> /etc/passwd`, notes and an HTML page);
 * - an edit racing another that removed or changed its group is a 404 or a 409 with a message
 *   for the user, not a 500 "No group 3";
 * - every folder refused as a library (the disk, a system folder, Constellate's data, one
 *   holding the database, one inside a library) is the caller's error with a plain message.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toErrorBody, type ApiHost } from '../../core/api/host.js';
import { startHttpServer, type HttpServer } from '../../core/api/http.js';
import { createService } from '../../core/api/service.js';
import { openStore, thumbnailDir, type Store } from '../../core/store/index.js';
import { handleMediaRequest } from '../../electron/protocol.js';
import { demoImages } from '../helpers/cli.js';
import { serviceCaller } from '../helpers/service.js';

const work = mkdtempSync(path.join(tmpdir(), 'cs-hardening-'));
const photos = path.join(work, 'photos');
const outside = path.join(work, 'outside');
const dbFile = path.join(work, 'db', 'c.db');
let store: Store;
let host: ApiHost;
let server: HttpServer;
const { call, finished } = serviceCaller(() => host);
/** What the UI shows for a group another edit removed. */
const GROUP_GONE = 'This group no longer exists: another edit merged, split or undid it since it was shown';

interface Res {
  status: number;
  type: string | undefined;
  body: Buffer;
}

function get(p: string): Promise<Res> {
  return new Promise((resolve, reject) => {
    const url = `${p}${p.includes('?') ? '&' : '?'}token=${server.token}`;
    const r = request(
      { host: '127.0.0.1', port: server.port, method: 'GET', path: url, headers: { host: `127.0.0.1:${server.port}` } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: Buffer.concat(chunks) }));
      },
    );
    r.on('error', reject);
    r.end();
  });
}

function post(method: string, body: unknown): Promise<{ status: number; json: { error?: { code: string; message: string } } }> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const r = request(
      {
        host: '127.0.0.1',
        port: server.port,
        method: 'POST',
        path: `/api/${method}`,
        headers: { host: `127.0.0.1:${server.port}`, 'content-type': 'application/json', 'x-constellate-token': server.token },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: { code: string; message: string } },
          }),
        );
      },
    );
    r.on('error', reject);
    r.end(text);
  });
}

/** The id of the image at `rel` (relative to photos/). */
function idOf(rel: string): number {
  const row = store.db.stmt<{ id: number }>('SELECT id FROM images WHERE rel_path = ?').get(rel);
  if (!row) throw new Error(`no image ${rel}`);
  return row.id;
}

const pngOf = (cls: string, i: number) => path.join(demoImages, cls, readdirSync(path.join(demoImages, cls)).sort()[i]!);

beforeAll(async () => {
  // 4 classes x 5 images, and what the attack put in a library.
  for (const cls of ['animals_fish', 'food_fruit', 'space_planets', 'vehicles']) {
    for (let i = 0; i < 5; i++) cpSync(pngOf(cls, i), path.join(photos, cls, `${i}.png`));
  }
  mkdirSync(outside, { recursive: true });
  writeFileSync(path.join(outside, 'passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
  symlinkSync(path.join(outside, 'passwd'), path.join(photos, 'link.jpg'));
  writeFileSync(path.join(photos, 'notes.txt'), 'my notes\n');
  writeFileSync(path.join(photos, 'page.html'), '<!doctype html><script>alert(document.cookie)</script>\n');
  // PNG bytes under a JPEG name: served as what they are.
  cpSync(pngOf('vehicles', 5), path.join(photos, 'named-wrong.jpg'));
  // A link the scan follows to an image outside the library.
  cpSync(pngOf('animals_fish', 5), path.join(outside, 'fish.png'));
  cpSync(pngOf('food_fruit', 5), path.join(outside, 'fruit.png'));
  symlinkSync(path.join(outside, 'fish.png'), path.join(photos, 'elsewhere.png'));

  store = openStore(dbFile);
  host = createService({ store });
  await call('addLibrary', { path: photos });
  await call('startClustering', { groups: 4, seed: 0 });
  const job = await finished();
  if (job.status !== 'done') throw new Error(`clustering failed: ${job.error}`);
  await call('setUnsortedThreshold', { threshold: 0 });
  server = await startHttpServer(host);
}, 600_000);

afterAll(async () => {
  await server?.close();
  await host?.close();
  store?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('the media routes (issue 22, case 3)', () => {
  it('serve no file the scan skipped: not a link to a system file, not notes, not a page', async () => {
    const skipped = await call('listSkipped', { offset: 0, limit: 100 });
    expect(skipped.items.map((s) => path.basename(s.path)).sort()).toEqual(['link.jpg', 'notes.txt', 'page.html']);
    for (const s of skipped.items) {
      for (const kind of ['image', 'thumb']) {
        const res = await get(`/${kind}/${s.imageId}`);
        expect(res.status, `${kind} of ${s.path}`).toBe(404);
        expect(res.body.toString()).not.toContain('root:x:0:0');
      }
      // Electron's protocol, on the same service.
      expect((await handleMediaRequest(new Request(`constellate://media/image/${s.imageId}`), host)).status).toBe(404);
    }
  });

  it('serve an image with the type its bytes sniff as, whatever its name says', async () => {
    const id = idOf('named-wrong.jpg');
    const res = await get(`/image/${id}`);
    expect(res.status).toBe(200);
    expect(res.type).toBe('image/png');
    expect(res.body.equals(readFileSync(path.join(photos, 'named-wrong.jpg')))).toBe(true);
    const thumb = await get(`/thumb/${id}`);
    expect([thumb.status, thumb.type]).toEqual([200, 'image/webp']);
    const viaProtocol = await handleMediaRequest(new Request(`constellate://media/image/${id}`), host);
    expect([viaProtocol.status, viaProtocol.headers.get('content-type')]).toEqual([200, 'image/png']);
  });

  it('serve nothing where a decoded image was replaced by another kind of file since the scan', async () => {
    const id = idOf('vehicles/4.png');
    expect((await get(`/image/${id}`)).status).toBe(200);
    writeFileSync(path.join(photos, 'vehicles', '4.png'), '<!doctype html><script>alert(1)</script>');
    const res = await get(`/image/${id}`);
    expect(res.status).toBe(404);
    expect(res.body.toString()).not.toContain('<script>');
    expect((await handleMediaRequest(new Request(`constellate://media/image/${id}`), host)).status).toBe(404);
  });

  it('follow a link out of the library only while it leads to the image the scan decoded', async () => {
    const id = idOf('elsewhere.png');
    const res = await get(`/image/${id}`);
    expect([res.status, res.type]).toEqual([200, 'image/png']);
    expect(res.body.equals(readFileSync(path.join(outside, 'fish.png')))).toBe(true);
    // Pointed at another file outside the library since: not served (it was never scanned).
    rmSync(path.join(photos, 'elsewhere.png'));
    symlinkSync(path.join(outside, 'fruit.png'), path.join(photos, 'elsewhere.png'));
    expect((await get(`/image/${id}`)).status).toBe(404);
    expect(host.mediaFile('image', id)).toBeNull();
  });
});

describe('an edit racing another edit (issue 22, case 7)', () => {
  it('splitting a group that a merge removed meanwhile is not found, with a message for the user', async () => {
    const { groups } = await call('listGroups', { sort: 'size' });
    const [a, b] = groups;
    // The split is checked and its training started before this returns; the merge runs while it trains.
    const split = call('splitGroup', { groupId: a!.id, parts: 2 }).then(
      () => null,
      (err: unknown) => err,
    );
    await call('mergeGroups', { groupIds: [b!.id, a!.id] });
    const err = await split;
    expect(toErrorBody(err)).toEqual({ error: { code: 'not-found', message: GROUP_GONE } });
    // Over HTTP, a group gone is a 404 whatever the method.
    const gone = await post('renameGroup', { groupId: a!.id, name: 'Late' });
    expect([gone.status, gone.json.error?.message]).toEqual([404, GROUP_GONE]);
    await call('undo');
  });

  it('splitting a group whose images another edit moved out meanwhile is a conflict; nothing is changed', async () => {
    const { groups } = await call('listGroups', { sort: 'size' });
    const [a, b] = groups;
    const before = await call('listGroupImages', { groupId: a!.id, sort: 'name', offset: 0, limit: 100 });
    const split = call('splitGroup', { groupId: a!.id, parts: 2 }).then(
      () => null,
      (err: unknown) => err,
    );
    const moved = before.items.slice(0, 2).map((i) => i.id);
    await call('moveImages', { imageIds: moved, to: { groupId: b!.id } });
    const err = await split;
    const body = toErrorBody(err);
    expect(body.error.code).toBe('conflict');
    expect(body.error.message).toMatch(/moved images out of this group while it was being split: nothing was changed/);
    const after = await call('listGroupImages', { groupId: a!.id, sort: 'name', offset: 0, limit: 100 });
    expect(after.items.map((i) => i.id)).toEqual(before.items.slice(2).map((i) => i.id));
    await call('undo');
  });
});

describe('refused library folders (issue 22, case 8)', () => {
  it("are the caller's error with a plain message, and add nothing", async () => {
    const libraries = (await call('listLibraries')).length;
    const cases: Array<[string, number, RegExp]> = [
      ['/', 400, /^\/ is the whole disk, not a folder of photos: choose the folder that holds your photos$/],
      ['/proc', 400, /^\/proc is a folder of the operating system \(\/proc\), not a folder of photos/],
      ['/proc/self', 400, /is a folder of the operating system \(\/proc\)/],
      ['/etc', 400, /^\/etc is a folder of the operating system/],
      [thumbnailDir(dbFile), 400, /is in Constellate's own data folder .*: choose the folder that holds your photos$/],
      [work, 400, /^The library database \(.*c\.db\) is inside the photo folder /],
      [path.join(photos, 'vehicles'), 409, /is already part of the library/],
    ];
    for (const [folder, status, message] of cases) {
      const res = await post('addLibrary', { path: folder });
      expect(res.status, folder).toBe(status);
      expect(res.json.error?.message, folder).toMatch(message);
      expect(res.json.error?.message, folder).not.toMatch(/^Database |lies inside|SQLITE|Error:/);
    }
    expect(await call('listLibraries')).toHaveLength(libraries);
  });
});
