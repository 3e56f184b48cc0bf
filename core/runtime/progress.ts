/**
 * Phase progress with rate and ETA, shared by the CLI (stderr) and the UI (job events).
 */
import type { PhaseProgress } from '../shared/contract.js';

export type PhaseName = PhaseProgress['name'];

export class ProgressTracker {
  private readonly phases = new Map<PhaseName, { done: number; total: number | null; startedAt: number; endedAt: number | null }>();
  private current: PhaseName | null = null;

  constructor(
    private readonly onChange: (tracker: ProgressTracker) => void = () => {},
    private readonly now: () => number = () => performance.now(),
  ) {}

  start(name: PhaseName, total: number | null = null): void {
    const prev = this.current ? this.phases.get(this.current) : undefined;
    if (prev && prev.endedAt === null) prev.endedAt = this.now();
    this.phases.set(name, { done: 0, total, startedAt: this.now(), endedAt: null });
    this.current = name;
    this.onChange(this);
  }

  setTotal(total: number): void {
    const p = this.active();
    if (p) p.total = total;
    this.onChange(this);
  }

  advance(by = 1): void {
    const p = this.active();
    if (p) p.done += by;
    this.onChange(this);
  }

  finish(): void {
    const p = this.active();
    if (p && p.endedAt === null) p.endedAt = this.now();
    this.onChange(this);
  }

  get phase(): PhaseName | null {
    return this.current;
  }

  snapshot(): PhaseProgress[] {
    return [...this.phases.entries()].map(([name, p]) => {
      const seconds = ((p.endedAt ?? this.now()) - p.startedAt) / 1000;
      const rate = seconds > 0.05 && p.done > 0 ? p.done / seconds : null;
      const etaSeconds = rate && p.total !== null ? Math.max(0, (p.total - p.done) / rate) : null;
      return { name, done: p.done, total: p.total, rate, etaSeconds };
    });
  }

  secondsByPhase(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, p] of this.phases) out[name] = Math.round(((p.endedAt ?? this.now()) - p.startedAt) / 10) / 100;
    return out;
  }

  private active() {
    return this.current ? this.phases.get(this.current) : undefined;
  }
}

/** One line for a terminal: `embed  120/300  14.2/s  ETA 13s`. */
export function formatProgressLine(p: PhaseProgress): string {
  const count = p.total !== null ? `${p.done}/${p.total}` : `${p.done}`;
  const rate = p.rate !== null ? `  ${p.rate.toFixed(1)}/s` : '';
  const eta = p.etaSeconds !== null && p.done < (p.total ?? Infinity) ? `  ETA ${formatSeconds(p.etaSeconds)}` : '';
  return `${p.name.padEnd(6)} ${count}${rate}${eta}`;
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
