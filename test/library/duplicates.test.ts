/** Duplicate sets from hashes, perceptual hashes and embedding cosines (pure; issue 21). */
import { describe, expect, it } from 'vitest';
import { chooseKeeper, findDuplicateSets, phashDistance, type DuplicateCandidate } from '../../core/library/duplicates.js';

const img = (id: number, over: Partial<DuplicateCandidate> = {}): DuplicateCandidate => ({
  id,
  contentHash: `h${id}`,
  phash: 'ffff0000ffff0000',
  width: 1000,
  height: 800,
  bytes: 1000,
  date: 1_000_000,
  ...over,
});
const flip = (hex: string, bits: number) => {
  // flips the lowest `bits` bits of the last 8 digits
  const lo = (parseInt(hex.slice(8), 16) ^ ((1 << bits) - 1)) >>> 0;
  return hex.slice(0, 8) + lo.toString(16).padStart(8, '0');
};

describe('duplicate sets', () => {
  it('exact copies share a content hash; near ones need a close fingerprint and a confirming cosine', () => {
    const items = [
      img(1),
      img(2, { contentHash: 'h1', width: 1000, height: 800 }), // a copy under another name
      img(3, { phash: flip('ffff0000ffff0000', 6), width: 500, height: 400 }), // resized: 6 bits off
      img(4, { phash: flip('ffff0000ffff0000', 5) }), // close hash, but the model sees another picture
      img(5, { phash: '0000ffff0000ffff' }), // another picture
    ];
    const cos = (a: string, b: string) => ([a, b].includes('h4') ? 0.3 : 0.97);
    const sets = findDuplicateSets(items, { maxDistance: 10, minCosine: 0.8 }, cos);
    expect(sets).toHaveLength(1);
    expect(sets[0]!.keeper).toBe(1);
    expect(sets[0]!.members).toEqual([
      { id: 2, kind: 'exact', distance: 0, cosine: null },
      { id: 3, kind: 'near', distance: 6, cosine: 0.97 },
    ]);
    expect(phashDistance('ffff0000ffff0000', flip('ffff0000ffff0000', 6))).toBe(6);
  });

  it('tiny images (28 x 28) are exact copies only', () => {
    const items = [img(1, { width: 28, height: 28 }), img(2, { width: 28, height: 28, phash: flip('ffff0000ffff0000', 1) })];
    expect(findDuplicateSets(items, { maxDistance: 10, minCosine: 0.8 }, () => 0.99)).toEqual([]);
  });

  it('keeps the largest resolution, then the largest file, then the oldest, and says why', () => {
    expect(chooseKeeper([img(1, { width: 800, height: 600 }), img(2, { width: 4000, height: 3000 })])).toMatchObject({
      keeper: { id: 2 },
      reason: 'the largest: 4000 × 3000',
    });
    expect(chooseKeeper([img(1, { bytes: 10 }), img(2, { bytes: 20 })])).toMatchObject({
      keeper: { id: 2 },
      reason: 'the same size as the largest, and the largest file',
    });
    expect(chooseKeeper([img(1, { date: 5 }), img(2, { date: 3 })])).toMatchObject({
      keeper: { id: 2 },
      reason: 'as large as the others, and the oldest',
    });
  });
});

describe('exact copies tie on everything: the keeper is the one not named like a copy', () => {
  it('keeps "2019/IMG_1000.jpg" over "Copies/IMG_1000 (1).jpg", whichever was found first', () => {
    const a = img(1, { path: 'Copies/IMG_1000 (1).jpg' });
    const b = img(2, { path: '2019/IMG_1000.jpg', contentHash: 'h1' });
    expect(chooseKeeper([a, b])).toMatchObject({ keeper: { id: 2 }, reason: 'the same as the others, and not named like a copy' });
  });
});
