import { describe, expect, it } from 'vitest';
import { placeOnMap } from '../../core/jobs/grouping/mapPlacement.js';

// Four mapped images (ids 1-4) in two groups far apart on the map, two new ones (5, 6).
const unit = Float32Array.from([1, 0, 0.9, 0.436, 0, 1, 0.436, 0.9, 0.995, 0.1, 0.3, 0.954]);
const rowOf = new Map([1, 2, 3, 4, 5, 6].map((id, i) => [id, i]));
const mapIds = [1, 2, 3, 4];
const mapXy = [0, 0, 1, 0, 10, 10, 11, 10];
const groupOf = new Map<number, number | null>([
  [1, 100],
  [2, 100],
  [3, 200],
  [4, 200],
  [5, 100],
  [6, 200],
]);

describe('placeOnMap', () => {
  it('puts a new image beside its most similar mapped image of its group', () => {
    const p = placeOnMap({ mapIds, mapXy, unit, dim: 2, rowOf, newIds: [5, 6], groupOf });
    const near = (id: number, x: number, y: number) => Math.hypot(p.get(id)![0] - x, p.get(id)![1] - y);
    expect(near(5, 0, 0)).toBeLessThan(0.2); // most like image 1
    expect(near(6, 11, 10)).toBeLessThan(0.2); // most like image 4, and in its group
  });

  it('only among its own group, even when an image of another group is closer', () => {
    const p = placeOnMap({ mapIds, mapXy, unit, dim: 2, rowOf, newIds: [5], groupOf: new Map(groupOf).set(5, 200) });
    expect(p.get(5)![0]).toBeGreaterThan(9);
  });

  it('past the exact limit, at its group centre', () => {
    const p = placeOnMap({ mapIds, mapXy, unit, dim: 2, rowOf, newIds: [5, 6], groupOf, exactUpTo: 1 });
    expect(p.get(5)![0]).toBeCloseTo(0.5, 0);
    expect(p.get(6)![1]).toBeCloseTo(10, 0);
  });

  it('in a group larger than its candidate sample, still beside images like it', () => {
    // 12,000 mapped images of one group: half like (1, 0) at x 0-1, half like (0, 1) at x 100-101
    const n = 12000;
    const big = new Float32Array((n + 1) * 2);
    const xy: number[] = [];
    const ids: number[] = [];
    const groups = new Map<number, number | null>();
    for (let i = 0; i < n; i++) {
      const b = i % 2;
      big[2 * i] = b ? 0.05 : 1;
      big[2 * i + 1] = b ? 1 : 0.05;
      xy.push(b ? 100 + (i % 7) / 7 : (i % 7) / 7, 5);
      ids.push(i + 1);
      groups.set(i + 1, 7);
    }
    big[2 * n] = 0.1;
    big[2 * n + 1] = 0.99;
    groups.set(n + 1, 7);
    const rows = new Map(Array.from({ length: n + 1 }, (_, i) => [i + 1, i]));
    const p = placeOnMap({ mapIds: ids, mapXy: xy, unit: big, dim: 2, rowOf: rows, newIds: [n + 1], groupOf: groups });
    expect(p.get(n + 1)![0]).toBeGreaterThan(99);
  });
});
