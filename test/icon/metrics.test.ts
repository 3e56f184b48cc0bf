import { describe, expect, it } from 'vitest';
import { ari, hungarian, hungarianAccuracy, hungarianMatch, nmi, thresholdSplit } from '../../core/icon/metrics.js';

describe('metrics (hand-computed)', () => {
  it('Hungarian accuracy', () => {
    expect(hungarianAccuracy([0, 0, 1, 1, 2, 2], [1, 1, 0, 0, 2, 2])).toBe(1);
    // best matching: cluster 0 -> class 0 (2), cluster 1 -> class 2 (2): 4/6
    expect(hungarianAccuracy([0, 0, 1, 1, 2, 2], [0, 0, 0, 1, 1, 1])).toBeCloseTo(4 / 6, 12);
    // more clusters than classes: extra cluster matches nothing
    expect(hungarianAccuracy([0, 0, 0, 1], [0, 0, 1, 2])).toBeCloseTo(3 / 4, 12);
    // greedy would take the 3 first; optimum 2+2
    expect(hungarianAccuracy([0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 1, 1, 1])).toBeCloseTo(6 / 7, 12);
  });

  it('Hungarian matching by label value, and the Unsorted split it scores', () => {
    // clusters named 7 and 3 (values, not indices): 7 -> class 1, 3 -> class 0
    expect(hungarianMatch([0, 0, 1, 1, 1], [3, 3, 7, 7, 3])).toEqual(
      new Map([
        [3, 0],
        [7, 1],
      ]),
    );
    // 4 of 5 correct; the wrong one (index 4) and one right one (index 0) are below 0.5
    const s = thresholdSplit([0, 0, 1, 1, 1], [3, 3, 7, 7, 3], [0.4, 0.9, 0.8, 0.7, 0.2], 0.5);
    expect(s.share).toBeCloseTo(2 / 5, 12);
    expect(s.accKept).toBe(1);
    expect(s.accBelow).toBeCloseTo(1 / 2, 12);
    const none = thresholdSplit([0, 1], [0, 1], [1, 1], 0.5);
    expect(none.share).toBe(0);
    expect(none.accBelow).toBeNaN();
  });

  it('Hungarian assignment is optimal on a 3x3 cost', () => {
    const cost = Float64Array.from([4, 1, 3, 2, 0, 5, 3, 2, 2]);
    const m = hungarian(cost, 3);
    const total = [0, 1, 2].reduce((s, r) => s + cost[r * 3 + m[r]!]!, 0);
    expect(total).toBe(5); // 1 + 2 + 2
    expect(new Set(m).size).toBe(3);
  });

  it('NMI with arithmetic normalisation', () => {
    expect(nmi([0, 0, 1, 1], [1, 1, 0, 0])).toBeCloseTo(1, 12);
    expect(nmi([0, 0, 1, 1], [0, 1, 0, 1])).toBeCloseTo(0, 12);
    // truth [0,0,1,1], pred [0,0,0,1]: MI = 1/2 ln(4/3) + 1/4 ln(2/3) + 1/4 ln 2,
    // H(U) = ln 2, H(V) = -(3/4 ln 3/4 + 1/4 ln 1/4); NMI = MI / ((H(U)+H(V))/2)
    const mi = 0.5 * Math.log(4 / 3) + 0.25 * Math.log(2 / 3) + 0.25 * Math.log(2);
    const hu = Math.log(2);
    const hv = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
    expect(nmi([0, 0, 1, 1], [0, 0, 0, 1])).toBeCloseTo(mi / ((hu + hv) / 2), 12);
    expect(nmi([0, 0, 1, 1], [0, 0, 0, 1])).toBeCloseTo(0.343711, 5);
  });

  it('ARI', () => {
    expect(ari([0, 0, 1, 1], [1, 1, 0, 0])).toBeCloseTo(1, 12);
    // scikit-learn documentation examples
    expect(ari([0, 0, 1, 1], [0, 0, 1, 2])).toBeCloseTo(0.5714285714285715, 12);
    expect(ari([0, 0, 1, 1], [0, 1, 0, 1])).toBeCloseTo(-0.5, 12);
    // by hand: truth [0,0,0,1,1,1], pred [0,0,1,1,2,2]; sum C(nij,2) = 1+0+0+1 = 2,
    // rows: 2*C(3,2) = 6, cols: 3*C(2,2) = 3, expected = 6*3/15 = 1.2, max = 4.5
    expect(ari([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2])).toBeCloseTo((2 - 1.2) / (4.5 - 1.2), 12);
  });
});
