/** Taskbar/dock progress from job events. */
import { describe, expect, it } from 'vitest';
import type { JobState } from '../../core/shared/contract.js';
import { jobProgress, trackJobProgress } from '../../electron/progress.js';
import { hostDouble } from './doubles.js';

const job = (s: Partial<JobState>): JobState => ({
  id: 'j1',
  kind: 'cluster',
  status: 'running',
  phase: 'embed',
  phases: [],
  startedAt: '2025-01-01T00:00:00Z',
  ...s,
});
const phase = (name: 'scan' | 'embed', done: number, total: number | null) => ({ name, done, total, rate: null, etaSeconds: null });

describe('jobProgress', () => {
  it('is the running phase’s fraction', () => {
    expect(jobProgress(job({ phases: [phase('scan', 10, 10), phase('embed', 25, 100)] }))).toEqual({ value: 0.25, mode: 'normal' });
  });
  it('is indeterminate while the total is unknown', () => {
    expect(jobProgress(job({ phase: 'scan', phases: [phase('scan', 10, null)] }))).toEqual({ value: 2, mode: 'indeterminate' });
  });
  it('is removed (-1) when the job ends or there is none', () => {
    for (const status of ['done', 'failed', 'cancelled'] as const) expect(jobProgress(job({ status })).value).toBe(-1);
    expect(jobProgress(null).value).toBe(-1);
  });
});

describe('trackJobProgress', () => {
  it('sets the window’s progress bar from job events, only when it changes, and clears it', () => {
    const host = hostDouble();
    const calls: Array<[number, unknown]> = [];
    const win = { isDestroyed: () => false, setProgressBar: (v: number, o?: unknown) => void calls.push([v, o]) };
    const off = trackJobProgress(host, () => win);
    host.emit({ type: 'job', job: job({ phases: [phase('embed', 50, 100)] }) });
    host.emit({ type: 'job', job: job({ phases: [phase('embed', 50, 100)] }) });
    host.emit({ type: 'changed', what: 'groups' });
    host.emit({ type: 'job', job: job({ status: 'done', phases: [phase('embed', 100, 100)] }) });
    expect(calls).toEqual([
      [0.5, { mode: 'normal' }],
      [-1, { mode: 'none' }],
    ]);
    host.emit({ type: 'job', job: job({ phases: [phase('embed', 1, 4)] }) });
    off();
    expect(calls.slice(2)).toEqual([
      [0.25, { mode: 'normal' }],
      [-1, { mode: 'none' }],
    ]);
  });
});
