// Serves ttrpc on one connection (any Duplex), following containerd/ttrpc v1.2 server
// behaviour: odd, increasing client stream ids; unary → one Response; server streams →
// Data frames then Data[remote-closed|no-data] on success or a Response on error;
// client streams read Data frames until Data[remote-closed].
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { VesselError } from '../errors/index.js';
import { Code } from './codes.js';
import { Flags, FrameDecoder, HEADER_LENGTH, MessageType, writeFrameHeader, type FrameHandler } from './frame.js';
import { FrameWriter } from './frame-writer.js';
import { InboundQueue } from './inbound-queue.js';
import { decodeRequest, responseSize, writeResponse, type RequestEnvelope } from './messages.js';
import { metadataFromPairs, type Metadata } from './metadata.js';
import { decodeMessage, encodeMessage } from './protos.js';
import { InboundBudget, ReadGate } from './read-gate.js';
import { ServerCall, type MethodEntry } from './server-call.js';
import { TtrpcError, statusFromError, type Status } from './status.js';

export type MethodRegistry = ReadonlyMap<string, ReadonlyMap<string, MethodEntry>>;

export interface ServerConnectionOptions {
  logger: Logger;
  maxMessageSize: number;
  maxConcurrentCalls: number;
}

const EMPTY_METADATA: Metadata = Object.freeze(Object.create(null) as Metadata);
const MAX_TIMER_MS = 0x7fffffff;

function oversizedStatus(length: number, max: number): Status {
  return {
    code: Code.RESOURCE_EXHAUSTED,
    message: `message length ${length} exceed maximum message size of ${max}`,
    details: [],
  };
}

function status(code: Code, message: string): Status {
  return { code, message, details: [] };
}

export class ServerConnection implements FrameHandler {
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;
  private readonly decoder: FrameDecoder;
  private readonly writer: FrameWriter;
  private readonly gate: ReadGate;
  private readonly budget: InboundBudget;
  private readonly calls = new Map<number, ServerCall>();
  private active = 0;
  private lastStreamId = 0;
  private isClosed = false;

  constructor(
    private readonly conn: Duplex,
    private readonly registry: MethodRegistry,
    private readonly options: ServerConnectionOptions,
  ) {
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    this.decoder = new FrameDecoder(this, options.maxMessageSize);
    this.gate = new ReadGate(conn);
    this.budget = new InboundBudget(this.gate, 4 * options.maxMessageSize);
    this.writer = new FrameWriter(conn, (blocked) => (blocked ? this.gate.hold() : this.gate.release()));
    conn.on('data', (chunk: Buffer) => {
      try {
        this.decoder.push(chunk);
      } catch (err) {
        this.options.logger.error({ err }, 'ttrpc server: internal error handling input');
        this.close();
      }
    });
    conn.on('end', () => this.close());
    conn.on('close', () => this.close());
    conn.on('error', (err) => {
      this.options.logger.debug({ err }, 'ttrpc server: connection error');
      this.close();
    });
    if (conn.destroyed) queueMicrotask(() => this.close());
  }

  /** Calls whose handler has not returned yet. */
  get activeCalls(): number {
    return this.active;
  }

