// Ending a streaming call with an error status (grpc-js: an 'error' event on the server
// call sends the status), at most once.
import type { ServerDuplexStream, ServerWritableStream } from '@grpc/grpc-js';
import { toServiceError } from './status.js';

export function failer<Req, Res>(call: ServerDuplexStream<Req, Res> | ServerWritableStream<Req, Res>): (err: unknown) => void {
  let done = false;
  return (err: unknown) => {
    if (done) return;
    done = true;
    call.emit('error', toServiceError(err));
  };
}
