/**
 * Duplicate sets: exact copies (the same content hash) and near-duplicates (resized,
 * recompressed, slightly cropped or edited): a perceptual hash within `maxDistance` bits
 * (core/images/fingerprint.ts), confirmed by the cosine of the two images' embeddings (the
 * backbone's own view of the picture) at least `minCosine`; pairs join into sets
 * (union-find). Each set has one suggested keeper: the largest resolution, then the largest
 * file, then the oldest date, then the one not named like a copy ("IMG_1 (1).jpg"), then the
 * shortest path; and the reason, in words.
 *
 * Pure: the caller loads the rows and gives the cosine of two contents. All pairs of distinct
 * contents are compared (two 32-bit XORs and popcounts each): about 0.3 s for 10,000 images
 * here, 30 s for 100,000, which the store caches until the images change.
 */

export interface DuplicateCandidate {
  id: number;
  contentHash: string;
  /** 16 hex digits, or null (not fingerprinted yet: exact copies only). */
  phash: string | null;
  width: number;
  height: number;
  bytes: number;
  /** Epoch ms: the date taken, else the file time (what "oldest" compares). */
  date: number;
  /** Its path in the library: among exact copies, the one not named like a copy is kept. */
  path?: string;
}

/** "IMG_1 (1).jpg", "Copy of IMG_1.jpg", "IMG_1 copy.jpg", "IMG_1-2.jpg" look like copies; the original's name does not. */
export function looksLikeCopy(p: string | undefined): boolean {
  const base = (p ?? '').split(/[\\/]/).pop() ?? '';
  return /\(\d+\)(\.[^.]*)?$|\bcopy\b|^copy of |-\d(\.[^.]*)?$/i.test(base);
}

export interface DuplicateOptions {
  /** Most differing bits of 64 for a near-duplicate candidate. */
  maxDistance: number;
  /** Least embedding cosine that confirms a candidate. */
  minCosine: number;
}

/**
 * The defaults and the range in which they are safe, from bench/duplicates.ts (docs/duplicates.md):
 * on 120 real pictures with an exact copy and 7 edits each (1,080 images), 12 bits and a cosine
 * of 0.8 found every copy, resized, recompressed and WebP version, 119 of 120 brightened ones,
 * 105 of 120 thumbnails, 80 of 120 4% crops and 45 of 120 8% crops, with 1 false pair; 6 bits
 * found almost no crops, 14 made 3 false pairs, and past it look-alikes pair up fast.
 */
export const DUPLICATE_DEFAULTS: DuplicateOptions = { maxDistance: 12, minCosine: 0.8 };
export const SAFE_MAX_DISTANCE: readonly [number, number] = [6, 14];

/** The shortest side an image needs for near-duplicate detection (smaller: exact copies only). */
export const MIN_SIDE = 64;

export interface DuplicateMember {
  id: number;
  /** exact: same bytes; near: same picture, other pixels. */
  kind: 'exact' | 'near';
  /** To the keeper: differing bits and embedding cosine (null for an exact copy). */
  distance: number | null;
  cosine: number | null;
}

