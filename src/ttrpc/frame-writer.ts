// Writes frames to a Duplex: header and payload coalesced into one buffer, writes of one
// tick batched with cork/uncork, and the Duplex's backpressure (write() → false / 'drain')
// surfaced as `blocked` + `drained()`.
import type { Duplex } from 'node:stream';
import { HEADER_LENGTH, writeFrameHeader } from './frame.js';

export class FrameWriter {
  private corked = false;
  private isBlocked = false;
  private closedError: Error | undefined;
  private drainWaiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  private readonly uncork = (): void => {
    this.corked = false;
    this.conn.uncork();
  };
  private readonly onDrain = (): void => {
    this.isBlocked = false;
    this.onBlockedChange(false);
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w.resolve();
  };

  constructor(
    private readonly conn: Duplex,
    private readonly onBlockedChange: (blocked: boolean) => void = () => {},
  ) {}

  get blocked(): boolean {
    return this.isBlocked;
  }

  /** Writes one frame; returns false when the Duplex asks the writer to wait for drain. */
  writeFrame(streamId: number, type: number, flags: number, payload?: Uint8Array): boolean {
    const n = payload?.length ?? 0;
    const buf = Buffer.allocUnsafe(HEADER_LENGTH + n);
    writeFrameHeader(buf, 0, n, streamId, type, flags);
    if (payload !== undefined && n > 0) buf.set(payload, HEADER_LENGTH);
    return this.write(buf);
  }

  /** Writes an already encoded frame (header included). */
  write(frame: Buffer): boolean {
    if (this.closedError !== undefined || this.conn.destroyed || this.conn.writableEnded) return false;
    if (!this.corked) {
      this.corked = true;
      this.conn.cork();
      process.nextTick(this.uncork);
    }
    const ok = this.conn.write(frame);
    if (!ok && !this.isBlocked) {
      this.isBlocked = true;
      this.conn.once('drain', this.onDrain);
      this.onBlockedChange(true);
    }
    return ok;
  }

  /** Resolves once the Duplex has drained (now, if not blocked); rejects after close(). */
  drained(): Promise<void> {
    if (this.closedError !== undefined) return Promise.reject(this.closedError);
    if (!this.isBlocked) return Promise.resolve();
    return new Promise((resolve, reject) => this.drainWaiters.push({ resolve, reject }));
  }

  /** The connection is gone: fail drain waiters with `err`. */
  close(err: Error): void {
    if (this.closedError !== undefined) return;
    this.closedError = err;
    this.conn.off('drain', this.onDrain);
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w.reject(err);
  }
}
