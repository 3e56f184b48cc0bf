/** A benchmark figure and the table/JSON they are printed as. */
export interface Figure {
  name: string;
  value: number | null;
  unit: string;
  command: string;
  note?: string;
  /** App-path figures: wall and CPU seconds (all threads) and peak RSS of the process tree. */
  seconds?: number;
  cpuSeconds?: number;
  peakGiB?: number;
}

export function formatTable(figures: Figure[]): string {
  const rows = figures.map((f) => [f.name, f.value === null ? 'n/a' : fmt(f.value), f.unit, f.note ?? '']);
  const w = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length), 4));
  return rows.map((r) => `${r[0]!.padEnd(w[0]!)}  ${r[1]!.padStart(w[1]!)}  ${r[2]!.padEnd(w[2]!)}  ${r[3]}`).join('\n');
}

function fmt(v: number): string {
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 1) return v.toFixed(2);
  return v.toFixed(3);
}
