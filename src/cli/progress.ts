// Contract: build progress on stderr. On a TTY, one self-overwriting line per phase with a
// bar and percent where a total is known; otherwise plain lines (one per phase change and
// per log message), so CI logs stay readable.
import type { Writable } from 'node:stream';
import type { BuildProgress } from '../image/index.js';

const BAR = 24;

function fmt(p: BuildProgress): string {
  if (p.total !== undefined && p.total > 0 && p.done !== undefined) {
    const frac = Math.min(1, Math.max(0, p.done / p.total));
    const filled = Math.round(frac * BAR);
    return `${p.phase.padEnd(16)} [${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%`;
  }
  return `${p.phase.padEnd(16)} ${p.message ?? ''}`.trimEnd();
}

export function progressReporter(stderr: Writable & { isTTY?: boolean }): { onProgress: (p: BuildProgress) => void; finish: () => void } {
  const tty = stderr.isTTY === true;
  let lastPhase = '';
  let open = false;
  const onProgress = (p: BuildProgress): void => {
    if (p.phase === 'log') {
      if (open) stderr.write('\n');
      open = false;
      stderr.write(`vessel: ${p.message ?? ''}\n`);
      return;
    }
    if (tty) {
      if (open && p.phase !== lastPhase) stderr.write('\n');
      stderr.write(`\r\x1b[K${fmt(p)}`);
      open = true;
    } else if (p.phase !== lastPhase) {
      stderr.write(`${fmt({ phase: p.phase, message: p.message })}\n`);
    }
    lastPhase = p.phase;
  };
  return {
    onProgress,
    finish: () => {
      if (open) stderr.write('\n');
      open = false;
    },
  };
}
