import { beforeAll, describe, expect, it } from 'vitest';
import {
  auroc,
  calibratedConfidence,
  calibrationScores,
  CONFIDENCE_CALIBRATION,
  expectedCalibrationError,
  groupConfidenceAndPurity,
  inRightGroup,
  spearman,
} from '../../core/icon/calibration.js';
import { DebiasedInfoNCEClustering } from '../../core/icon/clustering.js';
import { blobs, setupTf } from './helpers.js';

beforeAll(setupTf);

describe('confidence honesty metrics', () => {
  it('AUROC as scikit-learn computes it, ties counted half', () => {
    // sklearn's roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
    expect(auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
    expect(auroc([0.5, 0.5], [0, 1])).toBe(0.5);
    expect(auroc([0.2, 0.9], [1, 1])).toBeNaN();
  });

  it('ECE: bin-weighted |accuracy - confidence| over 10 bins', () => {
    // bin 0.9: 4 images at 0.95 of which 2 right (|0.5 - 0.95| = 0.45); bin 0.5: 2 at 0.55, both right (0.45)
    const conf = [0.95, 0.95, 0.95, 0.95, 0.55, 0.55];
    const ok = [1, 1, 0, 0, 1, 1];
    expect(expectedCalibrationError(conf, ok)).toBeCloseTo((4 / 6) * 0.45 + (2 / 6) * 0.45, 12);
    expect(expectedCalibrationError([1, 1, 0.05], [1, 1, 0])).toBeCloseTo(0.05 / 3, 12);
  });

  it("Spearman's rho as scipy computes it, ties averaged", () => {
    // scipy.stats.spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]).correlation == 0.8207826816681233
    expect(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])).toBeCloseTo(0.8207826816681233, 12);
    expect(spearman([3, 1, 2], [30, 10, 20])).toBeCloseTo(1, 12);
  });

  it('right group = the Hungarian match of the class; group purity and mean confidence', () => {
    const truth = [0, 0, 0, 1, 1, 1];
    const pred = [5, 5, 7, 7, 7, 7]; // group 5 matches class 0, group 7 class 1
    expect(Array.from(inRightGroup(truth, pred))).toEqual([1, 1, 0, 1, 1, 1]);
    const g = groupConfidenceAndPurity(truth, pred, [0.9, 0.7, 0.4, 0.6, 0.6, 0.6]);
    expect(g.size).toEqual([2, 4]);
    expect(g.purity).toEqual([1, 0.75]);
    expect(g.confidence[0]).toBeCloseTo(0.8, 12);
    expect(g.confidence[1]).toBeCloseTo(0.55, 12);
    const s = calibrationScores(truth, pred, [0.9, 0.7, 0.4, 0.6, 0.6, 0.6]);
    expect(s.auroc).toBeCloseTo(1, 12); // the one wrong image has the lowest confidence
  });
});

describe('the confidence the app shows', () => {
  it("is the head's max phi through the fitted logistic: monotone, between its ends", () => {
    const { slope, intercept } = CONFIDENCE_CALIBRATION;
    expect(calibratedConfidence(0.5)).toBeCloseTo(1 / (1 + Math.exp(-(slope * 0.5 + intercept))), 12);
    for (let p = 0.1; p < 1; p += 0.1) expect(calibratedConfidence(p + 0.05)).toBeGreaterThan(calibratedConfidence(p));
    const { x, n } = blobs(3, 30, 8, 3);
    const model = new DebiasedInfoNCEClustering({ nClusters: 3, seed: 0, epochs: 3, minStepsPerEpoch: 4 });
    const fit = model.fit(x, n, 8);
    const phi = model.predictProba(x, n);
    for (let i = 0; i < n; i++)
      expect(fit.confidence[i]).toBeCloseTo(calibratedConfidence(Math.max(phi[3 * i]!, phi[3 * i + 1]!, phi[3 * i + 2]!)), 5);
  });
});
