// vessel errors leave the gRPC API here, once: the status is the one table's
// (src/errors/status.ts; gRPC and ttrpc share the numbers) and the vessel code travels in
// the `vessel-error-code` trailer. Messages are kept: they say what to fix.
import { Metadata, type ServiceError, type status as GrpcStatus } from '@grpc/grpc-js';
import { VesselError, statusCodeOf } from '../errors/index.js';

export function grpcStatusOf(err: unknown): GrpcStatus {
  return statusCodeOf(err) as number as GrpcStatus;
}

/** A grpc-js ServiceError for `err`; the vessel code travels in the `vessel-error-code` trailer. */
export function toServiceError(err: unknown): Partial<ServiceError> {
  const metadata = new Metadata();
  if (err instanceof VesselError) metadata.set('vessel-error-code', err.code);
  return { code: grpcStatusOf(err), details: err instanceof Error ? err.message : String(err), metadata };
}
