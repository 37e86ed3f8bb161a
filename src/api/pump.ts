// pumpToCall: guest stream → gRPC call, with flow control and batching. Guest data arrives
// in socket-read-sized pieces (often ~36 KiB, sometimes a few bytes of a split frame);
// each gRPC message costs grpc-js CPU, so pieces that arrive within one turn of the event
// loop are sent as one message (up to MAX_MESSAGE). When the call's buffer is full the guest
// stream is paused, which stops the mux window and so the guest writer.
import type { Readable } from 'node:stream';

export const MAX_MESSAGE = 1024 * 1024;

interface CallSink<T> {
  write(message: T): boolean;
  once(event: 'drain', listener: () => void): unknown;
}

export function pumpToCall<T>(from: Readable, call: CallSink<T>, wrap: (chunk: Buffer) => T): void {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let scheduled = false;
  let blocked = false;
  const flush = () => {
    scheduled = false;
    while (pendingBytes > 0) {
      const take: Buffer[] = [];
      let size = 0;
      while (pending.length && size + pending[0]!.length <= MAX_MESSAGE) {
        size += pending[0]!.length;
        take.push(pending.shift()!);
      }
      if (take.length === 0) { // a single piece larger than the limit
        const big = pending.shift()!;
        take.push(big.subarray(0, MAX_MESSAGE));
        pending.unshift(big.subarray(MAX_MESSAGE));
        size = MAX_MESSAGE;
      }
      pendingBytes -= size;
      const ok = call.write(wrap(take.length === 1 ? take[0]! : Buffer.concat(take, size)));
      if (!ok && !blocked) {
        blocked = true;
        from.pause();
        call.once('drain', () => { blocked = false; from.resume(); });
      }
    }
    pending = [];
  };
  from.on('data', (chunk: Buffer) => {
    pending.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes >= MAX_MESSAGE) return flush();
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  });
  // Whatever is pending goes out before the stream's 'end' reaches the caller's listeners.
  from.prependListener('end', () => { if (pendingBytes > 0) flush(); });
}
