// The raw-stream id handshake (architecture.md): the opener writes uint32 BE length + id;
// the acceptor answers with uint32 BE length + the same id (accept) or an error string (refuse).
import type { Duplex } from 'node:stream';
import type { MuxSession, MuxStream } from '../../src/mux/index.js';
import { readExactly } from './stream-io.js';

export const MAX_STREAM_ID_BYTES = 1024;

function frame(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

async function readFramed(stream: Duplex): Promise<string> {
  const len = (await readExactly(stream, 4)).readUInt32BE(0);
  if (len === 0 || len > MAX_STREAM_ID_BYTES) throw new Error(`bad handshake length ${len}`);
  return (await readExactly(stream, len)).toString('utf8');
}

/** Opens a stream and claims `id`; rejects with the peer's refusal text. */
export async function openRawStream(session: MuxSession, id: string): Promise<MuxStream> {
  const stream = await session.open();
  stream.write(frame(id));
  let reply: string;
  try {
    reply = await readFramed(stream);
  } catch (err) {
    stream.destroy();
    throw err;
  }
  if (reply !== id) {
    stream.destroy();
    throw new Error(`stream ${id} refused: ${reply}`);
  }
  return stream;
}

/** Reads the opener's id from an accepted stream. */
export function readRawStreamId(stream: Duplex): Promise<string> {
  return readFramed(stream);
}

export function acceptRawStream(stream: Duplex, id: string): void {
  stream.write(frame(id));
}

export function refuseRawStream(stream: Duplex, reason: string): void {
  stream.end(frame(reason));
}
