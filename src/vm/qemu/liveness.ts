// Liveness of a running instance: the agent is pinged every `intervalMs`; a guest whose agent
// has not answered for `unresponsiveAfterMs` (a hung kernel, a wedged agent, a QEMU that
// stopped running its vCPUs) is declared unresponsive once, through `onUnresponsive`, with
// a GUEST_UNRESPONSIVE error; the instance then fails and releases the VM. A paused VM
// (QMP stop) cannot answer and is not held against it: the clock restarts on resume. One
// ping at a time, each bounded by what is left of the budget; stop() ends it all (no timer
// outlives the instance).
import { VesselError } from '../../errors/index.js';

export interface LivenessOptions {
  /** How often the agent is pinged (default 5 s). */
  intervalMs?: number;
  /** No answer for this long: GUEST_UNRESPONSIVE (default 60 s; at least twice intervalMs). */
  unresponsiveAfterMs?: number;
}

export const DEFAULT_LIVENESS_INTERVAL_MS = 5_000;
export const DEFAULT_UNRESPONSIVE_AFTER_MS = 60_000;

export interface LivenessTarget {
  /** Pings the agent; rejects on no answer within `timeoutMs`. */
  ping(timeoutMs: number): Promise<void>;
  /** Whether the VM is paused on purpose right now. */
  paused(): boolean;
  /** Called once when the guest is declared unresponsive. */
  onUnresponsive(err: VesselError): void;
}

export function validateLiveness(o: LivenessOptions): Required<LivenessOptions> {
  const intervalMs = o.intervalMs ?? DEFAULT_LIVENESS_INTERVAL_MS;
  const unresponsiveAfterMs = o.unresponsiveAfterMs ?? Math.max(DEFAULT_UNRESPONSIVE_AFTER_MS, 2 * intervalMs);
  if (!Number.isInteger(intervalMs) || intervalMs < 100 || intervalMs > 3_600_000)
    throw new VesselError('INVALID_ARGUMENT', `liveness intervalMs must be an integer from 100 to 3600000, got ${intervalMs}`);
  if (!Number.isInteger(unresponsiveAfterMs) || unresponsiveAfterMs < 2 * intervalMs || unresponsiveAfterMs > 86_400_000)
    throw new VesselError(
      'INVALID_ARGUMENT',
      `liveness unresponsiveAfterMs must be an integer of at least twice intervalMs (${2 * intervalMs}), got ${unresponsiveAfterMs}`,
    );
  return { intervalMs, unresponsiveAfterMs };
}

export class LivenessMonitor {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastAnswer = performance.now();

  constructor(
    private readonly target: LivenessTarget,
    private readonly o: Required<LivenessOptions>,
  ) {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.check(), this.o.intervalMs);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    if (this.stopped) return;
    if (this.target.paused()) {
      this.lastAnswer = performance.now();
      return this.schedule();
    }
    const left = this.o.unresponsiveAfterMs - (performance.now() - this.lastAnswer);
    try {
      await this.target.ping(Math.max(100, left));
      this.lastAnswer = performance.now();
    } catch {
      // counted below: only the silence's length matters
    }
    if (this.stopped) return;
    const silentMs = performance.now() - this.lastAnswer;
    if (silentMs >= this.o.unresponsiveAfterMs && !this.target.paused()) {
      this.stop();
      this.target.onUnresponsive(
        new VesselError(
          'GUEST_UNRESPONSIVE',
          `the guest agent has not answered for ${Math.round(silentMs / 1000)} s (liveness timeout ${this.o.unresponsiveAfterMs} ms): the guest is hung`,
        ),
      );
      return;
    }
    this.schedule();
  }
}
