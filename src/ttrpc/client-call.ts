// Client-side state of one call (any kind) between its request and its final frame.
import type protobuf from 'protobufjs';
import type { InboundQueue } from './inbound-queue.js';
import type { MethodKind } from './protos.js';

export class ClientCall {
  /** Final frame received or the call failed locally. */
  done = false;
  error: unknown = undefined;
  /** Client half-closed (streaming requests). */
  localClosed = false;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Response promise of unary and client-streaming calls. */
  resolve: ((value: unknown) => void) | undefined;
  reject: ((err: unknown) => void) | undefined;
  /** Received messages of server-streaming and bidi calls. */
  inbound: InboundQueue<unknown> | undefined;

  constructor(
    readonly streamId: number,
    readonly kind: MethodKind,
    readonly responseType: protobuf.Type,
  ) {}

  get streamingServer(): boolean {
    return this.kind === 'serverStream' || this.kind === 'bidi';
  }
}
