// Pauses reading from a Duplex while anything holds it shut (a full inbound queue, a
// blocked writer, a byte budget exceeded): backpressure travels to the peer.
import type { Duplex } from 'node:stream';

export class ReadGate {
  private holds = 0;

  constructor(private readonly conn: Duplex) {}

  get paused(): boolean {
    return this.holds > 0;
  }

  hold(): void {
    if (this.holds++ === 0) this.conn.pause();
  }

  release(): void {
    if (this.holds === 0) return;
    if (--this.holds === 0 && !this.conn.destroyed) this.conn.resume();
  }
}

/** Bytes buffered in inbound stream queues of one connection; above the limit reading pauses. */
export class InboundBudget {
  private bytes = 0;
  private over = false;

  constructor(
    private readonly gate: ReadGate,
    readonly maxBytes: number,
  ) {}

  get bufferedBytes(): number {
    return this.bytes;
  }

  add(n: number): void {
    this.bytes += n;
    if (!this.over && this.bytes > this.maxBytes) {
      this.over = true;
      this.gate.hold();
    }
  }

  release(n: number): void {
    this.bytes -= n;
    if (this.over && this.bytes <= this.maxBytes / 2) {
      this.over = false;
      this.gate.release();
    }
  }
}
