import { describe, expect, it } from 'vitest';
import { ProgressTracker, formatProgressLine, formatSeconds } from '../../core/runtime/progress.js';

describe('ProgressTracker', () => {
  it('reports done/total, rate and ETA per phase, and seconds per phase', () => {
    let t = 0;
    const tracker = new ProgressTracker(
      () => {},
      () => t,
    );
    tracker.start('scan', null);
    t = 500;
    tracker.advance(50);
    tracker.start('embed', 100);
    t = 2500;
    tracker.advance(20);
    const snap = tracker.snapshot();
    expect(snap[0]).toMatchObject({ name: 'scan', done: 50, total: null, etaSeconds: null });
    expect(snap[0]!.rate).toBeCloseTo(100);
    expect(snap[1]).toMatchObject({ name: 'embed', done: 20, total: 100 });
    expect(snap[1]!.rate).toBeCloseTo(10);
    expect(snap[1]!.etaSeconds).toBeCloseTo(8);
    tracker.finish();
    expect(tracker.secondsByPhase()).toEqual({ scan: 0.5, embed: 2 });
    expect(formatProgressLine(snap[1]!)).toBe('embed  20/100  10.0/s  ETA 8s');
  });

  it('formats durations', () => {
    expect(formatSeconds(5.4)).toBe('5s');
    expect(formatSeconds(125)).toBe('2m05s');
    expect(formatSeconds(7300)).toBe('2h01m');
  });
});
