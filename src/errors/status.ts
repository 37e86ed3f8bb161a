// The one code → status table (containerd's errdefs/errgrpc in one place). gRPC and ttrpc
// carry the same google.rpc.Code numbers, so both edges map with this table: an error
// leaving vessel by its code, a status arriving from a peer back to a code.

import { VesselError, type VesselErrorCode } from './error.js';

/** google.rpc.Code: the status numbers of gRPC and ttrpc. */
export enum StatusCode {
  OK = 0,
  CANCELLED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  NOT_FOUND = 5,
  ALREADY_EXISTS = 6,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  FAILED_PRECONDITION = 9,
  ABORTED = 10,
  OUT_OF_RANGE = 11,
  UNIMPLEMENTED = 12,
  INTERNAL = 13,
  UNAVAILABLE = 14,
  DATA_LOSS = 15,
  UNAUTHENTICATED = 16,
}

/** How each code travels as a status. A Record: a new code does not compile until it is placed here. */
export const STATUS_BY_CODE: Readonly<Record<VesselErrorCode, StatusCode>> = {
  CANCELLED: StatusCode.CANCELLED,
  UNKNOWN: StatusCode.UNKNOWN,
  INVALID_ARGUMENT: StatusCode.INVALID_ARGUMENT,
  DEADLINE_EXCEEDED: StatusCode.DEADLINE_EXCEEDED,
  NOT_FOUND: StatusCode.NOT_FOUND,
  ALREADY_EXISTS: StatusCode.ALREADY_EXISTS,
  PERMISSION_DENIED: StatusCode.PERMISSION_DENIED,
  RESOURCE_EXHAUSTED: StatusCode.RESOURCE_EXHAUSTED,
  FAILED_PRECONDITION: StatusCode.FAILED_PRECONDITION,
  ABORTED: StatusCode.ABORTED,
  OUT_OF_RANGE: StatusCode.OUT_OF_RANGE,
  UNIMPLEMENTED: StatusCode.UNIMPLEMENTED,
  INTERNAL: StatusCode.INTERNAL,
  UNAVAILABLE: StatusCode.UNAVAILABLE,
  DATA_LOSS: StatusCode.DATA_LOSS,
  UNAUTHENTICATED: StatusCode.UNAUTHENTICATED,
  CONFIG_AFTER_START: StatusCode.FAILED_PRECONDITION,
  NOT_STARTED: StatusCode.FAILED_PRECONDITION,
  ALREADY_STARTED: StatusCode.FAILED_PRECONDITION,
  NOT_REUSABLE: StatusCode.FAILED_PRECONDITION,
  STATE_DIR_IN_USE: StatusCode.FAILED_PRECONDITION,
  SNAPSHOT_MISMATCH: StatusCode.FAILED_PRECONDITION,
  SNAPSHOT_CORRUPT: StatusCode.DATA_LOSS,
  START_FAILED: StatusCode.UNAVAILABLE,
  VM_EXITED: StatusCode.UNAVAILABLE,
  GUEST_PANICKED: StatusCode.UNAVAILABLE,
  GUEST_UNRESPONSIVE: StatusCode.UNAVAILABLE,
  DEVICE_FAILED: StatusCode.UNAVAILABLE,
  COMMAND_NOT_FOUND: StatusCode.NOT_FOUND,
  COMMAND_NOT_EXECUTABLE: StatusCode.INVALID_ARGUMENT,
  STREAM_REFUSED: StatusCode.FAILED_PRECONDITION,
  MUX_PROTOCOL_ERROR: StatusCode.INTERNAL,
  MUX_SESSION_CLOSED: StatusCode.UNAVAILABLE,
  MUX_GO_AWAY: StatusCode.UNAVAILABLE,
  MUX_STREAM_RESET: StatusCode.UNAVAILABLE,
  MUX_STREAM_LIMIT: StatusCode.RESOURCE_EXHAUSTED,
  MUX_KEEPALIVE_TIMEOUT: StatusCode.UNAVAILABLE,
  MUX_TRANSPORT_ERROR: StatusCode.UNAVAILABLE,
  TTRPC_PROTOCOL_ERROR: StatusCode.INTERNAL,
  TTRPC_CONNECTION_CLOSED: StatusCode.UNAVAILABLE,
  VSOCK_PROTOCOL_ERROR: StatusCode.INTERNAL,
  IMAGE_BUILD_FAILED: StatusCode.INTERNAL,
  IMAGE_CORRUPT: StatusCode.DATA_LOSS,
  // The image is a precondition of every VM, not the object the call named.
  IMAGE_NOT_FOUND: StatusCode.FAILED_PRECONDITION,
  TOOL_MISSING: StatusCode.FAILED_PRECONDITION,
};

export const VESSEL_ERROR_CODES = Object.keys(STATUS_BY_CODE) as VesselErrorCode[];

/** A VesselError by its code; anything else (a bug, or a foreign error) is UNKNOWN, as in grpc-go. */
export function statusCodeOf(err: unknown): StatusCode {
  return err instanceof VesselError ? STATUS_BY_CODE[err.code] : StatusCode.UNKNOWN;
}

/** The generic code a received status stands for (OK, which is no error, reads as UNKNOWN). */
export function codeForStatus(status: number): VesselErrorCode {
  const name = StatusCode[status] as VesselErrorCode | 'OK' | undefined;
  return name === undefined || name === 'OK' ? 'UNKNOWN' : name;
}

/** A status a peer sent, as the VesselError the caller sees. */
export function errorFromStatus(status: number, message: string, options?: { cause?: unknown }): VesselError {
  return new VesselError(codeForStatus(status), message, options);
}
