// Small byte-stream helpers for tests: exact reads, draining with CRC, random payloads.
import type { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';

export { readExactly } from '../../src/agent/read-exactly.js';

export interface DrainResult {
  bytes: number;
  crc32: number;
  tail: Buffer;
}

/**
 * Reads a stream to its end, computing the CRC-32 of everything except the last
 * `keepTail` bytes, which are returned separately (for trailers).
 */
export async function drain(stream: AsyncIterable<Buffer>, keepTail = 0): Promise<DrainResult> {
  let crc = 0;
  let bytes = 0;
  let tail = Buffer.alloc(0);
  for await (const chunk of stream) {
    const joined = tail.length > 0 ? Buffer.concat([tail, chunk]) : chunk;
    const bodyLen = Math.max(0, joined.length - keepTail);
    if (bodyLen > 0) {
      crc = zlib.crc32(joined.subarray(0, bodyLen), crc);
      bytes += bodyLen;
    }
    tail = Buffer.from(joined.subarray(bodyLen));
  }
  return { bytes, crc32: crc, tail };
}

/** Writes a buffer in chunks, honouring backpressure, then ends the stream (FIN). */
export async function writeAll(stream: Writable, data: Buffer, chunkSize = 64 * 1024, end = true): Promise<void> {
  for (let off = 0; off < data.length; off += chunkSize) {
    if (stream.destroyed) throw new Error('write on a destroyed stream');
    const ok = stream.write(data.subarray(off, Math.min(data.length, off + chunkSize)));
    if (!ok) await waitDrain(stream);
  }
  if (end)
    await new Promise<void>((resolve, reject) => {
      if (stream.destroyed) return reject(new Error('end on a destroyed stream'));
      stream.end((err?: Error | null) => (err ? reject(err) : resolve()));
    });
}

function waitDrain(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stream.destroyed) return reject(new Error('stream destroyed while waiting for drain'));
    const cleanup = () => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => {
      cleanup();
      reject(new Error('stream closed while waiting for drain'));
    };
    stream.on('drain', onDrain);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

export function randomPayload(size: number): Buffer {
  return randomBytes(size);
}

export function crc32(data: Uint8Array, prev = 0): number {
  return zlib.crc32(data, prev);
}
