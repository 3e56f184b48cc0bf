import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXPORT_MARKER } from '../../core/library/exportMarker.js';
import { classifyExtension, supportedExtensions } from '../../core/library/formats.js';
import { isIgnoredName, isScanSkip, scanAll, scanFolders, type ScanEntry, type ScanSkip } from '../../core/library/scan.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const ONE_PX_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'constellate-scan-'));
});
afterEach(async () => {
  await fsp.chmod(path.join(dir, 'locked'), 0o755).catch(() => undefined);
  await fsp.rm(dir, { recursive: true, force: true });
});

async function write(rel: string, data: string | Buffer = ONE_PX_PNG): Promise<string> {
  const p = path.join(dir, rel);
  await fsp.mkdir(path.dirname(p), { recursive: true });
  await fsp.writeFile(p, data);
  return p;
}

const rel = (p: string) => path.relative(dir, p).split(path.sep).join('/');
function byName(entries: ScanSkip[]): Map<string, ScanSkip> {
  return new Map(entries.map((e) => [rel(e.path), e]));
}

describe('classifyExtension', () => {
  it('accepts the supported formats case-insensitively', () => {
    for (const n of ['a.jpg', 'a.JPEG', 'a.png', 'a.WebP', 'a.gif', 'a.tif', 'a.TIFF', 'a.avif', 'a.jpe', 'a.jfif']) {
      expect(classifyExtension(n).kind, n).toBe('image');
    }
    expect(supportedExtensions()).toEqual(expect.arrayContaining(['.jpg', '.png', '.webp', '.gif', '.tiff', '.avif']));
  });
  it('gives HEIC/JXL/RAW a clear unsupported-format reason and other files not-an-image', () => {
    const heic = classifyExtension('IMG_1.HEIC');
    expect(heic).toEqual({ kind: 'skip', skip: { code: 'unsupported-format', message: 'HEIC is not supported (no HEVC decoder)' } });
    expect(classifyExtension('a.jxl')).toMatchObject({ skip: { code: 'unsupported-format' } });
    expect(classifyExtension('a.NEF')).toMatchObject({ skip: { code: 'unsupported-format' } });
    expect(classifyExtension('a.txt')).toMatchObject({ skip: { code: 'not-an-image' } });
    expect(classifyExtension('Makefile')).toMatchObject({ skip: { code: 'not-an-image' } });
  });
  it('ignores hidden names and OS junk', () => {
    for (const n of ['.DS_Store', 'Thumbs.db', '@eaDir', '.git', '._x.jpg', '.hidden', 'desktop.ini', '__MACOSX']) {
      expect(isIgnoredName(n), n).toBe(true);
    }
    expect(isIgnoredName('.hidden', true)).toBe(false);
    expect(isIgnoredName('.DS_Store', true)).toBe(true);
    expect(isIgnoredName('photo.jpg')).toBe(false);
  });
});

