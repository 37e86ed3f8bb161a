// Test plumbing for mux tests: transport pairs (unix socket and in-memory), session pairs,
// and a raw frame-level peer for protocol tests.

import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex, type Readable } from 'node:stream';
import { FrameDecoder, MuxSession, type SessionOptions } from '../../../src/mux/index.js';

export interface TransportPair {
  a: Duplex;
  b: Duplex;
  cleanup(): Promise<void>;
}

export async function socketPair(): Promise<TransportPair> {
  const dir = await mkdtemp(join(tmpdir(), 'vessel-mux-'));
  const path = join(dir, 'mux.sock');
  const server = net.createServer();
  server.listen(path);
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const a = net.connect(path);
  await once(a, 'connect');
  const [b] = await accepted;
  return {
    a,
    b,
    async cleanup() {
      a.destroy();
      b.destroy();
      server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** In-memory Duplex pair with backpressure: a write completes once the other side reads it. */
export function memoryPair(): TransportPair {
  const a: MemoryEnd = new MemoryEnd(() => b);
  const b: MemoryEnd = new MemoryEnd(() => a);
  return {
    a,
    b,
    async cleanup() {
      a.destroy();
      b.destroy();
    },
  };
}

class MemoryEnd extends Duplex {
  private waiting: (() => void) | undefined;
  constructor(private readonly peer: () => MemoryEnd | undefined) {
    super({ allowHalfOpen: true });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const p = this.peer();
    if (p === undefined || p.destroyed || p.readableEnded) {
      cb(new Error('peer closed'));
      return;
    }
    if (p.push(chunk)) cb();
    else p.waiting = () => cb();
  }
  override _read(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }
  override _final(cb: (err?: Error | null) => void): void {
    this.peer()?.push(null);
    cb();
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const p = this.peer();
    if (p !== undefined && !p.destroyed && !p.readableEnded) p.push(null);
    this.waiting?.();
    cb(err);
  }
}

export interface SessionPair {
  client: MuxSession;
  server: MuxSession;
  transports: TransportPair;
  cleanup(): Promise<void>;
}

export async function sessionPair(
  kind: 'socket' | 'memory',
  clientOpts: Partial<SessionOptions> = {},
  serverOpts: Partial<SessionOptions> = {},
): Promise<SessionPair> {
  const transports = kind === 'socket' ? await socketPair() : memoryPair();
  const client = new MuxSession(transports.a, { ...clientOpts, role: 'client' });
  const server = new MuxSession(transports.b, { ...serverOpts, role: 'server' });
  return {
    client,
    server,
    transports,
    async cleanup() {
      client.destroy();
      server.destroy();
      await transports.cleanup();
    },
  };
}

/** Reads to 'end' without destroying the stream (a for-await loop would destroy it). */
export function readAll(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/** Resolves with the 'close' argument of a session. */
export function sessionClosed(session: MuxSession): Promise<unknown> {
  return new Promise((resolve) => session.once('close', (err: unknown) => resolve(err)));
}

export function errorOf(stream: Duplex): Promise<Error | null> {
  return new Promise((resolve) => {
    if (stream.destroyed) {
      resolve(stream.errored);
      return;
    }
    stream.once('close', () => resolve(stream.errored));
  });
}

export interface RawFrame {
  type: number;
  flags: number;
  streamId: number;
  length: number;
  payload: Buffer;
}

/** A peer speaking raw frames: records what the session sends, writes whatever we want. */
export class RawPeer {
  readonly frames: RawFrame[] = [];
  private readonly waiters: Array<{ pred: (f: RawFrame) => boolean; resolve: (f: RawFrame) => void }> = [];
  private current: RawFrame | undefined;
  private pieces: Buffer[] = [];
  readonly ended: Promise<void>;

  constructor(readonly transport: Duplex) {
    const decoder = new FrameDecoder(
      {
        onFrame: (type, flags, streamId, length) => {
          const f: RawFrame = { type, flags, streamId, length, payload: Buffer.alloc(0) };
          if (type === 0 && length > 0) {
            this.current = f;
            this.pieces = [];
          } else this.record(f);
        },
        onPayload: (piece, last) => {
          this.pieces.push(Buffer.from(piece));
          if (last && this.current !== undefined) {
            this.current.payload = Buffer.concat(this.pieces);
            const f = this.current;
            this.current = undefined;
            this.record(f);
          }
        },
      },
      { maxPayload: 16 * 1024 * 1024 },
    );
    transport.on('data', (chunk: Buffer) => decoder.push(chunk));
    transport.on('error', () => {});
    this.ended = new Promise((resolve) => {
      transport.once('end', () => resolve());
      transport.once('close', () => resolve());
    });
  }

  private record(f: RawFrame): void {
    this.frames.push(f);
    for (let i = 0; i < this.waiters.length;) {
      const w = this.waiters[i]!;
      if (w.pred(f)) {
        this.waiters.splice(i, 1);
        w.resolve(f);
      } else i++;
    }
  }

  /** Next (or already received) frame matching pred. */
  waitFrame(pred: (f: RawFrame) => boolean): Promise<RawFrame> {
    const seen = this.frames.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }

  send(type: number, flags: number, streamId: number, length: number, payload?: Buffer): void {
    const h = Buffer.alloc(12);
    h[0] = 0;
    h[1] = type;
    h.writeUInt16BE(flags, 2);
    h.writeUInt32BE(streamId, 4);
    h.writeUInt32BE(length, 8);
    this.transport.write(payload === undefined ? h : Buffer.concat([h, payload]));
  }

  sendRaw(bytes: Buffer): void {
    this.transport.write(bytes);
  }
}
