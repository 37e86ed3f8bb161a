// One yamux stream as a Node Duplex with real flow control: the peer is granted receive
// window only as our reader consumes, and writes wait for send window and for the
// transport. end() sends FIN (half-close), destroy() sends RST.

import { Duplex } from 'node:stream';
import type { MuxSession } from './session.js';
import { VesselError } from '../errors/index.js';
import { Flag, FrameType, INITIAL_STREAM_WINDOW } from './frame.js';

/** Largest data frame we send (also capped by the peer's window). */
export const MAX_DATA_FRAME = 256 * 1024;
/** Payload pieces smaller than this are copied so they do not pin a large input chunk. */
const COPY_BELOW = 4096;
const MAX_U32 = 0xffffffff;

/** What a stream needs from its session; implemented privately by MuxSession. */
export interface StreamHost {
  readonly maxWindow: number;
  readonly streamCloseTimeoutMs: number;
  isOpen(): boolean;
  sendControl(type: number, flags: number, streamId: number, length: number): void;
  /** False when the transport is over its write budget; then wait via waitForTransport. */
  canSendData(): boolean;
  sendData(streamId: number, payload: Buffer): void;
  waitForTransport(stream: MuxStream): void;
  release(stream: MuxStream): void;
}

interface PendingWrite {
  chunk: Buffer;
  offset: number;
  cb: (err?: Error | null) => void;
}

export class MuxStream extends Duplex {
  readonly id: number;
  readonly session: MuxSession;

  private readonly host: StreamHost;
  /** Bytes the peer may still send us before the next window update. */
  private recvWindow = INITIAL_STREAM_WINDOW;
  /** Bytes we may still send. */
  private sendWindow = INITIAL_STREAM_WINDOW;
  private pending: PendingWrite | null = null;
  private pumping = false;
  private localFin = false;
  private remoteFin = false;
  private released = false;
  private resetByPeer = false;
  private closeTimer: NodeJS.Timeout | undefined;

  /** @internal created by MuxSession only */
  constructor(session: MuxSession, host: StreamHost, id: number) {
    super({ allowHalfOpen: true, readableHighWaterMark: 64 * 1024, writableHighWaterMark: 64 * 1024 });
    this.id = id;
    this.session = session;
    this.host = host;
    // Errors come from the (untrusted) peer; an unobserved stream error must not crash the
    // process. They stay visible to 'error' listeners, write callbacks, finished()/pipeline().
    this.on('error', noop);
  }

  // ---- called by the session ------------------------------------------------------------

  /** @internal window we can still receive on this stream */
  get receiveWindow(): number {
    return this.recvWindow;
  }

  /** @internal announce our window (with SYN on open, ACK on accept) */
  sendOpenFlags(flags: number): void {
    const delta = this.host.maxWindow - this.recvWindow;
    this.recvWindow += delta;
    this.host.sendControl(FrameType.WINDOW_UPDATE, flags, this.id, delta);
  }

  /**
   * @internal flags of an incoming frame; FIN of a data frame with payload is passed later
   * via receiveFin() so data is delivered before end. Returns false if the frame was a
   * protocol violation (FIN twice).
   */
  receiveFlags(flags: number): boolean {
    if (flags & Flag.RST) {
      this.resetByPeer = true;
      this.release();
      this.destroy(new VesselError('MUX_STREAM_RESET', `stream ${this.id} reset by peer`));
      return true;
    }
    if (flags & Flag.FIN) return this.receiveFin();
    return true;
  }

  /** @internal */
  receiveFin(): boolean {
    if (this.remoteFin) return false;
    this.remoteFin = true;
    if (this.destroyed) return true;
    this.push(null);
    if (this.localFin) this.release();
    return true;
  }

  /** @internal accounts a data frame header; false if it exceeds the granted window */
  receiveDataHeader(length: number): boolean {
    if (length > this.recvWindow) return false;
    this.recvWindow -= length;
    return true;
  }

  /** @internal a piece of payload (accounted by receiveDataHeader) */
  receiveData(piece: Buffer): void {
    if (this.remoteFin || this.destroyed) return;
    // Keep memory proportional to payload: small views would pin whole input chunks.
    const data = piece.length < COPY_BELOW || piece.length * 2 < piece.buffer.byteLength ? Buffer.from(piece) : piece;
    this.push(data);
    this.maybeSendWindowUpdate();
  }

