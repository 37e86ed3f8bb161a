// Exact-length reads from a Node Readable (used for the stream id handshake).
import type { Readable } from 'node:stream';

/** Reads exactly n bytes, rejecting if the stream ends, errors or closes first. */
export function readExactly(stream: Readable, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      stream.off('readable', tryRead);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const onEnd = () => { cleanup(); reject(new Error(`stream ended before ${n} bytes`)); };
    const onError = (err: Error) => { cleanup(); reject(err); };
    const onClose = () => { cleanup(); reject(new Error(`stream closed before ${n} bytes`)); };
    function tryRead() {
      const buf = stream.read(n) as Buffer | null;
      if (buf === null) return;
      cleanup();
      if (buf.length < n) reject(new Error(`stream ended after ${buf.length} of ${n} bytes`));
      else resolve(buf);
    }
    stream.on('readable', tryRead);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
    tryRead();
  });
}
