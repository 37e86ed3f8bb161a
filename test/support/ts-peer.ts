// The TypeScript mirror of `vessel-testpeer server`: a yamux server session per connection
// (first stream = ttrpc InteropTest, later streams = raw streams with the id handshake and
// the same modes as the Go peer), or plain ttrpc per connection (ttrpcOnly).
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import type { Duplex } from 'node:stream';
import { MuxSession, type SessionOptions } from '../../src/mux/index.js';
import { TtrpcServer, loadProtos } from '../../src/ttrpc/index.js';
import { isVesselError } from '../../src/errors/index.js';
import { interopProto } from './repo.js';
import { makePrivateTempDir } from './tmpdir.js';
import { interopServiceImpl } from './interop-service.js';
import { RawStreamRecord, RawStreamRegistry, type RawStreamResult } from './raw-registry.js';
import { acceptRawStream, readRawStreamId, refuseRawStream } from './raw-handshake.js';

export interface TsServer {
  readonly socketPath: string;
  readonly registry: RawStreamRegistry;
  readonly ttrpc: TtrpcServer;
  readonly sessions: Set<MuxSession>;
  stop(): Promise<void>;
}

export async function startTsServer(options: { ttrpcOnly?: boolean; session?: Partial<SessionOptions> } = {}): Promise<TsServer> {
  const tmp = await makePrivateTempDir('tspeer');
  const socketPath = path.join(tmp.dir, 'peer.sock');
  const registry = new RawStreamRegistry();
  const ttrpc = new TtrpcServer();
  const root = loadProtos([interopProto]);
  ttrpc.register(root.lookupService('vessel.test.v1.InteropTest'), interopServiceImpl(registry));
  const sessions = new Set<MuxSession>();
  const sockets = new Set<net.Socket>();

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (options.ttrpcOnly) {
      ttrpc.serve(socket);
      return;
    }
    const session = new MuxSession(socket, { ...options.session, role: 'server' });
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    void acceptLoop(session, ttrpc, registry);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    socketPath,
    registry,
    ttrpc,
    sessions,
    async stop() {
      for (const s of sessions) s.destroy();
      for (const s of sockets) s.destroy();
      await ttrpc.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await tmp.remove();
    },
  };
}

async function acceptLoop(session: MuxSession, ttrpc: TtrpcServer, registry: RawStreamRegistry): Promise<void> {
  const names = new Set<string>(); // a NAME is claimed once per session, whatever the mode
  let first = true;
  for (;;) {
    let stream;
    try {
      stream = await session.accept();
    } catch {
      return; // session over
    }
    if (first) {
      first = false;
      ttrpc.serve(stream);
      continue;
    }
    void serveRawStream(session, stream, names, ttrpc, registry).catch(() => stream.destroy());
  }
}

async function serveRawStream(session: MuxSession, stream: Duplex, names: Set<string>, ttrpc: TtrpcServer, registry: RawStreamRegistry): Promise<void> {
  const id = await readRawStreamId(stream);
  const parsed = parseRawStreamId(id);
  if (typeof parsed === 'string') return refuseRawStream(stream, parsed);
  const { mode, name, arg } = parsed;
  if (names.has(name)) return refuseRawStream(stream, 'duplicate stream id');
  names.add(name);
  registry.claimed(name);
  if (mode === 'goaway') session.goAway(); // GoAway first, then accept and echo
  acceptRawStream(stream, id);
  if (mode === 'ttrpc') {
    ttrpc.serve(stream);
    return;
  }
  const record = new RawStreamRecord();
  trackEnd(stream, name, record, registry);
  switch (mode) {
    case 'goaway':
    case 'echo':
      stream.on('data', (chunk: Buffer) => {
        record.read(chunk);
        record.bytesWritten += chunk.length;
        if (!stream.write(chunk)) {
          stream.pause();
          stream.once('drain', () => stream.resume());
        }
      });
      stream.on('end', () => stream.end());
      return;
    case 'source': {
      stream.on('data', (chunk: Buffer) => record.read(chunk));
      const size = arg ?? 0;
      const data = randomBytes(size);
      const trailer = Buffer.allocUnsafe(4);
      trailer.writeUInt32BE(zlib.crc32(data), 0);
      await writeWithBackpressure(stream, data, record);
      record.bytesWritten += 4;
      stream.end(trailer);
      return;
    }
    case 'hold':
      await registry.hold(name);
      return sink(stream, record, 0);
    case 'sink':
      return sink(stream, record, arg ?? 0);
    case 'close':
      stream.end();
      stream.on('data', (chunk: Buffer) => record.read(chunk));
      return;
  }
}

const MODES = ['echo', 'goaway', 'source', 'sink', 'hold', 'close', 'ttrpc'] as const;
type RawMode = (typeof MODES)[number];

/** "mode:NAME[:ARG]" as the Go peer parses it; a string is the refusal text. */
function parseRawStreamId(id: string): { mode: RawMode; name: string; arg?: number } | string {
  const parts = id.split(':');
  const mode = parts[0] as RawMode;
  if (!MODES.includes(mode)) return 'unknown stream mode';
  const name = parts[1];
  if (name === undefined || name === '') return 'malformed stream id';
  if (parts.length === 2 && mode !== 'source') return { mode, name };
  if (parts.length === 3 && (mode === 'source' || mode === 'sink') && /^[0-9]+$/.test(parts[2]!)) {
    const arg = Number(parts[2]);
    if (mode === 'sink' && arg === 0) return 'malformed stream id';
    return { mode, name, arg };
  }
  return 'malformed stream id';
}

function trackEnd(stream: Duplex, name: string, record: RawStreamRecord, registry: RawStreamRegistry): void {
  let failure: RawStreamResult['end'] | undefined;
  let message = '';
  stream.on('error', (err) => {
    failure = isVesselError(err, 'MUX_STREAM_RESET') ? 'reset' : 'error';
    message = err.message;
  });
  stream.on('close', () => {
    if (failure === undefined && !stream.readableEnded) {
      failure = 'error';
      message = 'closed before EOF';
    }
    registry.finish(name, record, failure ?? 'eof', message);
  });
}

async function writeWithBackpressure(stream: Duplex, data: Buffer, record: RawStreamRecord): Promise<void> {
  const chunk = 64 * 1024;
  for (let off = 0; off < data.length; off += chunk) {
    const part = data.subarray(off, Math.min(off + chunk, data.length));
    record.bytesWritten += part.length;
    if (!stream.write(part)) {
      await new Promise<void>((resolve, reject) => {
        const done = () => {
          stream.off('drain', done);
          stream.off('close', closed);
          resolve();
        };
        const closed = () => {
          stream.off('drain', done);
          reject(new Error('stream closed while writing'));
        };
        stream.on('drain', done);
        stream.on('close', closed);
      });
    }
  }
}

/** Reads to EOF (at most `rate` bytes/second when rate > 0), then writes count + CRC-32. */
function sink(stream: Duplex, record: RawStreamRecord, rate: number): void {
  const startedAt = Date.now();
  stream.on('data', (chunk: Buffer) => {
    record.read(chunk);
    if (rate > 0) {
      const dueMs = (record.bytesRead / rate) * 1000 - (Date.now() - startedAt);
      if (dueMs > 0) {
        stream.pause();
        setTimeout(() => stream.resume(), dueMs).unref();
      }
    }
  });
  stream.on('end', () => {
    const out = Buffer.allocUnsafe(12);
    out.writeBigUInt64BE(BigInt(record.bytesRead), 0);
    out.writeUInt32BE(record.crc32 >>> 0, 8);
    record.bytesWritten += 12;
    stream.end(out);
  });
}
