// A yamux session over one Duplex transport (hashicorp/yamux v0.1.2 wire behaviour).
// Memory is bounded: inbound data never exceeds granted windows, the accept backlog and
// stream count are capped, and transport writes respect the transport's backpressure
// (data waits for 'drain'; if control replies pile up we stop reading input).

import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { VesselError, type VesselErrorCode } from '../errors/index.js';
import { Flag, FrameDecoder, FrameType, GoAwayCode, HEADER_SIZE, encodeHeader, type FrameSink } from './frame.js';
import { resolveOptions, type ResolvedOptions, type SessionOptions } from './options.js';
import { MAX_DATA_FRAME, MuxStream, type StreamHost } from './stream.js';

/** Data frames wait once this many bytes are queued in the transport. */
const DATA_WRITE_BUDGET = 512 * 1024;
/** Input is paused while more than this is queued (control replies to a peer that does not read). */
const CONTROL_WRITE_LIMIT = DATA_WRITE_BUDGET + MAX_DATA_FRAME + 256 * 1024;
/** Payloads up to this size are copied behind their header into one write. */
const SMALL_FRAME = 2048;
/** close()/protocol-error teardown waits at most this long for the transport to flush. */
const FLUSH_GUARD_MS = 5000;
const MAX_STREAM_ID = 0xffffffff;

class ProtocolViolation extends VesselError {
  constructor(message: string) {
    super('MUX_PROTOCOL_ERROR', message);
  }
}

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (err: Error) => void;
}

interface PendingPing {
  start: number;
  timer: NodeJS.Timeout;
  resolve: (rtt: number) => void;
  reject: (err: Error) => void;
}

export class MuxSession extends EventEmitter {
  private readonly transport: Duplex;
  private readonly opts: ResolvedOptions;
  private readonly log: Logger;
  private readonly decoder: FrameDecoder;
  private readonly host: StreamHost;
  private readonly streams = new Map<number, MuxStream>();
  private readonly backlog: MuxStream[] = [];
  private readonly acceptWaiters: Waiter<MuxStream>[] = [];
  private readonly pings = new Map<number, PendingPing>();
  private readonly drainWaiters = new Set<MuxStream>();
  private nextStreamId: number;
  private maxPeerStreamId = 0;
  private nextPingId = 0;
  private localGoAway = false;
  private remoteGoAway = false;
  private inputPaused = false;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private keepalivePending = false;
  private endError: VesselError | undefined;
  // receive state of the data frame being decoded
  private dataTarget: MuxStream | undefined;
  private dataFin = false;
  private decoding = false;
  private corked = false;
  private readonly reentrantInput: Buffer[] = [];

  constructor(transport: Duplex, options: SessionOptions) {
    super();
    this.transport = transport;
    this.opts = resolveOptions(options);
    this.log = this.opts.logger;
    this.nextStreamId = this.opts.client ? 1 : 2;
    this.host = this.makeHost();
    const sink: FrameSink = {
      onFrame: (type, flags, id, length) => this.onFrame(type, flags, id, length),
      onPayload: (piece, last) => this.onPayload(piece, last),
    };
    this.decoder = new FrameDecoder(sink, { maxPayload: this.opts.maxWindow });

    transport.on('data', this.onTransportData);
    transport.on('drain', this.onTransportDrain);
    transport.on('end', this.onTransportEnd);
    transport.on('close', this.onTransportClose);
    transport.on('error', this.onTransportError);

    if (this.opts.keepaliveIntervalMs > 0) {
      this.keepaliveTimer = setInterval(() => this.keepalive(), this.opts.keepaliveIntervalMs);
      this.keepaliveTimer.unref();
    }
  }

  get closed(): boolean {
    return this.endError !== undefined;
  }

  get numStreams(): number {
    return this.streams.size;
  }

