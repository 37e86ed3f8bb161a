// Figure: yamux throughput, TypeScript (src/mux) vs Go (hashicorp/yamux) vs
// @chainsafe/libp2p-yamux, same bytes over the same kind of socket (AF_UNIX stream, listener
// + dial, sender and receiver on separate threads, receivers kept warm across rounds), rounds
// interleaved; every round fails unless its receiver counted every byte sent. Prints one JSON
// object. Goal: ratio (ours / Go) >= 1.0.
import net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { MuxSession } from '../src/mux/index.js';
import { buildGoPeer, runGoPeerJson } from '../test/support/go-peer.js';
import { makePrivateTempDir } from '../test/support/tmpdir.js';
import { median, printFigure, round } from './stats.js';
import { libp2pYamuxRoundOn, startLibp2pReceiver } from './libp2p-yamux-round.js';

const BYTES = Number(process.env.BENCH_BYTES ?? 256 * 2 ** 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const STREAMS = Number(process.env.BENCH_STREAMS ?? 1);
/** Untimed rounds first: throughput of fresh threads keeps rising for several hundred MiB (JIT warm-up; cause not pinned down). */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const CHUNK = 64 * 1024;

// The receiver thread lives for the whole run (as the sender thread does), so the warm-up
// rounds warm both threads; each round still gets a fresh connection and sessions.
interface Receiver {
  worker: Worker;
  socketPath: string;
  stop(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const tmp = await makePrivateTempDir('bench-mux');
  const socketPath = path.join(tmp.dir, 'mux.sock');
  const worker = new Worker(path.join(path.dirname(fileURLToPath(import.meta.url)), 'mux-throughput-worker.js'), { workerData: { socketPath } });
  await new Promise<void>((resolve) => worker.on('message', (m: { type: string }) => m.type === 'listening' && resolve()));
  return {
    worker,
    socketPath,
    async stop() {
      worker.postMessage({ type: 'stop' });
      await worker.terminate();
      await tmp.remove();
    },
  };
}

async function tsRound(receiver: Receiver): Promise<number> {
  const { worker, socketPath } = receiver;
  let onMessage: ((m: { type: string; at: number; bytes: number }) => void) | undefined;
  try {
    let finishedStreams = 0;
    let receivedBytes = 0;
    let lastAt = 0;
    const allDone = new Promise<void>((resolve) => {
      onMessage = (m) => {
        if (m.type !== 'stream-done') return;
        lastAt = Math.max(lastAt, m.at);
        receivedBytes += m.bytes;
        if (++finishedStreams === STREAMS) resolve();
      };
      worker.on('message', onMessage);
    });
    const socket = net.connect(socketPath);
    await once(socket, 'connect');
    const session = new MuxSession(socket, { role: 'client' });
    const chunk = Buffer.alloc(CHUNK, 0xab);
    const perStream = Math.floor(BYTES / STREAMS);
    const sentBytes = perStream * STREAMS;
    const start = performance.timeOrigin + performance.now();
    await Promise.all(
      Array.from({ length: STREAMS }, async () => {
        const stream = await session.open();
        for (let sent = 0; sent < perStream; sent += CHUNK) {
          if (!stream.write(sent + CHUNK <= perStream ? chunk : chunk.subarray(0, perStream - sent))) await once(stream, 'drain');
        }
        stream.end();
      }),
    );
    await allDone;
    const seconds = (lastAt - start) / 1000;
    await session.close();
    if (receivedBytes !== sentBytes) throw new Error(`TS yamux round: the receiver counted ${receivedBytes} of ${sentBytes} bytes`);
    return sentBytes / 2 ** 20 / seconds;
  } finally {
    if (onMessage !== undefined) worker.off('message', onMessage);
  }
}

async function goRound(): Promise<number> {
  const [out] = (await runGoPeerJson(['bench-mux', '--bytes', String(BYTES), '--streams', String(STREAMS)])) as { mibps: number; bytes: number }[];
  if (!out) throw new Error('bench-mux printed nothing');
  // bench-mux fails by itself unless its receiver got every byte; this checks it moved what we asked
  if (out.bytes !== BYTES) throw new Error(`Go bench-mux reports ${out.bytes} bytes, ${BYTES} were asked`);
  return out.mibps;
}

async function main(): Promise<void> {
  await buildGoPeer();
  const receiver = await startReceiver();
  const libp2pReceiver = await startLibp2pReceiver();
  const ts: number[] = [];
  const go: number[] = [];
  const libp2p: number[] = [];
  const warmup: number[] = [];
  const libp2pWarmup: number[] = [];
  try {
    for (let i = 0; i < WARMUP; i++) {
      // JIT, both threads of each implementation
      warmup.push(await tsRound(receiver));
      libp2pWarmup.push((await libp2pYamuxRoundOn(libp2pReceiver, BYTES, STREAMS)).mibps);
    }
    for (let i = 0; i < ROUNDS; i++) {
      go.push(await goRound());
      ts.push(await tsRound(receiver));
      libp2p.push((await libp2pYamuxRoundOn(libp2pReceiver, BYTES, STREAMS)).mibps);
    }
  } finally {
    await receiver.stop();
    await libp2pReceiver.stop();
  }
  printFigure({
    figure: 'mux-throughput',
    bytesPerRound: BYTES,
    streams: STREAMS,
    rounds: ROUNDS,
    tsWarmupMiBps: warmup.map((v) => round(v)),
    tsMiBps: ts.map((v) => round(v)),
    goMiBps: go.map((v) => round(v)),
    libp2pWarmupMiBps: libp2pWarmup.map((v) => round(v)),
    libp2pMiBps: libp2p.map((v) => round(v)),
    tsMedianMiBps: round(median(ts)),
    goMedianMiBps: round(median(go)),
    libp2pMedianMiBps: round(median(libp2p)),
    ratioTsOverGo: round(median(ts) / median(go), 3),
    ratioTsOverLibp2p: round(median(ts) / median(libp2p), 3),
    goal: '>= 1.0',
  });
}

await main();
