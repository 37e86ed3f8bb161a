// Adapts an async function to a grpc-js unary handler with the one error mapping. The
// request and response types come from the handler type it is assigned to (vmv1's
// ManagerHandlers / InstanceHandlers). Declare the function's return type
// (`async (req): Promise<vmv1.StartResponse> =>`): TypeScript checks a returned object
// literal's field names only against a declared return type, not an inferred one.
import type { handleUnaryCall, ServiceError } from '@grpc/grpc-js';
import { toServiceError } from './status.js';

export function unary<Req, Res>(fn: (req: Req) => Promise<Res>): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    fn(call.request).then(
      (res) => callback(null, res),
      (err: unknown) => callback(toServiceError(err) as ServiceError),
    );
  };
}
