// One call being served: its context (handed to the handler) and its bookkeeping.
import type protobuf from 'protobufjs';
import type { InboundQueue } from './inbound-queue.js';
import type { Metadata } from './metadata.js';
import type { MethodKind } from './protos.js';
import type { CallContext } from './types.js';

export interface MethodEntry {
  path: string;
  kind: MethodKind;
  requestType: protobuf.Type;
  responseType: protobuf.Type;
  /** undefined: the service does not implement it (UNIMPLEMENTED). */
  /** Called with the arguments of its kind's handler type (types.ts): (req, ctx), (req, send, ctx), ... */
  handler: ((...args: unknown[]) => unknown) | undefined;
  thisArg: unknown;
}

export class ServerCall implements CallContext {
  readonly method: string;
  deadline?: number;
  /** The final frame was sent (or the connection is gone): nothing more goes out. */
  finished = false;
  timer: NodeJS.Timeout | undefined;
  inbound: InboundQueue<unknown> | undefined;
  private controller: AbortController | undefined;
  private abortReason: unknown;
  private isAborted = false;

  constructor(
    readonly streamId: number,
    readonly entry: MethodEntry,
    readonly metadata: Metadata,
  ) {
    this.method = entry.path;
  }

  /** Created on first use: most unary handlers never look at it. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.isAborted) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.isAborted;
  }

  get reason(): unknown {
    return this.abortReason;
  }

  abort(reason: unknown): void {
    if (this.isAborted) return;
    this.isAborted = true;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }
}
