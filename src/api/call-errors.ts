// Ending a streaming call with an error status (grpc-js: an 'error' event on the server
// call sends the status), at most once.
import type { ServerDuplexStream, ServerWritableStream } from '@grpc/grpc-js';
import { toServiceError } from './status.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
export function failer(call: ServerDuplexStream<any, any> | ServerWritableStream<any, any>): (err: unknown) => void {
  let done = false;
  return (err: unknown) => {
    if (done) return;
    done = true;
    call.emit('error', toServiceError(err));
  };
}