  open(): Promise<MuxStream> {
    if (this.endError !== undefined) {
      return Promise.reject(new VesselError('MUX_SESSION_CLOSED', 'session is closed', { cause: this.endError }));
    }
    if (this.remoteGoAway) {
      return Promise.reject(new VesselError('MUX_GO_AWAY', 'peer sent GoAway: no new streams'));
    }
    if (this.streams.size >= this.opts.maxStreams) {
      return Promise.reject(new VesselError('MUX_STREAM_LIMIT', `stream limit ${this.opts.maxStreams} reached`));
    }
    const id = this.nextStreamId;
    if (id >= MAX_STREAM_ID - 1) {
      return Promise.reject(new VesselError('MUX_STREAM_LIMIT', 'stream ids exhausted'));
    }
    this.nextStreamId += 2;
    const stream = new MuxStream(this, this.host, id);
    this.streams.set(id, stream);
    stream.sendOpenFlags(Flag.SYN);
    return Promise.resolve(stream);
  }

  accept(): Promise<MuxStream> {
    const stream = this.backlog.shift();
    if (stream !== undefined) {
      stream.sendOpenFlags(Flag.ACK);
      return Promise.resolve(stream);
    }
    if (this.endError !== undefined) return Promise.reject(this.endError);
    return new Promise((resolve, reject) => this.acceptWaiters.push({ resolve, reject }));
  }

  ping(): Promise<number> {
    return this.sendPing(
      this.opts.keepaliveTimeoutMs,
      () => new VesselError('MUX_KEEPALIVE_TIMEOUT', `ping unanswered after ${this.opts.keepaliveTimeoutMs} ms`),
    );
  }

  goAway(code: GoAwayCode = GoAwayCode.NORMAL): void {
    if (this.endError !== undefined) return;
    this.localGoAway = true;
    this.sendControl(FrameType.GO_AWAY, 0, 0, code);
  }

  close(): Promise<void> {
    const transport = this.transport;
    const flushed = new Promise<void>((resolve) => {
      if (transport.writableFinished || transport.destroyed) {
        resolve();
        return;
      }
      const done = (): void => {
        transport.off('finish', done);
        transport.off('close', done);
        transport.off('error', done);
        resolve();
      };
      transport.on('finish', done);
      transport.on('close', done);
      transport.on('error', done);
    });
    this.terminate(new VesselError('MUX_SESSION_CLOSED', 'session closed'), {
      goAway: GoAwayCode.NORMAL,
      graceful: true,
      announce: false,
    });
    return flushed;
  }

  /**
   * Ends the session without a byte more on the transport (no GoAway, no RST, no end) and
   * leaves the transport open and listened to by no one: for handing the transport over
   * to something else (the agent's Detach, src/agent/client.ts).
   */
  abandon(): Duplex {
    this.terminate(new VesselError('MUX_SESSION_CLOSED', 'session abandoned'), { graceful: false, announce: false, keepTransport: true });
    return this.transport;
  }

  destroy(err?: Error): void {
    const reason =
      err === undefined
        ? new VesselError('MUX_SESSION_CLOSED', 'session destroyed')
        : err instanceof VesselError
          ? err
          : new VesselError('MUX_SESSION_CLOSED', `session destroyed: ${err.message}`, { cause: err });
    this.terminate(reason, { graceful: false, announce: err !== undefined });
  }

  // ---- teardown ---------------------------------------------------------------------------

