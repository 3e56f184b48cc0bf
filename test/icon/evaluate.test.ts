import { describe, expect, it } from 'vitest';
import { sampleFixes, samplePins } from '../../core/icon/evaluate.js';

describe('the edits eval simulates', () => {
  // classes 0, 1, 2 (4 images each); the grouping puts class 0 in group 5, class 1 in group 7,
  // class 2 in group 9, except images 3 (class 0, in group 7), 6 and 7 (class 1, in 5 and 9)
  const labels = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2];
  const grouping = [5, 5, 5, 7, 7, 7, 5, 9, 9, 9, 9, 9];

  it('pins: that many images of each class, labelled with it, the same for a seed', () => {
    const pins = samplePins(labels, 2, 3);
    expect(pins.size).toBe(6);
    for (const [i, l] of pins) expect(labels[i]).toBe(l);
    for (const c of [0, 1, 2]) expect([...pins.values()].filter((l) => l === c)).toHaveLength(2);
    expect([...samplePins(labels, 2, 3)]).toEqual([...pins]);
    expect(samplePins(labels, 9, 0).size).toBe(12); // at most the whole class
  });

  it('fixes: only misplaced images (outside the group matched to their class), up to that many per class', () => {
    expect(new Map([...sampleFixes(labels, grouping, 5, 0)].sort((a, b) => a[0] - b[0]))).toEqual(
      new Map([
        [3, 0],
        [6, 1],
        [7, 1],
      ]),
    );
    const one = sampleFixes(labels, grouping, 1, 0);
    expect(one.size).toBe(2); // class 2 has nothing misplaced
    expect(one.has(3)).toBe(true);
    expect(one.has(6) !== one.has(7)).toBe(true);
  });
});
