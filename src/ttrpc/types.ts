// Public shapes shared by the ttrpc client and server.
import type { Metadata } from './metadata.js';

export interface CallContext {
  /** '/package.Service/Method' */
  method: string;
  metadata: Metadata;
  /** Epoch milliseconds, when the request carried a timeout. */
  deadline?: number;
  /** Aborted on deadline, connection close and server close (ttrpc has no cancel frame). */
  signal: AbortSignal;
}

// Messages are plain objects; see protos.ts for the conversion convention.
/* eslint-disable @typescript-eslint/no-explicit-any */
export type UnaryHandler = (req: any, ctx: CallContext) => Promise<any>;
export type ServerStreamHandler = (req: any, send: (msg: any) => Promise<void>, ctx: CallContext) => Promise<void>;
export type ClientStreamHandler = (requests: AsyncIterable<any>, ctx: CallContext) => Promise<any>;
export type BidiStreamHandler = (
  requests: AsyncIterable<any>,
  send: (msg: any) => Promise<void>,
  ctx: CallContext,
) => Promise<void>;

export interface CallOptions {
  /** Sent as timeout_nano; the call fails locally with DEADLINE_EXCEEDED when it expires. */
  timeoutMs?: number;
  metadata?: Metadata;
  /** Aborting fails the call locally with CANCELLED (nothing is sent: ttrpc has no cancel frame). */
  signal?: AbortSignal;
}

/** Client side of a client-streaming call. */
export interface ClientStreamCall<Req = any, Resp = any> {
  send(msg: Req): Promise<void>;
  closeSend(): Promise<void>;
  response: Promise<Resp>;
}

/** Client side of a bidirectional-streaming call. */
export interface BidiStreamCall<Req = any, Resp = any> extends AsyncIterable<Resp> {
  send(msg: Req): Promise<void>;
  closeSend(): Promise<void>;
  [Symbol.asyncIterator](): AsyncIterator<Resp>;
}
