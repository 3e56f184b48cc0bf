import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FULL_HASH_MAX_BYTES, hashBuffer, hashFile } from '../../core/library/hash.js';
import { pseudoRandomBytes } from '../fixtures/badCorpus.js';

let dir: string;
beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'constellate-hash-'));
});
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

describe('content hash (scheme cs1)', () => {
  it('is plain SHA-256 for small files, prefixed with the scheme', async () => {
    const data = Buffer.from('abc');
    expect(hashBuffer(data)).toBe('cs1:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const p = path.join(dir, 'abc.bin');
    await fsp.writeFile(p, data);
    expect(await hashFile(p)).toBe(hashBuffer(data));
  });

  it('is stable across rename/move and changes with the content', async () => {
    const data = pseudoRandomBytes(300_000, 9);
    const a = path.join(dir, 'a.jpg');
    await fsp.writeFile(a, data);
    const h = await hashFile(a);
    const b = path.join(dir, 'moved', 'renamed.jpg');
    await fsp.mkdir(path.dirname(b));
    await fsp.rename(a, b);
    expect(await hashFile(b)).toBe(h);
    const changed = Buffer.from(data);
    changed[150_000]! ^= 1; // one bit in the middle
    expect(hashBuffer(changed)).not.toBe(h);
  });

  it('samples big files (> 8 MiB): same value from buffer and file, sensitive to size/head/tail/samples', async () => {
    const big = pseudoRandomBytes(FULL_HASH_MAX_BYTES + 1_000_003, 11);
    const p = path.join(dir, 'big.tif');
    await fsp.writeFile(p, big);
    const h = hashBuffer(big);
    expect(h).toMatch(/^cs1:[0-9a-f]{64}$/);
    expect(await hashFile(p)).toBe(h);
    expect(h).not.toBe(`cs1:${createHash('sha256').update(big).digest('hex')}`);
    const head = Buffer.from(big);
    head[10]! ^= 1;
    expect(hashBuffer(head)).not.toBe(h);
    const tail = Buffer.from(big);
    tail[tail.length - 5]! ^= 1;
    expect(hashBuffer(tail)).not.toBe(h);
    expect(hashBuffer(big.subarray(0, big.length - 1))).not.toBe(h);
    // A byte at the centre of the 4th middle sample.
    const mid = Buffer.from(big);
    const inner = big.length - 2 * 256 * 1024;
    mid[256 * 1024 + Math.floor((inner * 4) / 9)]! ^= 1;
    expect(hashBuffer(mid)).not.toBe(h);
  });

  it('hashes an empty file and rejects folders and missing files with fs errors', async () => {
    const e = path.join(dir, 'empty');
    await fsp.writeFile(e, '');
    expect(await hashFile(e)).toBe(hashBuffer(Buffer.alloc(0)));
    await expect(hashFile(dir)).rejects.toMatchObject({ code: 'EISDIR' });
    await expect(hashFile(path.join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  // How fast: `npm run bench -- --only guards`.
  it('hashes a 1600x1200-photo-sized buffer the same each time, and differently for one byte changed', () => {
    const buf = pseudoRandomBytes(1_000_000, 3);
    const h = hashBuffer(buf);
    expect(hashBuffer(Buffer.from(buf))).toBe(h);
    buf[500_000] = buf[500_000]! ^ 1;
    expect(hashBuffer(buf)).not.toBe(h);
  });
});
