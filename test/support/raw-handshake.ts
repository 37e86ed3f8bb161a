// Test side of the raw-stream id handshake: the opener is src/agent's openClaimedStream;
// the acceptor half below serves the TypeScript mirror of the Go test peer.
import type { Duplex } from 'node:stream';
import { encodeStreamId, openClaimedStream, readStreamId } from '../../src/agent/stream-claim.js';

export const openRawStream = openClaimedStream;

/** Reads the opener's id from an accepted stream. */
export function readRawStreamId(stream: Duplex): Promise<string> {
  return readStreamId(stream);
}

export function acceptRawStream(stream: Duplex, id: string): void {
  stream.write(encodeStreamId(id));
}

export function refuseRawStream(stream: Duplex, reason: string): void {
  stream.end(encodeStreamId(reason.slice(0, 1024) || 'refused'));
}
