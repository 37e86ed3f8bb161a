// Global setup for the whole suite: every process the tests start inherits a run marker
// in its environment (VESSEL_TEST_RUN), and after the last file no process carrying it may
// be left — no qemu, virtiofsd, passt, shim, containerd, Go peer or anything else a test
// started, however it was started. A leak fails the run with each process's command line.
import crypto from 'node:crypto';
import fs from 'node:fs';

const MARKER = 'VESSEL_TEST_RUN';

function carriers(value: string): Array<{ pid: number; cmdline: string }> {
  const needle = `${MARKER}=${value}`;
  const found: Array<{ pid: number; cmdline: string }> = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') continue; // exited, not yet reaped
      if (!fs.readFileSync(`/proc/${d}/environ`, 'utf8').split('\0').includes(needle)) continue;
      found.push({ pid: Number(d), cmdline: fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replaceAll('\0', ' ').trim() });
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

export default function setup(): () => Promise<void> {
  const value = crypto.randomUUID();
  process.env[MARKER] = value;
  return async () => {
    // Helpers end with their owners (pdeathsig); give the kernel a bounded moment to
    // deliver that after the last worker exits, checking the condition itself.
    const deadline = Date.now() + 10_000;
    let left = carriers(value);
    while (left.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      left = carriers(value);
    }
    if (left.length) {
      // vitest reports a teardown error but does not fail the run on it: set the exit code too.
      process.exitCode = 1;
      throw new Error(`processes started by the tests are still running:\n${left.map((p) => `  ${p.pid}: ${p.cmdline}`).join('\n')}`);
    }
  };
}
