/**
 * Renders job progress on stderr: a live line on a terminal, a line every few seconds when
 * piped (CI logs, files), so stdout stays clean for machine-readable output.
 */
import type { PhaseProgress } from '../shared/contract.js';
import { formatProgressLine } from '../runtime/progress.js';

export function stderrProgress(stream: NodeJS.WriteStream = process.stderr): (phases: PhaseProgress[], phase: string | null) => void {
  const tty = stream.isTTY === true;
  let lastPrint = 0;
  let lastPhase: string | null = null;
  return (phases, phase) => {
    const p = phases.find((x) => x.name === phase);
    if (!p) return;
    const now = Date.now();
    const phaseChanged = phase !== lastPhase;
    if (phaseChanged && lastPhase !== null && tty) stream.write('\n');
    if (!phaseChanged && now - lastPrint < (tty ? 100 : 2000) && p.done !== p.total) return;
    lastPrint = now;
    lastPhase = phase;
    const line = formatProgressLine(p);
    if (tty) stream.write(`\r\x1b[2K${line}`);
    else stream.write(`${line}\n`);
  };
}
