// Orphans: helper processes recorded in a state dir whose owner (the vessel process that
// started them) is gone. They are SIGKILLed and their records removed. A record whose
// owner is still alive (and is not this process) means the state dir is in use. Records
// marked adoptable (live restore) are orphans here too: only an attach (adopted.ts) spares
// them, and it runs before anything reaps the dir.
import { processStartTime, isAlive, type ProcessIdentity } from '../../host/index.js';
import { readRecords, removeRecord, type ProcessRecord } from './records.js';

export interface OrphanReport {
  killed: ProcessRecord[];
  /** Records of processes that had already exited (removed). */
  stale: ProcessRecord[];
}

/** The live owner of the state dir other than this process, if any. */
export function liveForeignOwner(stateDir: string): ProcessIdentity | undefined {
  for (const r of readRecords(stateDir)) {
    if (r.owner.pid !== process.pid && isAlive(r.owner) && isAlive(r)) return r.owner;
  }
  return undefined;
}

async function waitGone(id: ProcessIdentity, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  // Not our child, so it cannot be waited for: poll /proc until it is gone (init reaps it).
  while (processStartTime(id.pid) === id.startTime) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

/**
 * Ends every recorded process whose owner is dead (or is this process and `includeOwn`).
 * Processes of a live foreign owner are left alone.
 */
export async function reapOrphans(stateDir: string, opts: { includeOwn?: boolean; timeoutMs?: number } = {}): Promise<OrphanReport> {
  const report: OrphanReport = { killed: [], stale: [] };
  for (const r of readRecords(stateDir)) {
    const own = r.owner.pid === process.pid && isAlive(r.owner);
    if (own ? !opts.includeOwn : isAlive(r.owner)) continue;
    if (isAlive(r)) {
      try {
        process.kill(r.pid, 'SIGKILL');
      } catch {
        // exited in between
      }
      await waitGone(r, opts.timeoutMs ?? 5000);
      report.killed.push(r);
    } else {
      report.stale.push(r);
    }
    removeRecord(stateDir, r.name);
  }
  return report;
}
