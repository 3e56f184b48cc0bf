/**
 * Points on the 2-D map for images placed after the map was made (Place new images or an added folder
 * puts them in groups with the trained head, without retraining, so the run's t-SNE map has no
 * row for them). Each goes beside its most similar mapped image (cosine in backbone space) of
 * the same group: out-of-sample placement by the nearest neighbour, the cheap standard answer,
 * until a Regroup computes the map afresh. Past `exactUpTo` new images the search would cost
 * seconds (new x group size x dim), so they go to their group's centre instead. A group larger
 * than CANDIDATES_PER_GROUP is searched in an even sample of its images (at 1,000,000 images a
 * group can hold 250,000: seconds for 100 new images).
 */
const CANDIDATES_PER_GROUP = 5000;

export interface MapPlacementInput {
  /** The run's map: image ids and their x,y interleaved. */
  mapIds: ArrayLike<number>;
  mapXy: ArrayLike<number>;
  /** Unit-length backbone features, row per image, and each image's row. */
  unit: Float32Array;
  dim: number;
  rowOf: ReadonlyMap<number, number>;
  /** The images to place, and the group of every image (mapped or new; null: none). */
  newIds: readonly number[];
  groupOf: ReadonlyMap<number, number | null>;
  exactUpTo?: number;
}

/** x,y per new image (same order); an image without features or any mapped neighbour is left out. */
export function placeOnMap(input: MapPlacementInput): Map<number, [number, number]> {
  const { mapIds, mapXy, unit, dim, rowOf, newIds, groupOf } = input;
  const out = new Map<number, [number, number]>();
  const n = mapIds.length;
  if (n === 0) return out;
  // Mapped images by group (null: all of them), and the map's extent for the jitter.
  const byGroup = new Map<number | null, number[]>();
  let minX = Infinity,
    maxX = -Infinity;
  for (let i = 0; i < n; i++) {
    const g = groupOf.get(mapIds[i]!) ?? null;
    (byGroup.get(g) ?? byGroup.set(g, []).get(g)!).push(i);
    minX = Math.min(minX, mapXy[2 * i]!);
    maxX = Math.max(maxX, mapXy[2 * i]!);
  }
  const all = Array.from({ length: n }, (_, i) => i);
  const sampled = new Map<number[], number[]>();
  const searchIn = (list: number[]): number[] => {
    if (list.length <= CANDIDATES_PER_GROUP) return list;
    let s = sampled.get(list);
    if (!s) {
      const step = list.length / CANDIDATES_PER_GROUP;
      s = Array.from({ length: CANDIDATES_PER_GROUP }, (_, j) => list[Math.floor(j * step)]!);
      sampled.set(list, s);
    }
    return s;
  };
  // Copies of one image would sit exactly on top of each other: a small offset of its own.
  const jitter = (id: number, k: number) => (((Math.imul(id, 2654435761) >>> (k * 8)) & 255) / 255 - 0.5) * 0.01 * (maxX - minX || 1);
  const exact = newIds.length <= (input.exactUpTo ?? 2000);
  for (const id of newIds) {
    const candidates = byGroup.get(groupOf.get(id) ?? null) ?? all;
    let x: number, y: number;
    const row = rowOf.get(id);
    if (exact && row !== undefined) {
      const q = unit.subarray(row * dim, (row + 1) * dim);
      let best = -1,
        bestS = -Infinity;
      for (const i of searchIn(candidates)) {
        const r = rowOf.get(mapIds[i]!);
        if (r === undefined) continue;
        let s = 0;
        const off = r * dim;
        for (let j = 0; j < dim; j++) s += q[j]! * unit[off + j]!;
        if (s > bestS) {
          bestS = s;
          best = i;
        }
      }
      if (best < 0) continue;
      x = mapXy[2 * best]!;
      y = mapXy[2 * best + 1]!;
    } else {
      x = 0;
      y = 0;
      for (const i of candidates) {
        x += mapXy[2 * i]!;
        y += mapXy[2 * i + 1]!;
      }
      x /= candidates.length;
      y /= candidates.length;
    }
    out.set(id, [x + jitter(id, 0), y + jitter(id, 1)]);
  }
  return out;
}
