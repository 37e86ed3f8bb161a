// Byte plumbing between the host's stdio and the guest process's raw streams, with
// backpressure both ways (pipe() pauses the source while the destination is full).
import type { Duplex, Readable, Writable } from 'node:stream';

/**
 * Copies a guest output stream to a host writable (not ended: it is the host's stdout or
 * stderr). Resolves once the guest side has ended (the agent FINs it when the process's
 * output is drained) or the stream failed (the VM went away: the Wait call reports that).
 * If the host side fails (EPIPE: the reader went away), the rest is read and discarded,
 * so the guest process never blocks on it.
 */
export function copyOut(src: Duplex, dst: Writable): Promise<void> {
  return new Promise<void>((resolve) => {
    const onDstError = () => {
      src.unpipe(dst);
      src.on('data', () => undefined);
      src.resume();
    };
    dst.once('error', onDstError);
    const done = () => {
      dst.off('error', onDstError);
      src.unpipe(dst);
      resolve();
    };
    src.once('end', done);
    src.once('error', done);
    src.once('close', done);
    src.pipe(dst, { end: false });
  });
}

/**
 * Forwards host stdin into the guest process's stdin stream and half-closes that stream
 * (the process sees EOF) when stdin ends. `stop()` detaches from stdin (the run is over:
 * whatever the user still types is not ours).
 */
export function forwardStdin(src: Readable, dst: Duplex): { stop: () => void } {
  const onEnd = () => dst.end();
  const onDstError = () => src.unpipe(dst);
  dst.on('error', onDstError);
  src.once('end', onEnd);
  src.pipe(dst, { end: false });
  return {
    stop: () => {
      src.off('end', onEnd);
      src.unpipe(dst);
      src.pause();
      dst.off('error', onDstError);
    },
  };
}

/** Swallows late errors and closes our side of a stream at teardown. */
export function closeStream(s: Duplex | undefined): void {
  if (!s) return;
  s.on('error', () => undefined);
  if (!s.writableEnded) s.end();
  s.destroy();
}
