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

/** Rows per block when a RowSource is scanned. */
const SCAN_BLOCK = 4096;

/**
 * identicalRows over rows read block by block (one pass, the rows never all in memory). A
 * candidate copy (same hash) is compared word by word with its first row, read again.
 * `onBlock` sees every block as it passes (another statistic computed in the same pass).
 */
export function identicalRowsSource(
  src: { n: number; d: number; read(start: number, count: number): Float32Array; readRows(indices: ArrayLike<number>): Float32Array },
  onBlock?: (block: Float32Array, start: number, count: number) => void,
): IdenticalRows {
  const { n, d } = src;
  const byHash = new Map<number, number[]>();
  const unique: number[] = [];
  const of = new Int32Array(n);
  for (let s = 0; s < n; s += SCAN_BLOCK) {
    const m = Math.min(SCAN_BLOCK, n - s);
    const block = src.read(s, m);
    onBlock?.(block, s, m);
    const words = new Uint32Array(block.buffer, block.byteOffset, m * d);
    for (let r = 0; r < m; r++) {
      const o = r * d;
      let h = 0x811c9dc5;
      for (let j = 0; j < d; j++) h = Math.imul(h ^ words[o + j]!, 0x01000193);
      let bucket = byHash.get(h);
      if (!bucket) byHash.set(h, (bucket = []));
      let found = -1;
      for (const u of bucket) {
        const first = unique[u]!;
        const ref = first >= s ? words.subarray((first - s) * d, (first - s + 1) * d) : new Uint32Array(src.readRows([first]).buffer);
        let same = true;
        for (let j = 0; j < d && same; j++) same = ref[j] === words[o + j];
        if (same) {
          found = u;
          break;
        }
      }
      if (found < 0) {
        found = unique.length;
        unique.push(s + r);
        bucket.push(found);
      }
      of[s + r] = found;
    }
  }
  return { unique: Int32Array.from(unique), of };
}
