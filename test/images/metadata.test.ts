/**
 * EXIF dates (issue 21, defect 4): DateTimeOriginal, then CreateDate, then IFD0's DateTime
 * (which exifr names ModifyDate), each with its sub-seconds and offset; written into real JPEGs
 * with sharp's withExif and read the way indexing reads them (from sharp's EXIF block, and from
 * the file). And the details pass that reads them, with the perceptual hash, into the store.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exifDateParts, formatTakenAt, parseExif, readExifFile } from '../../core/images/metadata.js';
import { hammingHex, perceptualHash } from '../../core/images/fingerprint.js';
import { readImageDetails } from '../../core/jobs/indexing/details.js';
import { openStore, type Store } from '../../core/store/index.js';
import { tempDir } from '../store/helpers.js';

type Ifd = Record<string, string>;
const DEMO = path.resolve(import.meta.dirname, '../../demo/tuxpaint');
const first = (dir: string) => `${dir}/${readdirSync(path.join(DEMO, dir)).sort()[0]!}`;
const BIRD = first('animals_birds');
const PLANET = first('space_planets');
const jpeg = (exif: { IFD0?: Ifd; IFD2?: Ifd }, w = 64, h = 48) =>
  sharp({ create: { width: w, height: h, channels: 3, background: { r: 200, g: 90, b: 40 } } })
    .jpeg()
    .withExif(exif)
    .toBuffer();
const exifOf = async (buf: Buffer) => parseExif((await sharp(buf).metadata()).exif);

describe('EXIF dates', () => {
  it('reads IFD0 DateTime (exifr: ModifyDate) when it is the only date', async () => {
    const info = await exifOf(await jpeg({ IFD0: { DateTime: '2019:03:04 05:06:07', Make: 'Canon' } }));
    expect(info.takenAt).toBe('2019-03-04T05:06:07');
  });

  it('prefers DateTimeOriginal, with its sub-seconds and offset', async () => {
    const info = await exifOf(
      await jpeg({
        IFD0: { DateTime: '2019:03:04 05:06:07' },
        IFD2: { DateTimeOriginal: '2018:01:02 03:04:05', SubSecTimeOriginal: '35', OffsetTimeOriginal: '+02:00' },
      }),
    );
    expect(info.takenAt).toBe('2018-01-02T03:04:05.350+02:00');
    expect(exifDateParts(info.takenAt!)).toEqual({ wallClockMs: Date.parse('2018-01-02T03:04:05.350Z'), offsetMinutes: 120 });
    expect(formatTakenAt(Date.parse('2018-01-02T03:04:05.350Z'), 120)).toBe('2018-01-02T03:04:05.350+02:00');
    expect(formatTakenAt(Date.parse('2018-01-02T03:04:05Z'), null)).toBe('2018-01-02T03:04:05');
    expect(exifDateParts('2018-01-02T03:04:05-05:30')!.offsetMinutes).toBe(-330);
  });

  it('falls back to CreateDate (DateTimeDigitized) before ModifyDate', async () => {
    const info = await exifOf(
      await jpeg({ IFD0: { DateTime: '2019:03:04 05:06:07' }, IFD2: { DateTimeDigitized: '2017:07:08 09:10:11' } }),
    );
    expect(info.takenAt).toBe('2017-07-08T09:10:11');
  });

  it('reads a file, and says when it cannot', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const f = path.join(dir, 'a.jpg');
      writeFileSync(f, await jpeg({ IFD0: { DateTime: '2020:12:24 18:00:00' } }));
      expect((await readExifFile(f))?.takenAt).toBe('2020-12-24T18:00:00');
      expect(await readExifFile(path.join(dir, 'gone.jpg'))).toBeNull();
    } finally {
      cleanup();
    }
  });

  it('leaves no file open on a broken file (exifr keeps its handle when it throws early)', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const files = ['empty.jpg', 'one.jpg', 'two.png'].map((n) => path.join(dir, n));
      files.forEach((f, i) => writeFileSync(f, Buffer.alloc(i, 0xff)));
      const open = () => readdirSync('/proc/self/fd').length;
      const before = open();
      for (let i = 0; i < 10; i++) for (const f of files) expect(await readExifFile(f)).toEqual({});
      expect(open()).toBe(before);
    } finally {
      cleanup();
    }
  });
});

describe('the details pass', () => {
  let store: Store;
  let cleanup: () => void;
  let root: string;
  beforeEach(() => {
    let dir: string;
    ({ dir, cleanup } = tempDir());
    root = path.join(dir, 'photos');
    mkdirSync(root, { recursive: true });
    store = openStore(path.join(dir, 'c.db'));
  });
  afterEach(() => {
    store.close();
    cleanup();
  });

  it('dates images indexed before it (IFD0-only dates were lost) and gives each a perceptual hash', async () => {
    // real pictures (the demo's), as photos: flattened JPEGs
    const pic = (file: string) => sharp(path.join(DEMO, file)).flatten({ background: '#ffffff' }).jpeg({ quality: 90 });
    writeFileSync(
      path.join(root, 'a.jpg'),
      await pic(BIRD)
        .withExif({ IFD0: { DateTime: '2019:03:04 05:06:07' } })
        .toBuffer(),
    );
    writeFileSync(path.join(root, 'b.jpg'), await pic(PLANET).toBuffer());
    writeFileSync(path.join(root, 'a-small.jpg'), await sharp(path.join(root, 'a.jpg')).resize(160).jpeg({ quality: 50 }).toBuffer());
    const lib = store.libraries.add(root);
    const gen = store.libraries.beginScan(lib.id);
    store.images.upsertScanned(
      lib.id,
      gen,
      ['a.jpg', 'b.jpg', 'a-small.jpg'].map((relPath, i) => ({ relPath, size: 100 + i, mtimeMs: 1_700_000_000_000 })),
    );
    store.libraries.finishScan(lib.id, gen);
    // indexed by a version that lost the date: no taken_at
    store.images.markDecoded(
      store.images.pending(10).map((p, i) => ({ id: p.id, contentHash: `h${i}`, width: 96, height: 64, takenAt: null })),
    );

    expect(await readImageDetails({ db: store.db })).toBe(3);
    const byName = new Map(
      store.db.raw
        .prepare('SELECT name, taken_at AS t, phash FROM images')
        .all()
        .map((r) => [(r as { name: string }).name, r as { t: number | null; phash: string | null }]),
    );
    expect(byName.get('a.jpg')!.t).toBe(Date.parse('2019-03-04T05:06:07Z'));
    expect(byName.get('b.jpg')!.t).toBeNull();
    for (const r of byName.values()) expect(r.phash).toMatch(/^[0-9a-f]{16}$/);
    // the small recompressed copy's hash is close to its original's, far from another picture's
    expect(hammingHex(byName.get('a.jpg')!.phash!, byName.get('a-small.jpg')!.phash!)).toBeLessThanOrEqual(6);
    expect(hammingHex(byName.get('a.jpg')!.phash!, byName.get('b.jpg')!.phash!)).toBeGreaterThan(10);
    // read once: nothing left for the next run
    expect(await readImageDetails({ db: store.db })).toBe(0);
    expect(await perceptualHash(path.join(root, 'missing.jpg'))).toBeNull();
  });
});
