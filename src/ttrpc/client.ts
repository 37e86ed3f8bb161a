// TtrpcClient: calls over one connection (any Duplex), speaking like containerd/ttrpc
// v1.2's Go client: odd stream ids from 1; unary requests with no flags; server-streaming
// requests flagged remote-closed; client/bidi-streaming requests flagged remote-open,
// Data frames, then Data[remote-closed|no-data] on closeSend.
//
// Errors: a non-OK status → TtrpcError(status); local deadline → TtrpcError(DEADLINE_EXCEEDED);
// abort signal → TtrpcError(CANCELLED); oversized request → TtrpcError(RESOURCE_EXHAUSTED);
// connection closed or lost → VesselError('TTRPC_CONNECTION_CLOSED'); malformed frames from
// the server → VesselError('TTRPC_PROTOCOL_ERROR').
import type { Duplex } from 'node:stream';
import { pino, type Logger } from 'pino';
import type protobuf from 'protobufjs';
import { VesselError } from '../errors/index.js';
import { ClientCall } from './client-call.js';
import { Code } from './codes.js';
import { Flags, FrameDecoder, HEADER_LENGTH, MAX_MESSAGE_SIZE, MessageType, writeFrameHeader, type FrameHandler } from './frame.js';
import { FrameWriter } from './frame-writer.js';
import { InboundQueue } from './inbound-queue.js';
import { decodeResponse, requestSize, writeRequest, type RequestEnvelope } from './messages.js';
import { metadataToPairs } from './metadata.js';
import { decodeMessage, encodeMessage, methodKind, resolvedTypes, serviceName, type MethodKind } from './protos.js';
import { InboundBudget, ReadGate } from './read-gate.js';
import { TtrpcError, errorFromStatus } from './status.js';
import type { BidiStreamCall, CallOptions, ClientStreamCall, DeepPartial, StubMethod } from './types.js';

export interface ClientOptions {
  logger?: Logger;
  /** Largest frame payload sent or accepted; default 4 MiB (ttrpc's limit). */
  maxMessageSize?: number;
}

const MAX_STREAM_ID = 0xffffffff;
const MAX_TIMER_MS = 0x7fffffff;

function splitPath(path: string): { service: string; method: string } {
  const slash = path.lastIndexOf('/');
  if (slash <= 0 || path[0] !== '/') throw new VesselError('INVALID_ARGUMENT', `ttrpc: bad method path ${path}`);
  return { service: path.slice(1, slash), method: path.slice(slash + 1) };
}

function noop(): void {}

export class TtrpcClient implements FrameHandler {
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;
  private readonly logger: Logger;
  private readonly maxMessageSize: number;
  private readonly decoder: FrameDecoder;
  private readonly writer: FrameWriter;
  private readonly gate: ReadGate;
  private readonly budget: InboundBudget;
  private readonly calls = new Map<number, ClientCall>();
  private nextStreamId = 1;
  private closeError: VesselError | undefined;

  constructor(
    private readonly conn: Duplex,
    options: ClientOptions = {},
  ) {
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.maxMessageSize = options.maxMessageSize ?? MAX_MESSAGE_SIZE;
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    this.decoder = new FrameDecoder(this, this.maxMessageSize);
    this.gate = new ReadGate(conn);
    this.budget = new InboundBudget(this.gate, 4 * this.maxMessageSize);
    this.writer = new FrameWriter(conn);
    conn.on('data', (chunk: Buffer) => {
      try {
        this.decoder.push(chunk);
      } catch (err) {
        this.logger.error({ err }, 'ttrpc client: internal error handling input');
        this.shutdown('ttrpc: internal error handling input');
      }
    });
    conn.on('end', () => this.shutdown('ttrpc: connection closed by peer'));
    conn.on('close', () => this.shutdown('ttrpc: connection closed'));
    conn.on('error', (err) => {
      this.logger.debug({ err }, 'ttrpc client: connection error');
      this.shutdown(`ttrpc: connection error: ${err.message}`);
    });
    if (conn.destroyed) queueMicrotask(() => this.shutdown('ttrpc: connection closed'));
  }

  /** Closes the connection; pending calls fail with TTRPC_CONNECTION_CLOSED. */
  close(): void {
    this.shutdown('ttrpc: client closed');
  }

  /** Calls in flight. */
  get pendingCalls(): number {
    return this.calls.size;
  }

  // ---------- calls ----------
  // Req and Resp are the caller's word for the message shapes of reqType and respType (their
  // generated types, src/gen/protobufjs); requests may leave fields out (DeepPartial).