  /** @internal */
  receiveWindowUpdate(delta: number): void {
    this.sendWindow = Math.min(MAX_U32, this.sendWindow + delta);
    if (this.pending !== null && delta > 0) this.pump();
  }

  /** @internal the transport drained: continue a waiting write */
  resumeWrite(): void {
    if (this.pending !== null) this.pump();
  }

  /** @internal the session is over: tear down without sending anything */
  abort(err: VesselError): void {
    this.release();
    this.destroy(err);
  }

  // ---- Duplex implementation ------------------------------------------------------------

  override read(size?: number): unknown {
    const out: unknown = super.read(size);
    this.maybeSendWindowUpdate();
    return out;
  }

  override _read(): void {
    this.maybeSendWindowUpdate();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.pending = { chunk, offset: 0, cb };
    this.pump();
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.released || !this.host.isOpen()) {
      cb(new VesselError('MUX_SESSION_CLOSED', `stream ${this.id}: session closed`));
      return;
    }
    this.localFin = true;
    this.host.sendControl(FrameType.WINDOW_UPDATE, Flag.FIN, this.id, 0);
    if (this.remoteFin) {
      this.release();
    } else if (this.host.streamCloseTimeoutMs > 0) {
      this.closeTimer = setTimeout(() => this.onCloseTimeout(), this.host.streamCloseTimeoutMs);
      this.closeTimer.unref();
    }
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.closeTimer !== undefined) {
      clearTimeout(this.closeTimer);
      this.closeTimer = undefined;
    }
    const pending = this.pending;
    if (pending !== null) {
      this.pending = null;
      pending.cb(err ?? new VesselError('MUX_STREAM_RESET', `stream ${this.id} destroyed`));
    }
    if (!this.released) {
      const cleanlyClosed = this.localFin && this.remoteFin;
      if (!cleanlyClosed && !this.resetByPeer && this.host.isOpen()) {
        this.host.sendControl(FrameType.WINDOW_UPDATE, Flag.RST, this.id, 0);
      }
      this.release();
    }
    cb(err);
  }

  // ---- internals --------------------------------------------------------------------------

  private pump(): void {
    // Re-entrancy: a synchronous transport may deliver the peer's window update (or RST)
    // while we are inside sendData; the running loop picks such changes up itself.
    if (this.pumping) return;
    const p = this.pending;
    if (p === null) return;
    const host = this.host;
    this.pumping = true;
    try {
      while (p.offset < p.chunk.length) {
        if (this.pending !== p || this.released || !host.isOpen()) return; // destroy() fails the write
        if (this.sendWindow === 0) return; // resumed by receiveWindowUpdate
        if (!host.canSendData()) {
          host.waitForTransport(this);
          return;
        }
        const n = Math.min(this.sendWindow, p.chunk.length - p.offset, MAX_DATA_FRAME);
        const payload = p.offset === 0 && n === p.chunk.length ? p.chunk : p.chunk.subarray(p.offset, p.offset + n);
        p.offset += n;
        this.sendWindow -= n;
        host.sendData(this.id, payload);
      }
    } finally {
      this.pumping = false;
    }
    if (this.pending !== p) return;
    this.pending = null;
    p.cb();
  }

  private maybeSendWindowUpdate(): void {
    if (this.remoteFin || this.released || this.destroyed) return;
    const max = this.host.maxWindow;
    const delta = max - this.readableLength - this.recvWindow;
    if (delta < max / 2) return;
    this.recvWindow += delta;
    this.host.sendControl(FrameType.WINDOW_UPDATE, 0, this.id, delta);
  }

  private onCloseTimeout(): void {
    this.closeTimer = undefined;
    this.destroy(new VesselError('MUX_STREAM_RESET', `stream ${this.id}: peer did not close within the close timeout`));
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    if (this.closeTimer !== undefined) {
      clearTimeout(this.closeTimer);
      this.closeTimer = undefined;
    }
    this.host.release(this);
  }
}

function noop(): void {}
