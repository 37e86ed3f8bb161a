// The messages a client sends on a bidi-streaming call, typed. grpc-js declares the call's
// 'data' event with the request type, but the call type lists EventEmitter's untyped `on`
// first, so a listener given to `call.on('data', ...)` is never checked against the
// request type; these take the listener as `(message: Req) => void`.
import type { ServerDuplexStream } from '@grpc/grpc-js';

/** Calls `listener` with every message the client sends from now on. */
export function onMessage<Req, Res>(call: ServerDuplexStream<Req, Res>, listener: (message: Req) => void): void {
  call.on('data', listener);
}

/** Calls `listener` with the next message the client sends. */
export function onceMessage<Req, Res>(call: ServerDuplexStream<Req, Res>, listener: (message: Req) => void): void {
  call.once('data', listener);
}