describe('scanFolders', () => {
  it('walks recursively, yields images with size/mtime/ino and skips with reasons', async () => {
    await write('a.png');
    await write('sub/deeper/B.JPG', ONE_PX_PNG);
    await write('sub/notes.txt', 'hi');
    await write('sub/clip.heic', 'x');
    await write('empty.gif', '');
    await write('.hidden/c.png');
    await write('@eaDir/d.png');
    await write('.DS_Store', 'junk');
    const { files, skipped } = await scanAll(dir);
    expect(files.map((f) => rel(f.path)).sort()).toEqual(['a.png', 'sub/deeper/B.JPG']);
    for (const f of files) {
      expect(f.size).toBe(ONE_PX_PNG.length);
      expect(f.mtimeMs).toBeGreaterThan(0);
      expect(typeof f.ino).toBe('number');
      expect(f.root).toBe(path.resolve(dir));
    }
    const s = byName(skipped);
    expect(s.get('sub/notes.txt')).toMatchObject({ skip: { code: 'not-an-image' } });
    expect(s.get('sub/clip.heic')).toMatchObject({ skip: { code: 'unsupported-format' } });
    expect(s.get('empty.gif')).toMatchObject({ skip: { code: 'empty-file' } });
    expect(skipped).toHaveLength(3); // hidden/junk are not reported
    const withHidden = await scanAll(dir, { includeHidden: true });
    expect(withHidden.files.map((f) => rel(f.path)).sort()).toEqual(['.hidden/c.png', 'a.png', 'sub/deeper/B.JPG']);
  });

  it('scans several roots, reports a missing root, accepts a file as root', async () => {
    const f = await write('one/x.png');
    await write('two/y.webp');
    const missing = path.join(dir, 'nope');
    const { files, skipped } = await scanAll([path.join(dir, 'one'), path.join(dir, 'two'), missing, f]);
    expect(files.map((x) => rel(x.path)).sort()).toEqual(['one/x.png', 'one/x.png', 'two/y.webp']);
    expect(skipped).toEqual([{ path: missing, root: missing, folder: true, skip: { code: 'vanished', message: 'Folder not found' } }]);
  });

  it('handles names with spaces, unicode, emoji and newlines', async () => {
    const names = ['with space.png', 'ünïcödé 日本.png', 'emoji 📷.png', 'new\nline.png', 'folder 🐱/inner.png'];
    for (const n of names) await write(n);
    const { files, skipped } = await scanAll(dir);
    expect(skipped).toEqual([]);
    expect(files.map((f) => rel(f.path)).sort()).toEqual([...names].sort());
  });

  it('follows symlinks, detects loops, duplicates and broken links', async () => {
    await write('real/a.png');
    await write('outside-target.png'); // will be reached twice: directly and via link
    const outside = await fsp.mkdtemp(path.join(os.tmpdir(), 'constellate-outside-'));
    try {
      await fsp.writeFile(path.join(outside, 'ext.png'), ONE_PX_PNG);
      await fsp.symlink(path.join(outside, 'ext.png'), path.join(dir, 'link-to-outside.png'));
      await fsp.symlink(outside, path.join(dir, 'linked-folder'));
      await fsp.symlink('..', path.join(dir, 'real', 'up'));
      await fsp.symlink(path.join(dir, 'real'), path.join(dir, 'real-again'));
      await fsp.symlink('outside-target.png', path.join(dir, 'alias.png'));
      await fsp.symlink('nowhere.png', path.join(dir, 'broken.png'));
      await fsp.symlink('self.png', path.join(dir, 'self.png'));
      const { files, skipped } = await scanAll(dir);
      const f = files.map((x) => rel(x.path)).sort();
      // ext.png outside is reached twice (a file link, then a folder link): indexed once
      expect(f).toContain('link-to-outside.png');
      expect(f).not.toContain('linked-folder/ext.png');
      expect(f).toContain('outside-target.png');
      // real/a.png is found exactly once (via 'real' or via 'real-again', whichever came first)
      expect(f.filter((x) => x.endsWith('/a.png'))).toHaveLength(1);
      const s = byName(skipped);
      expect(s.get('real/up')?.skip.code ?? s.get('real-again/up')?.skip.code).toBe('symlink-loop');
      expect([s.get('real')?.skip.code, s.get('real-again')?.skip.code]).toContain('duplicate');
      expect(s.get('alias.png')).toMatchObject({ skip: { code: 'duplicate' } });
      expect(s.get('linked-folder/ext.png')).toMatchObject({ skip: { code: 'duplicate' } });
      expect(s.get('broken.png')).toMatchObject({ skip: { code: 'broken-link' } });
      expect(s.get('self.png')).toMatchObject({ skip: { code: 'symlink-loop' } });
      // followSymlinks: false ignores every link
      const noLinks = await scanAll(dir, { followSymlinks: false });
      expect(noLinks.files.map((x) => rel(x.path)).sort()).toEqual(['outside-target.png', 'real/a.png']);
    } finally {
      await fsp.rm(outside, { recursive: true, force: true });
    }
  });

  it('records files deleted while the scan is going as vanished (lazy stat)', async () => {
    for (let i = 0; i < 20; i++) await write(`f${String(i).padStart(2, '0')}.png`);
    const seen: ScanEntry[] = [];
    for await (const e of scanFolders(dir, { statConcurrency: 1 })) {
      if (seen.length === 0) {
        // Delete every other file after the first entry came out: the listing already has them.
        const others = (await fsp.readdir(dir)).filter((n) => path.join(dir, n) !== e.path);
        await Promise.all(others.map((n) => fsp.rm(path.join(dir, n))));
      }
      seen.push(e);
    }
    expect(seen).toHaveLength(20);
    expect(seen.filter((e) => !isScanSkip(e))).toHaveLength(1);
    const vanished = seen.filter(isScanSkip);
    expect(vanished).toHaveLength(19);
    for (const v of vanished) expect(v.skip.code).toBe('vanished');
  });

  it('never throws when files vanish with batched stats either', async () => {
    for (let i = 0; i < 200; i++) await write(`d${i % 5}/f${i}.png`);
    let n = 0;
    for await (const e of scanFolders(dir)) {
      if (n++ === 0) await fsp.rm(path.join(dir, 'd3'), { recursive: true, force: true });
      if (isScanSkip(e)) expect(['vanished']).toContain(e.skip.code);
    }
    expect(n).toBeGreaterThan(0);
  });

  it('is a lazy stream: breaking out early stops the walk', async () => {
    for (let i = 0; i < 50; i++) await write(`s${i}/x.png`);
    let count = 0;
    for await (const _ of scanFolders(dir)) {
      if (++count === 3) break;
    }
    expect(count).toBe(3);
    const ac = new AbortController();
    let c2 = 0;
    for await (const _ of scanFolders(dir, { signal: ac.signal })) {
      if (++c2 === 5) ac.abort();
    }
    expect(c2).toBe(5);
  });

  // How fast: `npm run bench -- --only guards`.
  it('scans a folder of 10,000 non-image files', async () => {
    const many = path.join(dir, 'many');
    await fsp.mkdir(many);
    for (let i = 0; i < 10_000; i += 500) {
      await Promise.all(Array.from({ length: 500 }, (_, k) => fsp.writeFile(path.join(many, `n${i + k}.txt`), 'x')));
    }
    const { files, skipped } = await scanAll(dir);
    expect(files).toHaveLength(0);
    expect(skipped).toHaveLength(10_000);
    expect(skipped.every((s) => s.skip.code === 'not-an-image')).toBe(true);
  });

  it('reports a FIFO named .jpg as unreadable without opening it', async () => {
    const { execFileSync } = await import('node:child_process');
    try {
      execFileSync('mkfifo', [path.join(dir, 'pipe.jpg')]);
    } catch {
      console.warn('mkfifo not available: FIFO case skipped');
      return;
    }
    const { skipped } = await scanAll(dir);
    expect(skipped).toMatchObject([{ skip: { code: 'unreadable' } }]);
  });

  it.skipIf(isRoot)('records an unreadable file and an unreadable folder (chmod 000)', async () => {
    const f = await write('secret.png');
    await fsp.chmod(f, 0o000);
    await write('locked/inside.png');
    await fsp.chmod(path.join(dir, 'locked'), 0o000);
    const { files, skipped } = await scanAll(dir);
    expect(files).toEqual([]);
    const s = byName(skipped);
    expect(s.get('secret.png')).toMatchObject({ skip: { code: 'unreadable' } });
    expect(s.get('locked')).toMatchObject({ folder: true, skip: { code: 'unreadable' } });
  });
  if (isRoot) {
    it('(note) chmod 000 cases are skipped: running as root, where chmod does not deny reads; the FIFO case covers "unreadable"', () => {
      expect(isRoot).toBe(true);
    });
  }
});

