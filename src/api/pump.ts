// pumpToCall: guest stream → gRPC call, with flow control and adaptive batching. Each
// gRPC message costs grpc-js CPU (measured: ~0.6 ms per 32 KiB message for server and
// client together, several times less per byte at 256 KiB and up), so pieces are not sent
// one by one: at most MAX_IN_FLIGHT messages are in the call's hands (written, write
// callback not yet called); what arrives meanwhile is gathered into the next message, up
// to MAX_MESSAGE. A slow trickle goes out at once, a fast stream in large messages. When
// MAX_MESSAGE is gathered and nothing can be sent, the guest stream is paused, which
// stops its mux window and so the guest writer: memory per call stays bounded.
import type { Readable } from 'node:stream';

export const MAX_MESSAGE = 1024 * 1024;
const MAX_IN_FLIGHT = 2;
const BULK_MESSAGE = 256 * 1024;
const HOLD_MS = 2;

interface CallSink<T> {
  write(message: T, callback?: (err?: Error | null) => void): boolean;
}

/**
 * Copies `from` into `call` until `from` ends; resolves once every byte has been written
 * to the call (end the call after that, never on `from`'s 'end').
 */
export function pumpToCall<T>(from: Readable, call: CallSink<T>, wrap: (chunk: Buffer) => T): Promise<void> {
  return new Promise<void>((resolve) => {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let inFlight = 0;
    let ended = false;
    let settled = false;

    const send = () => {
      while (pendingBytes > 0 && inFlight < MAX_IN_FLIGHT) {
        const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
        const body = all.length > MAX_MESSAGE ? all.subarray(0, MAX_MESSAGE) : all;
        pending = all.length > MAX_MESSAGE ? [all.subarray(MAX_MESSAGE)] : [];
        pendingBytes -= body.length;
        inFlight++;
        call.write(wrap(body), () => {
          inFlight--;
          send();
        });
      }
      if (pendingBytes >= MAX_MESSAGE) from.pause();
      else if (!ended && from.isPaused()) from.resume();
      if (ended && pendingBytes === 0 && !settled) {
        settled = true;
        resolve();
      }
    };

    // Bulk detection: a piece that follows the previous one closely is held for up to
    // HOLD_MS (or until BULK_MESSAGE bytes are gathered), so that a fast stream goes out in
    // large messages; the first piece after a pause is sent at once (no added latency for
    // interactive use).
    let lastPieceAt = 0;
    let holdTimer: NodeJS.Timeout | undefined;
    const release = () => {
      holdTimer = undefined;
      send();
    };
    from.on('data', (chunk: Buffer) => {
      pending.push(chunk);
      pendingBytes += chunk.length;
      const now = performance.now();
      const bulk = now - lastPieceAt < HOLD_MS;
      lastPieceAt = now;
      if (!bulk || pendingBytes >= BULK_MESSAGE) {
        if (holdTimer) clearTimeout(holdTimer);
        release();
      } else {
        holdTimer ??= setTimeout(release, HOLD_MS);
      }
    });
    from.once('end', () => {
      ended = true;
      if (holdTimer) clearTimeout(holdTimer);
      send();
    });
  });
}
