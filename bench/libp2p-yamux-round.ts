// One throughput round of @chainsafe/libp2p-yamux, measured exactly like tsRound() in
// bench/mux-throughput.ts measures src/mux: AF_UNIX listener in a private temp dir, receiver
// (server muxer) in a worker thread, sender (client muxer) on this thread opening `streams`
// streams and writing `bytes` in total in 64 KiB chunks, honouring backpressure, then closing
// each stream's write side; timed from just before the first stream is opened to the last
// 'stream-done' message. Yamux config: see ./libp2p-yamux-config.ts (Go defaults).
import net from 'node:net';
import path from 'node:path';
import fs from 'node:fs';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { makePrivateTempDir } from '../test/support/tmpdir.js';
import { socketToMultiaddrConnection } from './libp2p-socket-adapter.js';
import { libp2pYamuxFactory } from './libp2p-yamux-config.js';

const CHUNK = 64 * 1024;

type Libp2pStream = Awaited<ReturnType<typeof libp2pYamuxFactory.createStreamMuxer>>['streams'][number];

/**
 * Resolves on the stream's next 'drain' (rejects if it closes first). This is what
 * stream.onDrain() does, but onDrain() calls Promise.withResolvers(), which Node 20 lacks
 * (V8 11.3; it arrived in Node 22), so on Node 20 it throws "Promise.withResolvers is not a
 * function" the first time backpressure is hit.
 */
function drained(stream: Libp2pStream): Promise<void> {
  if (!stream.writableNeedsDrain) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      stream.removeEventListener('close', onClose);
      resolve();
    };
    const onClose = (evt: { error?: Error }): void => {
      stream.removeEventListener('drain', onDrain);
      reject(evt.error ?? new Error('stream closed while waiting for drain'));
    };
    stream.addEventListener('drain', onDrain, { once: true });
    stream.addEventListener('close', onClose, { once: true });
  });
}

export interface Libp2pYamuxRoundResult {
  mibps: number;
  seconds: number;
  sentBytes: number;
  receivedBytes: number;
  streams: number;
}

/** The worker is compiled JS; from TypeScript (vitest) use the built copy under dist/. */
function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  const sibling = path.join(path.dirname(here), 'libp2p-yamux-worker.js');
  if (fs.existsSync(sibling)) return sibling;
  const built = path.join(path.dirname(here), '..', 'dist', 'bench', 'libp2p-yamux-worker.js');
  if (fs.existsSync(built)) return built;
  throw new Error(`libp2p-yamux-worker.js not found next to ${here} nor at ${built}: run tsc -p . first`);
}

/** The receiving thread: kept across rounds by the benchmark so both threads warm up. */
export interface Libp2pReceiver {
  worker: Worker;
  socketPath: string;
  /** Rejects if the worker dies. */
  failed: Promise<never>;
  stop(): Promise<void>;
}

export async function startLibp2pReceiver(): Promise<Libp2pReceiver> {
  const tmp = await makePrivateTempDir('bench-libp2p-yamux');
  const socketPath = path.join(tmp.dir, 'mux.sock');
  const worker = new Worker(workerFile(), { workerData: { socketPath } });
  const failed = new Promise<never>((_, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`libp2p-yamux worker exited (${code})`)));
  });
  failed.catch(() => {});
  const stop = async () => {
    worker.postMessage({ type: 'stop' });
    await worker.terminate();
    await tmp.remove();
  };
  try {
    await Promise.race([new Promise<void>((resolve) => worker.on('message', (m: { type: string }) => m.type === 'listening' && resolve())), failed]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { worker, socketPath, failed, stop };
}

/** One round on a running receiver: a fresh connection and muxers, `bytes` over `streams`. */
export async function libp2pYamuxRoundOn(receiver: Libp2pReceiver, bytes: number, streams: number): Promise<Libp2pYamuxRoundResult> {
  const { worker, socketPath, failed: workerFailed } = receiver;
  let socket: net.Socket | undefined;
  const onMessage: Array<(m: { type: string; at: number; bytes: number }) => void> = [];
  try {
    socket = net.connect(socketPath);
    await once(socket, 'connect');
    const muxer = libp2pYamuxFactory.createStreamMuxer(socketToMultiaddrConnection(socket, socketPath, 'outbound'));
    const chunk = Buffer.alloc(CHUNK, 0xab);
    const perStream = Math.floor(bytes / streams);
    let finishedStreams = 0;
    let receivedBytes = 0;
    let lastAt = 0;
    const allDone = new Promise<void>((resolve) => {
      const listener = (m: { type: string; at: number; bytes: number }) => {
        if (m.type !== 'stream-done') return;
        lastAt = Math.max(lastAt, m.at);
        receivedBytes += m.bytes;
        if (++finishedStreams === streams) resolve();
      };
      onMessage.push(listener);
      worker.on('message', listener);
    });
    const start = performance.timeOrigin + performance.now();
    await Promise.race([
      Promise.all(
        Array.from({ length: streams }, async () => {
          const stream = await muxer.createStream();
          for (let sent = 0; sent < perStream; sent += CHUNK) {
            if (!stream.send(sent + CHUNK <= perStream ? chunk : chunk.subarray(0, perStream - sent))) await drained(stream);
          }
          await stream.close();
        }),
      ),
      workerFailed,
    ]);
    await Promise.race([allDone, workerFailed]);
    const seconds = (lastAt - start) / 1000;
    await muxer.close({ signal: AbortSignal.timeout(5_000) }).catch((err: Error) => muxer.abort(err));
    const sentBytes = perStream * streams;
    if (receivedBytes !== sentBytes) throw new Error(`libp2p-yamux round: received ${receivedBytes} of ${sentBytes} bytes`);
    return { mibps: sentBytes / 2 ** 20 / seconds, seconds, sentBytes, receivedBytes, streams };
  } finally {
    for (const l of onMessage) worker.off('message', l);
    socket?.destroy();
  }
}

/** One round with a receiver thread of its own (cold). */
export async function libp2pYamuxRoundDetailed(bytes: number, streams: number): Promise<Libp2pYamuxRoundResult> {
  const receiver = await startLibp2pReceiver();
  try {
    return await libp2pYamuxRoundOn(receiver, bytes, streams);
  } finally {
    await receiver.stop();
  }
}

/** MiB/s of one round moving `bytes` over `streams` concurrent streams. */
export async function libp2pYamuxRound(bytes: number, streams: number): Promise<number> {
  return (await libp2pYamuxRoundDetailed(bytes, streams)).mibps;
}
