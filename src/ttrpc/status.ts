// Status values (google.rpc.Status) and the one place errors are mapped to them.
import { VesselError, type VesselErrorCode } from '../errors/index.js';
import { Code } from './codes.js';

export interface Status {
  code: Code;
  message: string;
  /** Encoded google.protobuf.Any messages, passed through untouched. */
  details: Uint8Array[];
}

/** A non-OK ttrpc status, raised by handlers or received from a peer. */
export class TtrpcError extends VesselError {
  readonly status: Code;
  readonly details: Uint8Array[];

  constructor(status: Code, message: string, details: Uint8Array[] = [], options?: { cause?: unknown }) {
    super('TTRPC_STATUS', message, options);
    this.name = 'TtrpcError';
    this.status = status;
    this.details = details;
  }
}

export function isTtrpcError(err: unknown, status?: Code): err is TtrpcError {
  return err instanceof TtrpcError && (status === undefined || err.status === status);
}

/** How each VesselError code travels as a status; codes not listed become UNKNOWN. */
const STATUS_BY_VESSEL_CODE: Partial<Record<VesselErrorCode, Code>> = {
  INVALID_ARGUMENT: Code.INVALID_ARGUMENT,
  ALREADY_EXISTS: Code.ALREADY_EXISTS,
  NOT_FOUND: Code.NOT_FOUND,
  CONFIG_AFTER_START: Code.FAILED_PRECONDITION,
  NOT_STARTED: Code.FAILED_PRECONDITION,
  ALREADY_STARTED: Code.FAILED_PRECONDITION,
  NOT_REUSABLE: Code.FAILED_PRECONDITION,
  STATE_DIR_IN_USE: Code.FAILED_PRECONDITION,
  START_FAILED: Code.UNAVAILABLE,
  VM_EXITED: Code.UNAVAILABLE,
  DEADLINE_EXCEEDED: Code.DEADLINE_EXCEEDED,
  RESOURCE_EXHAUSTED: Code.RESOURCE_EXHAUSTED,
  UNAVAILABLE: Code.UNAVAILABLE,
  STREAM_REFUSED: Code.FAILED_PRECONDITION,
  TOOL_MISSING: Code.FAILED_PRECONDITION,
  IMAGE_BUILD_FAILED: Code.INTERNAL,
  IMAGE_CORRUPT: Code.DATA_LOSS,
  IMAGE_NOT_FOUND: Code.NOT_FOUND,
  MUX_PROTOCOL_ERROR: Code.INTERNAL,
  MUX_SESSION_CLOSED: Code.UNAVAILABLE,
  MUX_GO_AWAY: Code.UNAVAILABLE,
  MUX_STREAM_RESET: Code.UNAVAILABLE,
  MUX_STREAM_LIMIT: Code.RESOURCE_EXHAUSTED,
  MUX_KEEPALIVE_TIMEOUT: Code.UNAVAILABLE,
  MUX_TRANSPORT_ERROR: Code.UNAVAILABLE,
  TTRPC_PROTOCOL_ERROR: Code.INTERNAL,
  TTRPC_CONNECTION_CLOSED: Code.UNAVAILABLE,
  INTERNAL: Code.INTERNAL,
};

/**
 * The single error → status mapping: TtrpcError keeps its status; a VesselError maps by
 * its code; anything else is UNKNOWN with its message.
 */
export function statusFromError(err: unknown): Status {
  if (err instanceof TtrpcError) {
    return { code: err.status, message: err.message, details: err.details };
  }
  if (err instanceof VesselError) {
    return { code: STATUS_BY_VESSEL_CODE[err.code] ?? Code.UNKNOWN, message: err.message, details: [] };
  }
  if (err instanceof Error) {
    return { code: Code.UNKNOWN, message: err.message, details: [] };
  }
  return { code: Code.UNKNOWN, message: String(err), details: [] };
}

export function errorFromStatus(status: Status): TtrpcError {
  return new TtrpcError(status.code, status.message, status.details);
}
