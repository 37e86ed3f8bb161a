// The @chainsafe/libp2p-yamux comparison round (bench/libp2p-yamux-round.ts) and its
// net.Socket -> MultiaddrConnection adapter (bench/libp2p-socket-adapter.ts).
// The round's worker runs from dist/ (npm test builds first).
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { socketToMultiaddrConnection } from '../../../bench/libp2p-socket-adapter.js';
import { libp2pYamuxFactory } from '../../../bench/libp2p-yamux-config.js';
import { libp2pYamuxRoundDetailed } from '../../../bench/libp2p-yamux-round.js';
import { makePrivateTempDir } from '../../support/tmpdir.js';

type Muxer = ReturnType<typeof libp2pYamuxFactory.createStreamMuxer>;
type Stream = Muxer['streams'][number];

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function muxerPair(): Promise<{ client: Muxer; server: Muxer; clientSocket: net.Socket; serverSocket: net.Socket }> {
  const tmp = await makePrivateTempDir('libp2p-adapter');
  cleanups.push(() => tmp.remove());
  const socketPath = path.join(tmp.dir, 'mux.sock');
  const listener = net.createServer();
  listener.listen(socketPath);
  await once(listener, 'listening');
  cleanups.push(() => new Promise<void>((r) => listener.close(() => r())));
  const accepted = once(listener, 'connection') as Promise<[net.Socket]>;
  const clientSocket = net.connect(socketPath);
  await once(clientSocket, 'connect');
  const [serverSocket] = await accepted;
  cleanups.push(() => {
    clientSocket.destroy();
    serverSocket.destroy();
  });
  const client = libp2pYamuxFactory.createStreamMuxer(socketToMultiaddrConnection(clientSocket, socketPath, 'outbound'));
  const server = libp2pYamuxFactory.createStreamMuxer(socketToMultiaddrConnection(serverSocket, socketPath, 'inbound'));
  return { client, server, clientSocket, serverSocket };
}

/** Everything the stream delivers until its read side ends. */
function collect(stream: Stream): Promise<Buffer> {
  const parts: Buffer[] = [];
  stream.addEventListener('message', (e) => {
    parts.push(Buffer.from(e.data.subarray()));
  });
  return new Promise((resolve, reject) => {
    stream.addEventListener('end', () => resolve(Buffer.concat(parts)));
    stream.addEventListener('close', (e) => {
      if (e.error) reject(e.error);
    });
  });
}

async function sendAll(stream: Stream, data: Buffer, chunk = 64 * 1024): Promise<void> {
  for (let off = 0; off < data.length; off += chunk) {
    if (!stream.send(data.subarray(off, off + chunk))) {
      await new Promise<void>((r) => stream.addEventListener('drain', () => r(), { once: true }));
    }
  }
  await stream.close();
}

describe('libp2p socket adapter', () => {
  it('carries several yamux streams both ways, byte for byte, with backpressure', async () => {
    const { client, server } = await muxerPair();
    const STREAMS = 3;
    const SIZE = 3 * 2 ** 20 + 12_345; // far beyond the 256 KiB window: needs window updates
    const echoed: Promise<void>[] = [];
    server.addEventListener('stream', (evt) => {
      const stream = evt.detail;
      // echo back once the client has finished sending (half-close on both sides)
      echoed.push(collect(stream).then((got) => sendAll(stream, got)));
    });
    const payloads = Array.from({ length: STREAMS }, () => randomBytes(SIZE));
    const results = await Promise.all(
      payloads.map(async (p) => {
        const stream = await client.createStream();
        const back = collect(stream);
        await sendAll(stream, p);
        return back;
      }),
    );
    await Promise.all(echoed);
    for (let i = 0; i < STREAMS; i++) expect(results[i]!.equals(payloads[i]!)).toBe(true);
  });

  it('closing the socket closes both muxers', async () => {
    const { client, server, clientSocket } = await muxerPair();
    const serverClosed = new Promise<void>((r) => {
      const t = setInterval(() => {
        if (server.status === 'closed') {
          clearInterval(t);
          r();
        }
      }, 5);
    });
    clientSocket.destroy();
    await serverClosed;
    await new Promise((r) => setImmediate(r));
    expect(client.status).toBe('closed');
  });
});

describe('libp2pYamuxRound', () => {
  it.each([1, 3])('moves 8 MiB over %i stream(s) and every byte arrives', async (streams) => {
    const bytes = 8 * 2 ** 20;
    const r = await libp2pYamuxRoundDetailed(bytes, streams);
    expect(r.sentBytes).toBe(Math.floor(bytes / streams) * streams);
    expect(r.receivedBytes).toBe(r.sentBytes);
    expect(r.mibps).toBeGreaterThan(0);
    expect(Number.isFinite(r.mibps)).toBe(true);
  });
});
