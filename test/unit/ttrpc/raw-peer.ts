// A test peer that speaks raw ttrpc frames on one end of a Duplex.
import type { Duplex } from 'node:stream';
import { FrameDecoder, encodeFrame } from '../../../src/ttrpc/index.js';

export interface RawFrame {
  streamId: number;
  type: number;
  flags: number;
  payload: Buffer;
  /** Set for frames over the peer's limit (payload empty). */
  oversizedLength?: number;
}

export class RawPeer {
  private readonly frames: RawFrame[] = [];
  private waiter: (() => void) | undefined;
  private ended = false;

  constructor(
    readonly conn: Duplex,
    maxPayload = 64 << 20,
  ) {
    const decoder = new FrameDecoder(
      {
        onFrame: (streamId, type, flags, payload) => this.add({ streamId, type, flags, payload: Buffer.from(payload) }),
        onOversized: (streamId, type, flags, length) => this.add({ streamId, type, flags, payload: Buffer.alloc(0), oversizedLength: length }),
      },
      maxPayload,
    );
    conn.on('data', (c: Buffer) => decoder.push(c));
    conn.on('close', () => {
      this.ended = true;
      this.waiter?.();
    });
    conn.on('error', () => undefined);
  }

  send(streamId: number, type: number, flags: number, payload?: Uint8Array): void {
    this.conn.write(encodeFrame(streamId, type, flags, payload));
  }

  /** The next frame from the other side (fails if the connection closes first). */
  async next(timeoutMs = 5000): Promise<RawFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = this.frames.shift();
      if (f !== undefined) return f;
      if (this.ended) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no frame in time');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  /** Frames received and not yet taken. */
  get pending(): number {
    return this.frames.length;
  }

  private add(f: RawFrame): void {
    this.frames.push(f);
    this.waiter?.();
  }
}