  private terminate(err: VesselError, how: { goAway?: GoAwayCode; graceful: boolean; announce: boolean; keepTransport?: boolean }): void {
    if (this.endError !== undefined) return;
    this.endError = err;
    this.log.debug({ code: err.code, reason: err.message }, 'yamux session ending');
    this.decoder.stop();
    this.dataTarget = undefined;
    if (this.keepaliveTimer !== undefined) clearInterval(this.keepaliveTimer);
    const transport = this.transport;
    transport.off('data', this.onTransportData);
    transport.off('drain', this.onTransportDrain);
    transport.off('end', this.onTransportEnd);
    transport.off('close', this.onTransportClose);
    // the 'error' listener stays: a late transport error must not become uncaught

    if (how.goAway !== undefined && transport.writable) {
      transport.write(encodeHeader(FrameType.GO_AWAY, 0, 0, how.goAway));
    }
    for (const stream of [...this.streams.values()]) stream.abort(err);
    this.streams.clear();
    this.backlog.length = 0;
    this.drainWaiters.clear();
    for (const w of this.acceptWaiters.splice(0)) w.reject(err);
    for (const p of this.pings.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pings.clear();

    if (how.keepTransport) {
      // handed over as it is
    } else if (how.graceful && transport.writable) {
      transport.end();
      const guard = setTimeout(() => transport.destroy(), FLUSH_GUARD_MS);
      guard.unref();
      transport.once('close', () => clearTimeout(guard));
    } else {
      transport.destroy();
    }
    this.emit('close', how.announce ? err : undefined);
  }

  private fail(code: VesselErrorCode, message: string, cause?: unknown): void {
    this.terminate(new VesselError(code, message, cause === undefined ? undefined : { cause }), {
      graceful: false,
      announce: true,
    });
  }

  // ---- transport events -------------------------------------------------------------------

  private readonly onTransportData = (chunk: Buffer | string): void => {
    if (typeof chunk === 'string') {
      this.fail('MUX_TRANSPORT_ERROR', 'transport delivered strings; it must not have an encoding set');
      return;
    }
    if (this.decoding) {
      // re-entered through a synchronous transport while handling earlier input
      this.reentrantInput.push(chunk);
      return;
    }
    this.decoding = true;
    try {
      this.decoder.push(chunk);
      for (let next = this.reentrantInput.shift(); next !== undefined; next = this.reentrantInput.shift()) {
        this.decoder.push(next);
      }
    } catch (err) {
      this.reentrantInput.length = 0;
      this.onInputError(err);
    } finally {
      this.decoding = false;
    }
  };

  private onInputError(err: unknown): void {
    if (err instanceof VesselError && err.code === 'MUX_PROTOCOL_ERROR') {
      this.log.warn({ reason: err.message }, 'yamux protocol error from peer');
      this.terminate(err, { goAway: GoAwayCode.PROTOCOL_ERROR, graceful: true, announce: true });
      return;
    }
    // An exception from a stream consumer's synchronous 'data' handler, or a bug of ours.
    this.log.error({ err }, 'yamux: exception while handling input');
    this.terminate(new VesselError('INTERNAL', `yamux: exception while handling input: ${String(err)}`, { cause: err }), {
      goAway: GoAwayCode.INTERNAL_ERROR,
      graceful: true,
      announce: true,
    });
  }

  private readonly onTransportDrain = (): void => {
    if (this.inputPaused) {
      this.inputPaused = false;
      this.transport.resume();
    }
    if (this.drainWaiters.size === 0) return;
    const waiting = [...this.drainWaiters];
    this.drainWaiters.clear();
    for (const stream of waiting) {
      if (!this.canSendData()) {
        this.drainWaiters.add(stream);
      } else {
        stream.resumeWrite();
      }
    }
  };

  private readonly onTransportEnd = (): void => {
    if (this.remoteGoAway) {
      this.fail('MUX_SESSION_CLOSED', 'peer closed the session');
    } else {
      this.fail('MUX_TRANSPORT_ERROR', 'transport ended');
    }
  };

  private readonly onTransportClose = (): void => {
    this.fail('MUX_TRANSPORT_ERROR', 'transport closed');
  };

  private readonly onTransportError = (err: Error): void => {
    this.fail('MUX_TRANSPORT_ERROR', `transport error: ${err.message}`, err);
  };

  // ---- writing ------------------------------------------------------------------------------

  private sendControl(type: number, flags: number, streamId: number, length: number): void {
    if (this.endError !== undefined) return;
    const transport = this.transport;
    this.batchWrites();
    transport.write(encodeHeader(type, flags, streamId, length));
    if (!this.inputPaused && transport.writableLength > CONTROL_WRITE_LIMIT) {
      // The peer does not read what we send; stop producing replies to its input.
      this.inputPaused = true;
      transport.pause();
    }
  }

  private canSendData(): boolean {
    return this.endError === undefined && this.transport.writableLength < DATA_WRITE_BUDGET;
  }

  private sendData(streamId: number, payload: Buffer): void {
    const transport = this.transport;
    const n = payload.length;
    this.batchWrites();
    if (n <= SMALL_FRAME) {
      const frame = Buffer.allocUnsafe(HEADER_SIZE + n);
      encodeHeader(FrameType.DATA, 0, streamId, n, frame, 0);
      payload.copy(frame, HEADER_SIZE);
      transport.write(frame);
      return;
    }
    transport.write(encodeHeader(FrameType.DATA, 0, streamId, n));
    transport.write(payload);
  }

  /**
   * Frames written in one tick leave in one writev: the transport is corked on the first
   * write of a tick and uncorked on the next tick (syscalls, not bytes, are the cost).
   */
  private batchWrites(): void {
    if (this.corked) return;
    this.corked = true;
    this.transport.cork();
    process.nextTick(this.uncorkTransport);
  }

  private readonly uncorkTransport = (): void => {
    this.corked = false;
    this.transport.uncork();
  };

  private makeHost(): StreamHost {
    return {
      maxWindow: this.opts.maxWindow,
      streamCloseTimeoutMs: this.opts.streamCloseTimeoutMs,
      isOpen: () => this.endError === undefined,
      sendControl: (type, flags, id, length) => this.sendControl(type, flags, id, length),
      canSendData: () => this.canSendData(),
      sendData: (id, payload) => this.sendData(id, payload),
      waitForTransport: (stream) => {
        this.drainWaiters.add(stream);
      },
      release: (stream) => this.release(stream),
    };
  }

  private release(stream: MuxStream): void {
    if (this.streams.get(stream.id) === stream) this.streams.delete(stream.id);
    this.drainWaiters.delete(stream);
    const i = this.backlog.indexOf(stream);
    if (i >= 0) this.backlog.splice(i, 1);
  }

  // ---- reading ------------------------------------------------------------------------------

  private onFrame(type: FrameType, flags: number, id: number, length: number): void {
    switch (type) {
      case FrameType.DATA:
      case FrameType.WINDOW_UPDATE:
        this.onStreamFrame(type, flags, id, length);
        return;
      case FrameType.PING:
        this.onPing(flags, length);
        return;
      case FrameType.GO_AWAY:
        this.onGoAway(length);
        return;
    }
  }

  private onStreamFrame(type: FrameType, flags: number, id: number, length: number): void {
    this.dataTarget = undefined;
    this.dataFin = false;
    let stream: MuxStream | undefined;
    if (flags & Flag.SYN) {
      stream = this.incomingStream(id);
    } else {
      stream = this.streams.get(id);
      if (stream === undefined && !this.isLateFrame(id)) {
        throw new ProtocolViolation(`frame for stream ${id} that was never opened`);
      }
    }
    if (stream === undefined) return; // late frame or rejected SYN: payload is discarded

    if (type === FrameType.WINDOW_UPDATE) {
      if (!stream.receiveFlags(flags)) throw new ProtocolViolation(`stream ${id}: FIN received twice`);
      if (length > 0 && !stream.destroyed) stream.receiveWindowUpdate(length);
      return;
    }
    if (!stream.receiveDataHeader(length)) {
      throw new ProtocolViolation(`stream ${id}: ${length} bytes exceed the receive window ${stream.receiveWindow}`);
    }
    if (length === 0) {
      if (!stream.receiveFlags(flags)) throw new ProtocolViolation(`stream ${id}: FIN received twice`);
      return;
    }
    // RST applies now; FIN only after the payload has been delivered.
    if (!stream.receiveFlags(flags & ~Flag.FIN)) throw new ProtocolViolation(`stream ${id}: bad flags`);
    if (stream.destroyed) return;
    this.dataTarget = stream;
    this.dataFin = (flags & Flag.FIN) !== 0;
  }

  private onPayload(piece: Buffer, last: boolean): void {
    const stream = this.dataTarget;
    if (stream === undefined) return;
    stream.receiveData(piece);
    if (!last) return;
    this.dataTarget = undefined;
    if (this.dataFin && !stream.destroyed) {
      this.dataFin = false;
      if (!stream.receiveFin()) throw new ProtocolViolation(`stream ${stream.id}: FIN received twice`);
    }
  }

  /** A frame without SYN for a stream we no longer track: fine if that id was used before. */
  private isLateFrame(id: number): boolean {
    if (id === 0) return false;
    const ours = (id & 1) === (this.opts.client ? 1 : 0);
    return ours ? id < this.nextStreamId : id <= this.maxPeerStreamId;
  }

  private incomingStream(id: number): MuxStream | undefined {
    const peerParity = this.opts.client ? 0 : 1;
    if (id === 0 || (id & 1) !== peerParity) {
      throw new ProtocolViolation(`SYN for stream ${id} has the wrong parity`);
    }
    if (this.streams.has(id)) throw new ProtocolViolation(`SYN reuses live stream id ${id}`);
    if (id > this.maxPeerStreamId) this.maxPeerStreamId = id;
    let refusal: string | undefined;
    if (this.localGoAway) refusal = 'GoAway sent';
    else if (this.streams.size >= this.opts.maxStreams) refusal = 'stream limit reached';
    else if (this.backlog.length >= this.opts.acceptBacklog) refusal = 'accept backlog full';
    if (refusal !== undefined) {
      this.log.warn({ streamId: id, reason: refusal }, 'yamux: refusing inbound stream');
      this.sendControl(FrameType.WINDOW_UPDATE, Flag.RST, id, 0);
      return undefined;
    }
    const stream = new MuxStream(this, this.host, id);
    this.streams.set(id, stream);
    const waiter = this.acceptWaiters.shift();
    if (waiter !== undefined) {
      stream.sendOpenFlags(Flag.ACK);
      waiter.resolve(stream);
    } else {
      this.backlog.push(stream);
    }
    return stream;
  }

  private onPing(flags: number, opaque: number): void {
    if (flags & Flag.SYN) {
      this.sendControl(FrameType.PING, Flag.ACK, 0, opaque);
      return;
    }
    const p = this.pings.get(opaque);
    if (p === undefined) return; // late or unsolicited answer
    this.pings.delete(opaque);
    clearTimeout(p.timer);
    p.resolve(performance.now() - p.start);
  }

  private onGoAway(code: number): void {
    switch (code) {
      case GoAwayCode.NORMAL:
        this.remoteGoAway = true;
        return;
      case GoAwayCode.PROTOCOL_ERROR:
        this.fail('MUX_PROTOCOL_ERROR', 'peer reported a protocol error (GoAway 1)');
        return;
      case GoAwayCode.INTERNAL_ERROR:
        this.fail('MUX_SESSION_CLOSED', 'peer ended the session with an internal error (GoAway 2)');
        return;
      default:
        throw new ProtocolViolation(`unknown GoAway code ${code}`);
    }
  }

  // ---- ping / keepalive ---------------------------------------------------------------------

  private sendPing(timeoutMs: number, onTimeout: () => VesselError): Promise<number> {
    if (this.endError !== undefined) {
      return Promise.reject(new VesselError('MUX_SESSION_CLOSED', 'session is closed', { cause: this.endError }));
    }
    const id = this.nextPingId;
    this.nextPingId = (this.nextPingId + 1) >>> 0;
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pings.delete(id);
        reject(onTimeout());
      }, timeoutMs);
      timer.unref();
      this.pings.set(id, { start: performance.now(), timer, resolve, reject });
      this.sendControl(FrameType.PING, Flag.SYN, 0, id);
    });
  }

  private keepalive(): void {
    if (this.keepalivePending || this.endError !== undefined) return;
    this.keepalivePending = true;
    const timeoutMs = this.opts.keepaliveTimeoutMs;
    this.sendPing(timeoutMs, () => new VesselError('MUX_KEEPALIVE_TIMEOUT', `keepalive ping unanswered after ${timeoutMs} ms`)).then(
      () => {
        this.keepalivePending = false;
      },
      (err: unknown) => {
        this.keepalivePending = false;
        if (err instanceof VesselError && err.code === 'MUX_KEEPALIVE_TIMEOUT') {
          this.log.warn('yamux keepalive timeout');
          this.fail('MUX_KEEPALIVE_TIMEOUT', err.message);
        }
      },
    );
  }
}
