/**
 * Taskbar (Windows, Unity launchers) and dock (macOS) progress during long runs, from the host's
 * job events: the running phase's done/total, indeterminate while a total is unknown, removed
 * (-1) when the job ends.
 */
import type { ProgressBarOptions } from 'electron';
import type { ApiEvent, JobState } from '../core/shared/contract.js';
import type { ApiHost } from '../core/api/host.js';

export interface ProgressValue {
  value: number;
  mode: NonNullable<ProgressBarOptions['mode']>;
}

/** Pure: the progress bar for a job state. */
export function jobProgress(job: JobState | null): ProgressValue {
  if (!job || job.status !== 'running') return { value: -1, mode: 'none' };
  const phase = job.phases.find((p) => p.name === job.phase) ?? job.phases[job.phases.length - 1];
  if (!phase || phase.total == null || phase.total <= 0) return { value: 2, mode: 'indeterminate' };
  return { value: Math.min(1, Math.max(0, phase.done / phase.total)), mode: 'normal' };
}

export interface ProgressTarget {
  isDestroyed(): boolean;
  setProgressBar(progress: number, options?: ProgressBarOptions): void;
}

/** Mirrors job events onto the window's progress bar. Returns unsubscribe (which also clears the bar). */
export function trackJobProgress(host: Pick<ApiHost, 'onEvent'>, target: () => ProgressTarget | null): () => void {
  let last = '';
  const apply = (p: ProgressValue) => {
    const key = `${p.mode}:${p.value.toFixed(3)}`;
    if (key === last) return; // events arrive many times a second; only repaint on change
    last = key;
    const win = target();
    if (win && !win.isDestroyed()) win.setProgressBar(p.value, { mode: p.mode });
  };
  const off = host.onEvent((event: ApiEvent) => {
    if (event.type === 'job') apply(jobProgress(event.job));
  });
  return () => {
    off();
    apply({ value: -1, mode: 'none' });
  };
}