export interface DuplicateSet {
  keeper: number;
  /** Why this one is the keeper, in words. */
  reason: string;
  /** The others, keeper excluded. */
  members: DuplicateMember[];
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Hamming distance of two 16-hex-digit hashes. */
export function phashDistance(a: string, b: string): number {
  return (
    popcount((parseInt(a.slice(0, 8), 16) ^ parseInt(b.slice(0, 8), 16)) >>> 0) +
    popcount((parseInt(a.slice(8), 16) ^ parseInt(b.slice(8), 16)) >>> 0)
  );
}

/** The keeper of a set, and why: largest resolution, then file size, then oldest, then first. */
export function chooseKeeper(items: readonly DuplicateCandidate[]): { keeper: DuplicateCandidate; reason: string } {
  const sorted = [...items].sort(
    (a, b) =>
      b.width * b.height - a.width * a.height ||
      b.bytes - a.bytes ||
      a.date - b.date ||
      Number(looksLikeCopy(a.path)) - Number(looksLikeCopy(b.path)) ||
      (a.path ?? '').length - (b.path ?? '').length ||
      a.id - b.id,
  );
  const k = sorted[0]!;
  const others = sorted.slice(1);
  const px = (c: DuplicateCandidate) => c.width * c.height;
  let reason: string;
  if (others.every((o) => px(o) < px(k))) reason = `the largest: ${k.width} × ${k.height}`;
  else if (others.every((o) => px(o) < px(k) || o.bytes < k.bytes)) reason = `the same size as the largest, and the largest file`;
  else if (others.every((o) => px(o) < px(k) || o.bytes < k.bytes || o.date > k.date)) reason = `as large as the others, and the oldest`;
  else if (others.every((o) => px(o) < px(k) || o.bytes < k.bytes || o.date > k.date || looksLikeCopy(o.path)))
    reason = 'the same as the others, and not named like a copy';
  else reason = 'the same as the others: the first found';
  return { keeper: k, reason };
}

export function findDuplicateSets(
  items: readonly DuplicateCandidate[],
  options: DuplicateOptions,
  cosine: (a: string, b: string) => number | null,
): DuplicateSet[] {
  const parent = new Map<number, number>();
  const find = (x: number): number => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    while (parent.get(x) !== r) {
      const n = parent.get(x)!;
      parent.set(x, r);
      x = n;
    }
    return r;
  };
  const union = (a: number, b: number) => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(Math.max(ra, rb), Math.min(ra, rb));
  };
  for (const it of items) parent.set(it.id, it.id);
  // Exact copies: one representative per content.
  const byContent = new Map<string, DuplicateCandidate[]>();
  for (const it of items) {
    const list = byContent.get(it.contentHash);
    if (list) {
      list.push(it);
      union(list[0]!.id, it.id);
    } else byContent.set(it.contentHash, [it]);
  }
  // Near-duplicates among the representatives that have a fingerprint, and pixels enough for
  // one to mean something: at 28 x 28 every centred garment hashes alike (exact copies only).
  const reps = [...byContent.values()]
    .map((l) => l[0]!)
    .filter((r) => r.phash !== null && /^[0-9a-f]{16}$/.test(r.phash) && Math.min(r.width, r.height) >= MIN_SIDE);
  const hi = Uint32Array.from(reps, (r) => parseInt(r.phash!.slice(0, 8), 16));
  const lo = Uint32Array.from(reps, (r) => parseInt(r.phash!.slice(8), 16));
  const max = options.maxDistance;
  for (let i = 0; i < reps.length; i++) {
    const hi0 = hi[i]!;
    const lo0 = lo[i]!;
    for (let j = i + 1; j < reps.length; j++) {
      const d = popcount((hi0 ^ hi[j]!) >>> 0);
      if (d > max) continue;
      if (d + popcount((lo0 ^ lo[j]!) >>> 0) > max) continue;
      if (find(reps[i]!.id) === find(reps[j]!.id)) continue;
      const c = cosine(reps[i]!.contentHash, reps[j]!.contentHash);
      if (c !== null && c >= options.minCosine) union(reps[i]!.id, reps[j]!.id);
    }
  }
  const sets = new Map<number, DuplicateCandidate[]>();
  for (const it of items) {
    const r = find(it.id);
    const list = sets.get(r);
    if (list) list.push(it);
    else sets.set(r, [it]);
  }
  const out: DuplicateSet[] = [];
  for (const members of sets.values()) {
    if (members.length < 2) continue;
    const { keeper, reason } = chooseKeeper(members);
    out.push({
      keeper: keeper.id,
      reason,
      members: members
        .filter((m) => m.id !== keeper.id)
        .map((m) => {
          if (m.contentHash === keeper.contentHash) return { id: m.id, kind: 'exact' as const, distance: 0, cosine: null };
          const distance = m.phash && keeper.phash ? phashDistance(m.phash, keeper.phash) : null;
          return { id: m.id, kind: 'near' as const, distance, cosine: cosine(m.contentHash, keeper.contentHash) };
        }),
    });
  }
  return out.sort((a, b) => b.members.length - a.members.length || a.keeper - b.keeper);
}
