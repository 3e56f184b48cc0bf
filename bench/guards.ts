/**
 * What the user waits for at the edges: a scan through a folder of 10,000 files that are not
 * images, refusing a decompression bomb (a 30000 x 30000 PNG of about 110 KB) by its pixel count
 * before decoding it, and hashing a photo. The tests check what happens; how long it takes is
 * measured here.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decodeForModel } from '../core/images/decode.js';
import { hashBuffer } from '../core/library/hash.js';
import { scanAll } from '../core/library/scan.js';
import { makePngBomb, pseudoRandomBytes } from '../test/fixtures/badCorpus.js';
import type { Figure } from './report.js';

export async function benchGuards(quick: boolean): Promise<Figure[]> {
  const cmd = `npm run bench -- ${quick ? '--quick ' : ''}--only guards`;
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'cs-bench-guards-'));
  try {
    const many = path.join(dir, 'many');
    await fsp.mkdir(many);
    for (let i = 0; i < 10_000; i += 500) {
      await Promise.all(Array.from({ length: 500 }, (_, k) => fsp.writeFile(path.join(many, `n${i + k}.txt`), 'x')));
    }
    let t0 = performance.now();
    const { skipped } = await scanAll(dir);
    const scanMs = performance.now() - t0;
    if (skipped.length !== 10_000) throw new Error(`scan: ${skipped.length} skipped, expected 10000`);

    const bomb = path.join(dir, 'bomb.png');
    await fsp.writeFile(bomb, await makePngBomb());
    t0 = performance.now();
    const r = await decodeForModel(bomb);
    const bombMs = performance.now() - t0;
    if (r.ok) throw new Error('the decompression bomb was decoded');

    const photo = pseudoRandomBytes(1_000_000, 3);
    t0 = performance.now();
    for (let i = 0; i < 20; i++) hashBuffer(photo);
    const hashMs = (performance.now() - t0) / 20;
    return [
      { name: 'scan a folder of 10,000 non-image files', value: scanMs, unit: 'ms', command: cmd, note: 'target < 3000' },
      { name: 'refuse a 30000 x 30000 PNG bomb by its pixel count', value: bombMs, unit: 'ms', command: cmd, note: 'target < 1000' },
      { name: 'content hash of a 1 MB file (a 1600 x 1200 photo)', value: hashMs, unit: 'ms', command: cmd, note: 'target < 50' },
    ];
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}
