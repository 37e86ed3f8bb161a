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

// Messages are plain objects; see protos.ts for the conversion convention. Where a service
// has a generated interface (src/gen: `interface Agent { Ping(request: PingRequest):
// Promise<PingResponse>; ... }`), UnaryClient / UnaryServer below give its stubs and its
// implementation their types; otherwise messages are `unknown` until the caller names them.

/**
 * What the encoder accepts for a message whose decoded shape is T: any field may be left
 * out at any depth (protobufjs fills proto3 defaults), bytes as any Uint8Array, 64-bit
 * integers also as numbers.
 */
export type DeepPartial<T> = T extends Uint8Array
  ? Uint8Array
  : T extends bigint
    ? bigint | number
    : T extends string | number | boolean | null | undefined
      ? T
      : T extends readonly (infer E)[]
        ? DeepPartial<E>[]
        : T extends object
          ? { [K in keyof T]?: DeepPartial<T[K]> }
          : T;

type UnaryMethod<F> = F extends (request: infer Req) => Promise<infer Resp> ? { req: Req; resp: Resp } : never;

/** Client stub of a service whose methods are all unary: the decoded response, requests partial. */
export type UnaryClient<S> = {
  [M in keyof S]: (request: DeepPartial<UnaryMethod<S[M]>['req']>, opts?: CallOptions) => Promise<UnaryMethod<S[M]>['resp']>;
};

/** Implementation of a service whose methods are all unary, as TtrpcServer.register calls it. */
export type UnaryServer<S> = {
  [M in keyof S]: (request: UnaryMethod<S[M]>['req'], ctx: CallContext) => Promise<DeepPartial<UnaryMethod<S[M]>['resp']>>;
};

export type UnaryHandler<Req = unknown, Resp = unknown> = (req: Req, ctx: CallContext) => Promise<DeepPartial<Resp>>;
export type ServerStreamHandler<Req = unknown, Resp = unknown> = (req: Req, send: (msg: DeepPartial<Resp>) => Promise<void>, ctx: CallContext) => Promise<void>;
export type ClientStreamHandler<Req = unknown, Resp = unknown> = (requests: AsyncIterable<Req>, ctx: CallContext) => Promise<DeepPartial<Resp>>;
export type BidiStreamHandler<Req = unknown, Resp = unknown> = (
  requests: AsyncIterable<Req>,
  send: (msg: DeepPartial<Resp>) => Promise<void>,
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
export interface ClientStreamCall<Req = unknown, Resp = unknown> {
  send(msg: DeepPartial<Req>): Promise<void>;
  closeSend(): Promise<void>;
  response: Promise<Resp>;
}

/** Client side of a bidirectional-streaming call. */
export interface BidiStreamCall<Req = unknown, Resp = unknown> extends AsyncIterable<Resp> {
  send(msg: DeepPartial<Req>): Promise<void>;
  closeSend(): Promise<void>;
  [Symbol.asyncIterator](): AsyncIterator<Resp>;
}

/**
 * One method of TtrpcClient.service()'s untyped stub; its shape follows the method's kind
 * (see there). Callers cast the stub to the service's type, e.g. UnaryClient<agentv1.Agent>.
 */
export type StubMethod = (...args: never[]) => unknown;
