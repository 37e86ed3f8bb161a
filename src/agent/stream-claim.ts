// The raw-stream id handshake (architecture.md, nerdbox style): the opener writes a uint32
// big-endian length + the id; the acceptor answers with a uint32 BE length + the same id
// (accept) or an error text (refuse, then it closes the stream). Ids are coordination
// tokens, not secrets; the reply comes from the untrusted guest and is bounded.
import type { Duplex } from 'node:stream';
import { VesselError, type VesselErrorCode } from '../errors/index.js';
import type { MuxSession, MuxStream } from '../mux/index.js';
import { readExactly } from './read-exactly.js';

export const MAX_STREAM_ID_BYTES = 1024;

/** Refusal texts the agent defines (agent/internal/streams) that have a code of their own. */
const REFUSAL_CODES = new Map<string, VesselErrorCode>([
  ['duplicate stream id', 'ALREADY_EXISTS'],
  ['too many unclaimed streams', 'RESOURCE_EXHAUSTED'],
]);

export function encodeStreamId(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  if (body.length === 0 || body.length > MAX_STREAM_ID_BYTES) {
    throw new VesselError('INVALID_ARGUMENT', `stream id must be 1..${MAX_STREAM_ID_BYTES} bytes, got ${body.length}`);
  }
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

/** Reads one length-prefixed handshake string (bounded). */
export async function readStreamId(stream: Duplex): Promise<string> {
  const len = (await readExactly(stream, 4)).readUInt32BE(0);
  if (len === 0 || len > MAX_STREAM_ID_BYTES) {
    throw new VesselError('MUX_PROTOCOL_ERROR', `stream handshake length ${len} out of range 1..${MAX_STREAM_ID_BYTES}`);
  }
  return (await readExactly(stream, len)).toString('utf8');
}

/** Opens a stream on `session` and claims `id`; rejects with the peer's refusal text. */
export async function openClaimedStream(session: MuxSession, id: string): Promise<MuxStream> {
  const hello = encodeStreamId(id);
  const stream = await session.open();
  stream.write(hello);
  let reply: string;
  try {
    reply = await readStreamId(stream);
  } catch (err) {
    stream.destroy();
    throw new VesselError('UNAVAILABLE', `stream ${JSON.stringify(id)}: no handshake reply: ${(err as Error).message}`, { cause: err });
  }
  if (reply !== id) {
    stream.destroy();
    throw new VesselError(REFUSAL_CODES.get(reply) ?? 'STREAM_REFUSED', `stream ${JSON.stringify(id)} refused: ${reply}`);
  }
  return stream;
}
