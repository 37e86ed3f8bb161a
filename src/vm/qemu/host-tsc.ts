// Host TSC frequency for `tsc_early_khz` (machine.md pitfall 1: without it microvm hangs at
// boot about half the time under TCG calibrating against the PIT).
import fs from 'node:fs';

export function hostTscKhz(): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return undefined;
  }
  const mhz = Number(/^cpu MHz\s*:\s*([0-9.]+)/m.exec(text)?.[1]);
  return Number.isFinite(mhz) && mhz > 0 ? Math.round(mhz * 1000) : undefined;
}
