/**
 * Identical feature rows: copies of one image (the same content has one stored embedding, so
 * its rows are bit-identical). Nothing in the features can tell them apart, so the map places
 * them at one point and chooseK never tries more groups than there are distinct images.
 */

export interface IdenticalRows {
  /** The first row of each distinct content, ascending. */
  unique: Int32Array;
  /** For each row, the index into `unique` of its content. */
  of: Int32Array;
}

/** Groups bit-identical rows of x [n, d] (a hash of each row's words, verified word by word). */
export function identicalRows(x: Float32Array, n: number, d: number): IdenticalRows {
  const words = new Uint32Array(x.buffer, x.byteOffset, n * d);
  const byHash = new Map<number, number[]>(); // hash -> indices into `unique`
  const unique: number[] = [];
  const of = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let h = 0x811c9dc5;
    for (let j = 0; j < d; j++) h = Math.imul(h ^ words[o + j]!, 0x01000193);
    let bucket = byHash.get(h);
    if (!bucket) byHash.set(h, (bucket = []));
    let found = -1;
    for (const u of bucket) {
      const p = unique[u]! * d;
      let same = true;
      for (let j = 0; j < d && same; j++) same = words[p + j] === words[o + j];
      if (same) {
        found = u;
        break;
      }
    }
    if (found < 0) {
      found = unique.length;
      unique.push(i);
      bucket.push(found);
    }
    of[i] = found;
  }
  return { unique: Int32Array.from(unique), of };
}