  unary<Req = unknown, Resp = unknown>(
    path: string,
    reqType: protobuf.Type,
    respType: protobuf.Type,
    req: DeepPartial<Req>,
    opts?: CallOptions,
  ): Promise<Resp> {
    const { service, method } = splitPath(path);
    return this.startUnary(service, method, reqType, respType, req, 'unary', opts) as Promise<Resp>;
  }

  serverStream<Req = unknown, Resp = unknown>(
    path: string,
    reqType: protobuf.Type,
    respType: protobuf.Type,
    req: DeepPartial<Req>,
    opts?: CallOptions,
  ): AsyncIterableIterator<Resp> {
    const { service, method } = splitPath(path);
    return this.startServerStream(service, method, reqType, respType, req, opts) as InboundQueue<Resp>;
  }

  clientStream<Req = unknown, Resp = unknown>(path: string, reqType: protobuf.Type, respType: protobuf.Type, opts?: CallOptions): ClientStreamCall<Req, Resp> {
    const { service, method } = splitPath(path);
    return this.startClientStream(service, method, reqType, respType, opts) as ClientStreamCall<Req, Resp>;
  }

  bidiStream<Req = unknown, Resp = unknown>(path: string, reqType: protobuf.Type, respType: protobuf.Type, opts?: CallOptions): BidiStreamCall<Req, Resp> {
    const { service, method } = splitPath(path);
    return this.startBidi(service, method, reqType, respType, opts) as BidiStreamCall<Req, Resp>;
  }

  /**
   * A stub with one function per method, named as in the proto:
   *   unary (req, opts?) → Promise<resp>; server stream (req, opts?) → AsyncIterable<resp>;
   *   client stream (opts?) → { send, closeSend, response }; bidi (opts?) → { send, closeSend, [Symbol.asyncIterator] }.
   * Untyped: cast it to the service's type (UnaryClient<S> of its generated interface S).
   */
  service(service: protobuf.Service): Record<string, StubMethod> {
    const name = serviceName(service);
    const stub: Record<string, StubMethod> = {};
    for (const m of service.methodsArray) {
      const { requestType: rq, responseType: rs } = resolvedTypes(m);
      const mname = m.name;
      switch (methodKind(m)) {
        case 'unary':
          stub[mname] = (req: unknown, opts?: CallOptions) => this.startUnary(name, mname, rq, rs, req, 'unary', opts);
          break;
        case 'serverStream':
          stub[mname] = (req: unknown, opts?: CallOptions) => this.startServerStream(name, mname, rq, rs, req, opts);
          break;
        case 'clientStream':
          stub[mname] = (opts?: CallOptions) => this.startClientStream(name, mname, rq, rs, opts);
          break;
        case 'bidi':
          stub[mname] = (opts?: CallOptions) => this.startBidi(name, mname, rq, rs, opts);
          break;
      }
    }
    return stub;
  }

  // ---------- call set-up ----------