  /** Stops serving: handlers see ctx.signal aborted, the Duplex is destroyed. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const reason = new VesselError('TTRPC_CONNECTION_CLOSED', 'ttrpc: connection closed');
    this.writer.close(reason);
    for (const call of this.calls.values()) {
      call.finished = true;
      if (call.timer !== undefined) clearTimeout(call.timer);
      call.inbound?.discard(reason);
      call.abort(reason);
    }
    this.calls.clear();
    this.conn.destroy();
    this.resolveClosed();
  }

  // ---------- FrameHandler ----------

  onOversized(streamId: number, _type: number, _flags: number, length: number): void {
    if (this.isClosed) return;
    this.writeStatus(streamId, oversizedStatus(length, this.options.maxMessageSize));
  }

  onFrame(streamId: number, type: number, flags: number, payload: Buffer): void {
    if (this.isClosed) return;
    if ((streamId & 1) === 0) {
      this.writeStatus(streamId, status(Code.INVALID_ARGUMENT, 'StreamID must be odd for client initiated streams'));
      return;
    }
    if (type === MessageType.REQUEST) this.onRequest(streamId, flags, payload);
    else if (type === MessageType.DATA) this.onData(streamId, flags, payload);
    // other types are ignored, for forward compatibility (as Go does)
  }

  private onData(streamId: number, flags: number, payload: Buffer): void {
    const call = this.calls.get(streamId);
    const inbound = call?.inbound;
    if (inbound === undefined) return; // unknown / finished / non-client-streaming: dropped
    if ((flags & Flags.NO_DATA) === 0) inbound.push(payload);
    if ((flags & Flags.REMOTE_CLOSED) !== 0) inbound.end();
  }

  private onRequest(streamId: number, flags: number, payload: Buffer): void {
    if (streamId <= this.lastStreamId) {
      this.writeStatus(streamId, status(Code.INVALID_ARGUMENT, 'StreamID cannot be re-used and must increment'));
      return;
    }
    this.lastStreamId = streamId;
    let req: RequestEnvelope;
    try {
      req = decodeRequest(payload);
    } catch (err) {
      this.writeStatus(streamId, status(Code.INVALID_ARGUMENT, `unmarshal request error: ${(err as Error).message}`));
      return;
    }
    const methods = this.registry.get(req.service);
    if (methods === undefined) {
      this.writeStatus(streamId, status(Code.UNIMPLEMENTED, `service ${req.service}`));
      return;
    }
    const entry = methods.get(req.method);
    if (entry === undefined || entry.handler === undefined) {
      this.writeStatus(streamId, status(Code.UNIMPLEMENTED, `method ${req.method}`));
      return;
    }
    if (this.active >= this.options.maxConcurrentCalls) {
      this.writeStatus(streamId, status(Code.RESOURCE_EXHAUSTED, `too many concurrent calls (limit ${this.options.maxConcurrentCalls})`));
      return;
    }

    const call = new ServerCall(streamId, entry, req.metadata.length === 0 ? EMPTY_METADATA : metadataFromPairs(req.metadata));
    this.calls.set(streamId, call);
    this.active++;
    if (req.timeoutNano !== 0) this.armDeadline(call, req.timeoutNano);

    switch (entry.kind) {
      case 'unary':
        void this.runUnary(call, req.payload);
        return;
      case 'serverStream':
        void this.runServerStream(call, req.payload);
        return;
      case 'clientStream':
      case 'bidi': {
        const requestType = entry.requestType;
        const inbound = new InboundQueue<unknown>((bytes) => decodePayload(requestType, bytes), this.gate, this.budget);
        call.inbound = inbound;
        if (req.payload !== undefined) inbound.push(Buffer.from(req.payload.buffer, req.payload.byteOffset, req.payload.length));
        if ((flags & Flags.REMOTE_CLOSED) !== 0) inbound.end();
        void this.runClientStreaming(call, inbound);
        return;
      }
    }
  }

  private armDeadline(call: ServerCall, timeoutNano: number): void {
    const ms = Math.max(0, timeoutNano / 1e6);
    call.deadline = Date.now() + ms;
    if (ms > MAX_TIMER_MS) return;
    call.timer = setTimeout(() => {
      call.timer = undefined;
      const err = new TtrpcError(Code.DEADLINE_EXCEEDED, 'context deadline exceeded');
      call.abort(err);
      this.finish(call, statusFromError(err), undefined);
    }, ms);
  }

  // ---------- handlers ----------

  private async runUnary(call: ServerCall, payload: Uint8Array | undefined): Promise<void> {
    let st: Status | undefined;
    let out: Uint8Array | undefined;
    try {
      const req = decodePayload(call.entry.requestType, payload);
      const resp = await call.entry.handler!.call(call.entry.thisArg, req, call);
      out = encodeMessage(call.entry.responseType, resp);
    } catch (err) {
      st = statusFromError(err);
    }
    this.active--;
    this.finish(call, st, out);
  }

  private async runServerStream(call: ServerCall, payload: Uint8Array | undefined): Promise<void> {
    let st: Status | undefined;
    try {
      const req = decodePayload(call.entry.requestType, payload);
      await call.entry.handler!.call(call.entry.thisArg, req, (msg: unknown) => this.sendData(call, msg), call);
    } catch (err) {
      st = statusFromError(err);
    }
    this.active--;
    this.finish(call, st, undefined);
  }

  private async runClientStreaming(call: ServerCall, inbound: InboundQueue<unknown>): Promise<void> {
    let st: Status | undefined;
    let out: Uint8Array | undefined;
    try {
      if (call.entry.kind === 'bidi') {
        await call.entry.handler!.call(call.entry.thisArg, inbound, (msg: unknown) => this.sendData(call, msg), call);
      } else {
        const resp = await call.entry.handler!.call(call.entry.thisArg, inbound, call);
        out = encodeMessage(call.entry.responseType, resp);
      }
    } catch (err) {
      st = statusFromError(err);
    }
    this.active--;
    this.finish(call, st, out);
  }

  private async sendData(call: ServerCall, msg: unknown): Promise<void> {
    if (call.finished) throw this.finishedError(call);
    const payload = encodeMessage(call.entry.responseType, msg);
    if (payload.length > this.options.maxMessageSize) {
      const st = oversizedStatus(payload.length, this.options.maxMessageSize);
      throw new TtrpcError(st.code, st.message);
    }
    if (this.writer.blocked) {
      await this.writer.drained();
      if (call.finished) throw this.finishedError(call);
    }
    this.writer.writeFrame(call.streamId, MessageType.DATA, 0, payload);
  }

  private finishedError(call: ServerCall): unknown {
    return call.aborted ? call.reason : new TtrpcError(Code.FAILED_PRECONDITION, 'ttrpc: stream already finished');
  }

  /** Sends the final frame of a call once; `st` undefined = OK. */
  private finish(call: ServerCall, st: Status | undefined, payload: Uint8Array | undefined): void {
    if (call.finished) return;
    call.finished = true;
    if (call.timer !== undefined) {
      clearTimeout(call.timer);
      call.timer = undefined;
    }
    this.calls.delete(call.streamId);
    call.inbound?.discard();
    if (this.isClosed) return;
    const streaming = call.entry.kind === 'serverStream' || call.entry.kind === 'bidi';
    if (streaming && (st === undefined || st.code === Code.OK)) {
      this.writer.writeFrame(call.streamId, MessageType.DATA, Flags.REMOTE_CLOSED | Flags.NO_DATA);
      return;
    }
    this.writeResponse(call.streamId, st, payload);
  }

  private writeStatus(streamId: number, st: Status): void {
    this.writeResponse(streamId, st, undefined);
  }

  private writeResponse(streamId: number, st: Status | undefined, payload: Uint8Array | undefined): void {
    if (this.isClosed) return;
    let size = responseSize(st, payload);
    if (size > this.options.maxMessageSize) {
      st = oversizedStatus(size, this.options.maxMessageSize);
      payload = undefined;
      size = responseSize(st, undefined);
    }
    const frame = Buffer.allocUnsafe(HEADER_LENGTH + size);
    writeFrameHeader(frame, 0, size, streamId, MessageType.RESPONSE, 0);
    writeResponse(frame, HEADER_LENGTH, st, payload);
    this.writer.write(frame);
  }
}

function decodePayload(type: MethodEntry['requestType'], bytes: Uint8Array | undefined): unknown {
  try {
    return decodeMessage(type, bytes ?? EMPTY_BYTES);
  } catch (err) {
    throw new TtrpcError(Code.INTERNAL, `ttrpc: error unmarshalling payload: ${(err as Error).message}`);
  }
}

const EMPTY_BYTES = new Uint8Array(0);
