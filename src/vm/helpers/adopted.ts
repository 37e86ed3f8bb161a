// Adoption: a VM started to outlive its owner (live restore) leaves adoptable records
// (records.ts); the next owner that attaches the state dir rewrites them as its own
// (adoptRecords) and supervises each process as an AdoptedHelper. An adopted process is
// not vessel's child: its exit cannot be waited for, so /proc is polled (pid plus start
// time, never a reused pid) every `pollMs` (1 s), and fast (10 ms) for a while after a
// hint that it is going (checkSoon: QEMU's QMP socket closed; stop()). Its exit status is
// unknown (code and signal null; `signal` is the one vessel sent when it killed it).
import { VesselError } from '../../errors/index.js';
import { isAlive, selfIdentity } from '../../host/index.js';
import { helperLogTail } from './helper-log.js';
import { readRecords, removeRecord, writeRecord, type ProcessRecord } from './records.js';
import type { ExitInfo, HelperProcess } from './supervised.js';
import { within } from './within.js';

export const ADOPTED_POLL_MS = 1_000;
const FAST_POLL_MS = 10;
/** How long polling stays fast after a hint. */
const FAST_FOR_MS = 2_000;

/**
 * Takes over the adoptable records of a dead owner in `stateDir`: each live one is rewritten
 * with this process as owner; records of processes already gone are removed. STATE_DIR_IN_USE
 * when a live owner other than this process holds any record. Records not marked adoptable
 * (their owner did not start them to be adopted) are returned as such, untouched.
 */
export function adoptRecords(stateDir: string): { adopted: ProcessRecord[]; gone: ProcessRecord[]; notAdoptable: ProcessRecord[] } {
  const out = { adopted: [] as ProcessRecord[], gone: [] as ProcessRecord[], notAdoptable: [] as ProcessRecord[] };
  const me = selfIdentity();
  for (const r of readRecords(stateDir)) {
    if (r.owner.pid !== me.pid && isAlive(r.owner) && isAlive(r))
      throw new VesselError('STATE_DIR_IN_USE', `state dir ${stateDir} is in use by vessel process ${r.owner.pid}`);
  }
  for (const r of readRecords(stateDir)) {
    if (!r.adoptable) {
      out.notAdoptable.push(r);
    } else if (!isAlive(r)) {
      removeRecord(stateDir, r.name);
      out.gone.push(r);
    } else {
      const adopted = { ...r, owner: me };
      writeRecord(stateDir, adopted);
      out.adopted.push(adopted);
    }
  }
  return out;
}

export class AdoptedHelper implements HelperProcess {
  readonly name: string;
  readonly pid: number;
  readonly exited: Promise<ExitInfo>;
  private readonly record: ProcessRecord;
  private gone = false;
  private sentSignal: NodeJS.Signals | null = null;
  private fastUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private resolveExit!: (info: ExitInfo) => void;

  constructor(
    private readonly stateDir: string,
    record: ProcessRecord,
    private readonly pollMs = ADOPTED_POLL_MS,
  ) {
    this.record = record;
    this.name = record.name;
    this.pid = record.pid;
    this.exited = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
    this.check();
  }

  get hasExited(): boolean {
    return this.gone;
  }

  /** Something says the process is ending: poll fast for a while. */
  checkSoon(): void {
    this.fastUntil = Date.now() + FAST_FOR_MS;
    clearTimeout(this.timer);
    this.check();
  }

  async stop(graceMs = 2000, signal: NodeJS.Signals = 'SIGTERM'): Promise<ExitInfo> {
    if (!this.gone) {
      this.send(graceMs > 0 ? signal : 'SIGKILL');
      this.checkSoon();
      if (graceMs > 0) {
        if (!(await within(this.exited, graceMs))) {
          this.send('SIGKILL');
          this.checkSoon();
        }
      }
    }
    return this.exited;
  }

  outputClosed(): Promise<void> {
    return Promise.resolve();
  }

  loggedOutput(maxBytes?: number): string {
    return helperLogTail(this.stateDir, this.name, maxBytes);
  }

  private send(signal: NodeJS.Signals): void {
    if (!isAlive(this.record)) return; // never a process that reused the pid
    try {
      process.kill(this.pid, signal);
      this.sentSignal = signal;
    } catch {
      // exited in between
    }
  }

  private check(): void {
    if (this.gone) return;
    if (!isAlive(this.record)) {
      this.gone = true;
      removeRecord(this.stateDir, this.name);
      this.resolveExit({ code: null, signal: this.sentSignal });
      return;
    }
    const fast = Date.now() < this.fastUntil;
    this.timer = setTimeout(() => this.check(), fast ? FAST_POLL_MS : this.pollMs);
    if (!fast) this.timer.unref(); // (a fast poll is someone waiting for the exit: it keeps the loop alive)
  }
}
