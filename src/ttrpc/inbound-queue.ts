// Messages received on one stream, waiting for their consumer (an async iterator).
// Payloads are copied in and decoded when consumed; the queue holds the read gate shut
// while it is full and counts its bytes against the connection's budget.
import type { InboundBudget, ReadGate } from './read-gate.js';

/** Queue length at which reading from the connection pauses (resumes at half). */
export const STREAM_QUEUE_LIMIT = 64;

const DONE: IteratorResult<never> = Object.freeze({ done: true, value: undefined });

export class InboundQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: Buffer[] = [];
  private head = 0;
  private ended = false;
  private error: unknown = undefined;
  private failed = false;
  private holding = false;
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (err: unknown) => void } | undefined;

  constructor(
    private readonly decode: (payload: Buffer) => T,
    private readonly gate: ReadGate,
    private readonly budget: InboundBudget,
    /** Called once when the consumer stops early (return()/break). */
    private readonly onAbandon: () => void = () => {},
  ) {}

  get closed(): boolean {
    return this.ended || this.failed;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  push(payload: Buffer): void {
    if (this.closed) return;
    if (this.waiter !== undefined) {
      const w = this.waiter;
      this.waiter = undefined;
      this.deliver(payload, w);
      return;
    }
    const copy = Buffer.from(payload);
    this.items.push(copy);
    this.budget.add(copy.length);
    if (!this.holding && this.length >= STREAM_QUEUE_LIMIT) {
      this.holding = true;
      this.gate.hold();
    }
  }

  /** The peer sent its last message: the iterator ends after the queued ones. */
  end(): void {
    if (this.closed) return;
    this.ended = true;
    this.settleWaiter();
  }

  /** The stream failed: the iterator throws `err` after the queued messages. */
  fail(err: unknown): void {
    if (this.closed) return;
    this.failed = true;
    this.error = err;
    this.settleWaiter();
  }

  /** Drops everything queued (the stream is gone), releasing gate and budget. */
  discard(err?: unknown): void {
    let bytes = 0;
    for (let i = this.head; i < this.items.length; i++) bytes += this.items[i]!.length;
    this.items.length = 0;
    this.head = 0;
    if (bytes > 0) this.budget.release(bytes);
    this.releaseGate();
    if (!this.closed) {
      if (err === undefined) this.ended = true;
      else {
        this.failed = true;
        this.error = err;
      }
    }
    this.settleWaiter();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.items.length) {
      const payload = this.items[this.head]!;
      this.items[this.head++] = undefined as unknown as Buffer;
      if (this.head === this.items.length) {
        this.items.length = 0;
        this.head = 0;
      }
      this.budget.release(payload.length);
      if (this.holding && this.length <= STREAM_QUEUE_LIMIT / 2) this.releaseGate();
      return new Promise((resolve, reject) => this.deliver(payload, { resolve, reject }));
    }
    if (this.failed) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve(DONE);
    if (this.waiter !== undefined) return Promise.reject(new Error('concurrent next() on a stream iterator'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    const wasOpen = !this.closed;
    this.discard();
    if (wasOpen) this.onAbandon();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private deliver(payload: Buffer, w: { resolve: (r: IteratorResult<T>) => void; reject: (err: unknown) => void }): void {
    let value: T;
    try {
      value = this.decode(payload);
    } catch (err) {
      w.reject(err);
      return;
    }
    w.resolve({ done: false, value });
  }

  private settleWaiter(): void {
    if (this.waiter === undefined || this.head < this.items.length) return;
    const w = this.waiter;
    this.waiter = undefined;
    if (this.failed) w.reject(this.error);
    else w.resolve(DONE);
  }

  private releaseGate(): void {
    if (!this.holding) return;
    this.holding = false;
    this.gate.release();
  }
}
