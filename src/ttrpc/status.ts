// Status values (google.rpc.Status) on the wire, and errors ⇄ statuses through the one
// table in src/errors: this layer knows no code of its own beyond its protocol's.
import { VesselError, codeForStatus, statusCodeOf } from '../errors/index.js';
import type { Code } from './codes.js';

export interface Status {
  code: Code;
  message: string;
  /** Encoded google.protobuf.Any messages, passed through untouched. */
  details: Uint8Array[];
}

/**
 * A non-OK ttrpc status, raised by handlers or received from a peer. It is a VesselError
 * whose code is the generic one for its status (NOT_FOUND, ABORTED, ...), and it keeps the
 * exact status and details for handlers that pass a status through.
 */
export class TtrpcError extends VesselError {
  readonly status: Code;
  readonly details: Uint8Array[];

  constructor(status: Code, message: string, details: Uint8Array[] = [], options?: { cause?: unknown }) {
    super(codeForStatus(status), message, options);
    this.name = 'TtrpcError';
    this.status = status;
    this.details = details;
  }
}

export function isTtrpcError(err: unknown, status?: Code): err is TtrpcError {
  return err instanceof TtrpcError && (status === undefined || err.status === status);
}

/**
 * The status an error leaves as: a TtrpcError keeps its status and details; a VesselError
 * maps by its code (src/errors); anything else is UNKNOWN with its message.
 */
export function statusFromError(err: unknown): Status {
  if (err instanceof TtrpcError) return { code: err.status, message: err.message, details: err.details };
  return { code: statusCodeOf(err), message: err instanceof Error ? err.message : String(err), details: [] };
}

export function errorFromStatus(status: Status): TtrpcError {
  return new TtrpcError(status.code, status.message, status.details);
}