describe('scanFolders: a file is indexed once, in one library', () => {
  const paths = (entries: Array<{ path: string }>) => entries.map((e) => rel(e.path)).sort();

  it('leaves folder and file links into another library to it, and still follows links to elsewhere', async () => {
    // The walkthrough's repro: libX 6 images; libY 4 plus a file link and a folder link into libX.
    for (let i = 0; i < 6; i++) await write(`libX/x${i}.png`);
    for (let i = 0; i < 4; i++) await write(`libY/y${i}.png`);
    await write('elsewhere/e.png');
    await fsp.symlink('../libX/x0.png', path.join(dir, 'libY', 'filelink.png'));
    await fsp.symlink('../libX', path.join(dir, 'libY', 'xs'));
    await fsp.symlink('../elsewhere', path.join(dir, 'libY', 'ext'));
    const libX = path.join(dir, 'libX');
    const libY = path.join(dir, 'libY');
    const y = await scanAll(libY, { otherRoots: [libX] });
    expect(paths(y.files)).toEqual(['libY/ext/e.png', 'libY/y0.png', 'libY/y1.png', 'libY/y2.png', 'libY/y3.png']);
    const s = byName(y.skipped);
    expect(s.get('libY/xs')).toMatchObject({ folder: true, skip: { code: 'duplicate', message: expect.stringContaining(libX) } });
    expect(s.get('libY/filelink.png')).toMatchObject({ skip: { code: 'duplicate', message: expect.stringContaining(libX) } });
    expect(y.skipped).toHaveLength(2);
    // The other side: libX knows nothing of libY's links.
    expect((await scanAll(libX, { otherRoots: [libY] })).files).toHaveLength(6);
  });

  it('a loop up to the folder around a library pulls in nothing around it, and counts each skip once', async () => {
    await write('data/libA/a.png');
    await write('data/libA/notes.txt', 'x');
    await write('data/loose.png');
    await write('data/libC/c.png');
    await write('data/libC/readme.txt', 'x');
    await fsp.symlink('.', path.join(dir, 'data', 'libC', 'loop'));
    await fsp.symlink('..', path.join(dir, 'data', 'libC', 'loopup'));
    // Whether or not the neighbour is a library: the link holds libC itself.
    for (const otherRoots of [[path.join(dir, 'data', 'libA')], []]) {
      const { files, skipped } = await scanAll(path.join(dir, 'data', 'libC'), { otherRoots });
      expect(paths(files)).toEqual(['data/libC/c.png']);
      const s = byName(skipped);
      expect(paths(skipped)).toEqual(['data/libC/loop', 'data/libC/loopup', 'data/libC/readme.txt']);
      expect(s.get('data/libC/loop')).toMatchObject({ folder: true, skip: { code: 'symlink-loop' } });
      expect(s.get('data/libC/loopup')).toMatchObject({ folder: true, skip: { code: 'symlink-loop' } });
    }
  });

  it('indexes a file outside the library reached by several links once', async () => {
    await write('lib/own.png');
    await write('outside/photos/e.png');
    await fsp.symlink('../outside/photos/e.png', path.join(dir, 'lib', 'a.png'));
    await fsp.symlink('../outside/photos/e.png', path.join(dir, 'lib', 'b.png'));
    await fsp.symlink('../outside/photos', path.join(dir, 'lib', 'photos'));
    const { files, skipped } = await scanAll(path.join(dir, 'lib'));
    expect(paths(files)).toEqual(['lib/a.png', 'lib/own.png']);
    expect(paths(skipped)).toEqual(['lib/b.png', 'lib/photos/e.png']);
    for (const s of skipped) expect(s.skip.code).toBe('duplicate');
  });

  it('leaves out a folder holding an export of Constellate quietly, with everything below it', async () => {
    await write('lib/a.png');
    await write(`lib/exported/${EXPORT_MARKER}`, '{}');
    await write('lib/exported/Group 1/a.png');
    await write('lib/exported/Group 2/deeper/b.png');
    await write('lib/exported/notes.txt', 'x');
    const leftOut: string[] = [];
    const { files, skipped } = await scanAll(path.join(dir, 'lib'), { onLeftOut: (p) => leftOut.push(rel(p)) });
    expect(paths(files)).toEqual(['lib/a.png']);
    expect(skipped).toEqual([]);
    expect(leftOut).toEqual(['lib/exported']);
    // A folder the user chose is theirs to scan, marker or not.
    expect(paths((await scanAll(path.join(dir, 'lib', 'exported'))).files)).toEqual([
      'lib/exported/Group 1/a.png',
      'lib/exported/Group 2/deeper/b.png',
    ]);
  });

  it('a library inside another (added before that was refused) keeps its files; the outer one leaves them', async () => {
    await write('libA/a.png');
    await write('libA/animals/birds/b.png');
    const libA = path.join(dir, 'libA');
    const birds = path.join(libA, 'animals', 'birds');
    const outer = await scanAll(libA, { otherRoots: [birds] });
    expect(paths(outer.files)).toEqual(['libA/a.png']);
    expect(byName(outer.skipped).get('libA/animals/birds')).toMatchObject({ folder: true, skip: { code: 'duplicate' } });
    expect(paths((await scanAll(birds, { otherRoots: [libA] })).files)).toEqual(['libA/animals/birds/b.png']);
  });
});
