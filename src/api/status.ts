// The one place vessel errors become gRPC statuses. A VesselError maps by its code; an
// agent (ttrpc) status passes through (ttrpc uses gRPC's code numbers); anything else is
// INTERNAL. Messages are kept: they say what to fix.
import { status as GrpcStatus, Metadata, type ServiceError } from '@grpc/grpc-js';
import { VesselError, type VesselErrorCode } from '../errors/index.js';
import { TtrpcError } from '../ttrpc/index.js';

const BY_CODE: Partial<Record<VesselErrorCode, GrpcStatus>> = {
  INVALID_ARGUMENT: GrpcStatus.INVALID_ARGUMENT,
  NOT_FOUND: GrpcStatus.NOT_FOUND,
  ALREADY_EXISTS: GrpcStatus.ALREADY_EXISTS,
  CONFIG_AFTER_START: GrpcStatus.FAILED_PRECONDITION,
  NOT_STARTED: GrpcStatus.FAILED_PRECONDITION,
  ALREADY_STARTED: GrpcStatus.FAILED_PRECONDITION,
  NOT_REUSABLE: GrpcStatus.FAILED_PRECONDITION,
  STATE_DIR_IN_USE: GrpcStatus.FAILED_PRECONDITION,
  STREAM_REFUSED: GrpcStatus.FAILED_PRECONDITION,
  TOOL_MISSING: GrpcStatus.FAILED_PRECONDITION,
  UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  START_FAILED: GrpcStatus.UNAVAILABLE,
  VM_EXITED: GrpcStatus.UNAVAILABLE,
  MUX_SESSION_CLOSED: GrpcStatus.UNAVAILABLE,
  MUX_GO_AWAY: GrpcStatus.UNAVAILABLE,
  MUX_STREAM_RESET: GrpcStatus.UNAVAILABLE,
  MUX_KEEPALIVE_TIMEOUT: GrpcStatus.UNAVAILABLE,
  MUX_TRANSPORT_ERROR: GrpcStatus.UNAVAILABLE,
  TTRPC_CONNECTION_CLOSED: GrpcStatus.UNAVAILABLE,
  DEADLINE_EXCEEDED: GrpcStatus.DEADLINE_EXCEEDED,
  RESOURCE_EXHAUSTED: GrpcStatus.RESOURCE_EXHAUSTED,
  MUX_STREAM_LIMIT: GrpcStatus.RESOURCE_EXHAUSTED,
  IMAGE_NOT_FOUND: GrpcStatus.FAILED_PRECONDITION,
  IMAGE_CORRUPT: GrpcStatus.DATA_LOSS,
  IMAGE_BUILD_FAILED: GrpcStatus.INTERNAL,
  MUX_PROTOCOL_ERROR: GrpcStatus.INTERNAL,
  TTRPC_PROTOCOL_ERROR: GrpcStatus.INTERNAL,
  INTERNAL: GrpcStatus.INTERNAL,
};

export function grpcStatusOf(err: unknown): GrpcStatus {
  if (err instanceof TtrpcError) return err.status as number as GrpcStatus;
  if (err instanceof VesselError) return BY_CODE[err.code] ?? GrpcStatus.UNKNOWN;
  return GrpcStatus.INTERNAL;
}

/** A grpc-js ServiceError for `err`; the vessel code travels in the `vessel-error-code` trailer. */
export function toServiceError(err: unknown): Partial<ServiceError> {
  const metadata = new Metadata();
  if (err instanceof VesselError) metadata.set('vessel-error-code', err.code);
  return { code: grpcStatusOf(err), details: err instanceof Error ? err.message : String(err), metadata };
}

export function invalidArgument(message: string): VesselError {
  return new VesselError('INVALID_ARGUMENT', message);
}