  private startUnary(
    service: string,
    method: string,
    reqType: protobuf.Type,
    respType: protobuf.Type,
    req: unknown,
    kind: MethodKind,
    opts: CallOptions | undefined,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let call: ClientCall;
      try {
        const payload = encodeMessage(reqType, req);
        call = this.open(service, method, kind, respType, payload, 0, opts);
      } catch (err) {
        reject(err);
        return;
      }
      call.resolve = resolve;
      call.reject = reject;
    });
  }

  private startServerStream(
    service: string,
    method: string,
    reqType: protobuf.Type,
    respType: protobuf.Type,
    req: unknown,
    opts: CallOptions | undefined,
  ): InboundQueue<unknown> {
    let call: ClientCall | undefined;
    const inbound = this.newInbound(respType, () => call !== undefined && this.abandon(call));
    try {
      const payload = encodeMessage(reqType, req);
      call = this.open(service, method, 'serverStream', respType, payload, Flags.REMOTE_CLOSED, opts, inbound);
    } catch (err) {
      inbound.fail(err);
    }
    return inbound;
  }

  private startClientStream(service: string, method: string, reqType: protobuf.Type, respType: protobuf.Type, opts: CallOptions | undefined): ClientStreamCall {
    let call: ClientCall | undefined;
    let openError: unknown;
    const response = new Promise<unknown>((resolve, reject) => {
      try {
        call = this.open(service, method, 'clientStream', respType, undefined, Flags.REMOTE_OPEN, opts);
        call.resolve = resolve;
        call.reject = reject;
      } catch (err) {
        openError = err;
        reject(err);
      }
    });
    response.catch(noop); // the caller may only ever await send(); never an unhandled rejection
    return {
      send: (msg: unknown) => (call === undefined ? Promise.reject(openError) : this.sendData(call, reqType, msg)),
      closeSend: () => (call === undefined ? Promise.reject(openError) : this.closeSend(call)),
      response,
    };
  }

  private startBidi(service: string, method: string, reqType: protobuf.Type, respType: protobuf.Type, opts: CallOptions | undefined): BidiStreamCall {
    let call: ClientCall | undefined;
    let openError: unknown;
    const inbound = this.newInbound(respType, () => call !== undefined && this.abandon(call));
    try {
      call = this.open(service, method, 'bidi', respType, undefined, Flags.REMOTE_OPEN, opts, inbound);
    } catch (err) {
      openError = err;
      inbound.fail(err);
    }
    return {
      send: (msg: unknown) => (call === undefined ? Promise.reject(openError) : this.sendData(call, reqType, msg)),
      closeSend: () => (call === undefined ? Promise.reject(openError) : this.closeSend(call)),
      [Symbol.asyncIterator]: () => inbound,
    };
  }

  private newInbound(respType: protobuf.Type, onAbandon: () => void): InboundQueue<unknown> {
    return new InboundQueue<unknown>((bytes) => this.decodeResponsePayload(respType, bytes), this.gate, this.budget, onAbandon);
  }

  /** Registers a call and writes its Request frame; throws if it cannot be sent. */
  private open(
    service: string,
    method: string,
    kind: MethodKind,
    respType: protobuf.Type,
    payload: Uint8Array | undefined,
    flags: number,
    opts: CallOptions | undefined,
    inbound?: InboundQueue<unknown>,
  ): ClientCall {
    if (this.closeError !== undefined) throw this.closeError;
    if (opts?.signal?.aborted) throw new TtrpcError(Code.CANCELLED, 'context canceled', [], { cause: opts.signal.reason });
    const timeoutMs = opts?.timeoutMs;
    const env: RequestEnvelope = {
      service,
      method,
      payload,
      timeoutNano: timeoutMs !== undefined && timeoutMs > 0 ? Math.round(timeoutMs * 1e6) : 0,
      metadata: opts?.metadata === undefined ? [] : metadataToPairs(opts.metadata),
    };
    const size = requestSize(env);
    if (size > this.maxMessageSize) {
      throw new TtrpcError(Code.RESOURCE_EXHAUSTED, `message length ${size} exceed maximum message size of ${this.maxMessageSize}`);
    }
    if (this.nextStreamId > MAX_STREAM_ID) {
      throw new VesselError('TTRPC_PROTOCOL_ERROR', 'ttrpc: stream ids exhausted on this connection');
    }
    const streamId = this.nextStreamId;
    this.nextStreamId += 2;
    const call = new ClientCall(streamId, kind, respType);
    call.inbound = inbound;
    this.calls.set(streamId, call);

    if (timeoutMs !== undefined) {
      const ms = Math.max(0, timeoutMs);
      if (ms <= MAX_TIMER_MS) {
        call.timer = setTimeout(() => {
          call.timer = undefined;
          this.fail(call, new TtrpcError(Code.DEADLINE_EXCEEDED, 'context deadline exceeded'));
        }, ms);
      }
    }
    const signal = opts?.signal;
    if (signal !== undefined) {
      call.signal = signal;
      call.onAbort = () => this.fail(call, new TtrpcError(Code.CANCELLED, 'context canceled', [], { cause: signal.reason }));
      signal.addEventListener('abort', call.onAbort, { once: true });
    }

    const frame = Buffer.allocUnsafe(HEADER_LENGTH + size);
    writeFrameHeader(frame, 0, size, streamId, MessageType.REQUEST, flags);
    writeRequest(frame, HEADER_LENGTH, env);
    this.writer.write(frame);
    return call;
  }

  private async sendData(call: ClientCall, reqType: protobuf.Type, msg: unknown): Promise<void> {
    if (call.localClosed) throw new VesselError('TTRPC_PROTOCOL_ERROR', 'ttrpc: send after closeSend');
    if (call.done) {
      if (call.error !== undefined) throw call.error;
      return; // the server already finished the call: the message would be dropped
    }
    const payload = encodeMessage(reqType, msg);
    if (payload.length > this.maxMessageSize) {
      throw new TtrpcError(Code.RESOURCE_EXHAUSTED, `message length ${payload.length} exceed maximum message size of ${this.maxMessageSize}`);
    }
    if (this.writer.blocked) await this.writer.drained();
    if (call.done) {
      if (call.error !== undefined) throw call.error;
      return;
    }
    this.writer.writeFrame(call.streamId, MessageType.DATA, 0, payload);
  }

  private async closeSend(call: ClientCall): Promise<void> {
    if (call.localClosed) return;
    call.localClosed = true;
    if (call.done) return;
    if (this.writer.blocked) await this.writer.drained();
    this.writer.writeFrame(call.streamId, MessageType.DATA, Flags.REMOTE_CLOSED | Flags.NO_DATA);
  }

  // ---------- FrameHandler ----------

  onOversized(streamId: number, _type: number, _flags: number, length: number): void {
    const call = this.calls.get(streamId);
    if (call === undefined) return;
    this.fail(call, new TtrpcError(Code.RESOURCE_EXHAUSTED, `message length ${length} exceed maximum message size of ${this.maxMessageSize}`));
  }

  onFrame(streamId: number, type: number, flags: number, payload: Buffer): void {
    const call = this.calls.get(streamId);
    if (call === undefined) {
      this.logger.debug({ streamId, type }, 'ttrpc client: message on inactive stream dropped');
      return;
    }
    if (type === MessageType.RESPONSE) this.onResponse(call, payload);
    else if (type === MessageType.DATA) this.onData(call, flags, payload);
    // unknown types are ignored
  }

  private onResponse(call: ClientCall, payload: Buffer): void {
    let env;
    try {
      env = decodeResponse(payload);
    } catch (err) {
      this.fail(call, new VesselError('TTRPC_PROTOCOL_ERROR', `ttrpc: bad response: ${(err as Error).message}`));
      return;
    }
    if (env.status.code !== Code.OK) {
      this.fail(call, errorFromStatus(env.status));
      return;
    }
    if (call.inbound !== undefined) {
      // A streaming call may end with an OK Response; a non-empty payload is a last message.
      if (env.payload.length > 0) call.inbound.push(Buffer.from(env.payload.buffer, env.payload.byteOffset, env.payload.length));
      this.complete(call);
      call.inbound.end();
      return;
    }
    let value: unknown;
    try {
      value = this.decodeResponsePayload(call.responseType, env.payload);
    } catch (err) {
      this.fail(call, err);
      return;
    }
    this.complete(call);
    call.resolve?.(value);
  }

  private onData(call: ClientCall, flags: number, payload: Buffer): void {
    const inbound = call.inbound;
    if (inbound === undefined) {
      this.fail(call, new VesselError('TTRPC_PROTOCOL_ERROR', 'ttrpc: received data from non-streaming server'));
      return;
    }
    if ((flags & Flags.NO_DATA) === 0) inbound.push(payload);
    if ((flags & Flags.REMOTE_CLOSED) !== 0) {
      this.complete(call);
      inbound.end();
    }
  }

  private decodeResponsePayload(type: protobuf.Type, bytes: Uint8Array): unknown {
    try {
      return decodeMessage(type, bytes);
    } catch (err) {
      throw new VesselError('TTRPC_PROTOCOL_ERROR', `ttrpc: error unmarshalling response: ${(err as Error).message}`);
    }
  }

  // ---------- completion ----------

  /** Removes the call: no more frames are accepted for it. */
  private complete(call: ClientCall): void {
    call.done = true;
    this.calls.delete(call.streamId);
    if (call.timer !== undefined) {
      clearTimeout(call.timer);
      call.timer = undefined;
    }
    if (call.onAbort !== undefined) {
      call.signal?.removeEventListener('abort', call.onAbort);
      call.onAbort = undefined;
    }
  }

  private fail(call: ClientCall, err: unknown): void {
    if (call.done) return;
    this.complete(call);
    call.error = err;
    call.inbound?.fail(err);
    call.reject?.(err);
  }

  /** The consumer stopped reading a stream: forget it locally (ttrpc cannot cancel remotely). */
  private abandon(call: ClientCall): void {
    if (call.done) return;
    this.complete(call);
    call.error = new TtrpcError(Code.CANCELLED, 'context canceled');
  }

  private shutdown(message: string): void {
    if (this.closeError !== undefined) return;
    const err = new VesselError('TTRPC_CONNECTION_CLOSED', message);
    this.closeError = err;
    this.writer.close(err);
    const calls = [...this.calls.values()];
    for (const call of calls) this.fail(call, err);
    this.conn.destroy();
    this.resolveClosed();
  }
}
