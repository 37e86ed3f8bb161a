// Figure: guest→host MiB/s through the gRPC API's StartStream against a raw stream on the
// TypeScript API, same VM, same run, rounds interleaved (the order alternates per round).
// Both paths run the same guest process, `dd if=/dev/zero bs=64k count=N`, with stdout on
// the stream:
//   grpc: StartStream(id) and Exec{args: dd, stdout_stream: id} on a grpc-js client over the
//         daemon's unix socket (client and daemon share this process, as a local tool would
//         share the host's cores);
//   ts:   instance.startStream(id) and instance.client().exec(...) on the daemon's own
//         instance (daemon.registry.get(id).instance).
// Each round is timed from the exec request to the last byte received. Prints one JSON
// object with the host CPU time (this process: daemon and client) per MiB of each path and
// the load average, since the host is shared. Goal: grpc / ts >= 0.80.
import { once } from 'node:events';
import os from 'node:os';
import { countUntil } from './stream-transfers.js';
import { callEnded, startBenchDaemon, type BenchDaemon } from './grpc-common.js';
import { median, printFigure, round } from './stats.js';

const BYTES = Number(process.env.BENCH_BYTES ?? 32 * 2 ** 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
// grpc-js (and V8's JIT behind it) needs a few rounds to warm up: 1 → 3 rounds took its
// in-process throughput from ~50 to ~150 MiB/s in a VM-less loop here.
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const BLOCK = 64 * 1024;
const BLOCKS = Math.ceil(BYTES / BLOCK);
const DD = ['dd', 'if=/dev/zero', `bs=${BLOCK}`, `count=${BLOCKS}`];
let seq = 0;

function mibps(ms: number): number {
  return (BLOCKS * BLOCK) / 2 ** 20 / (ms / 1000);
}

interface Round {
  mibps: number;
  hostCpuMsPerMiB: number;
}

/** This process's CPU time (user + system) since `from`, in ms. */
function cpuMsSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
}

function result(t0: number, t1: number, cpu0: NodeJS.CpuUsage): Round {
  return { mibps: mibps(t1 - t0), hostCpuMsPerMiB: cpuMsSince(cpu0) / ((BLOCKS * BLOCK) / 2 ** 20) };
}

/** gRPC: StartStream + Exec with stdout_stream; counts StreamResponse bytes. */
async function viaGrpc(b: BenchDaemon): Promise<Round> {
  const id = `grpc-${++seq}`;
  const stream = b.rpc.StartStream();
  stream.write({ instanceId: b.instanceId, streamId: id });
  let got = 0;
  let t1 = 0;
  const received = new Promise<void>((resolve, reject) => {
    stream.on('data', (m: { data: Buffer }) => {
      got += m.data.length;
      if (got >= BLOCKS * BLOCK && !t1) {
        t1 = performance.now();
        resolve();
      }
    });
    stream.on('error', reject);
  });
  const streamEnded = callEnded(stream);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const exec = b.rpc.Exec();
  const execEnded = callEnded(exec);
  let exitCode: number | undefined;
  exec.on('data', (m: { msg: string; exit?: { exitCode: number } }) => {
    if (m.msg === 'exit') exitCode = m.exit!.exitCode;
  });
  exec.write({ start: { instanceId: b.instanceId, args: DD, stdoutStream: id } });
  exec.end();
  await received;
  stream.end();
  await Promise.all([execEnded, streamEnded]);
  if (exitCode !== 0) throw new Error(`dd exited ${exitCode}`);
  return result(t0, t1, cpu0);
}

/** TypeScript API: instance.startStream + agent exec with stdoutStream. */
async function viaTs(b: BenchDaemon): Promise<Round> {
  const id = `ts-${++seq}`;
  const s = await b.instance.startStream(id);
  const done = countUntil(s, BLOCKS * BLOCK);
  const agent = b.instance.client();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await agent.exec({ execId: id, args: DD, stdoutStream: id });
  await done;
  const t1 = performance.now();
  const r = result(t0, t1, cpu0);
  const st = await agent.wait(id);
  s.end();
  if (!s.readableEnded) {
    s.resume();
    await once(s, 'end');
  }
  if (st.exitCode !== 0) throw new Error(`dd exited ${st.exitCode}`);
  return r;
}

async function main(): Promise<void> {
  const b = await startBenchDaemon();
  try {
    for (let i = 0; i < WARMUP; i++) {
      await viaGrpc(b);
      await viaTs(b);
    }
    const grpcRounds: Round[] = [];
    const tsRounds: Round[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 2 === 0) {
        grpcRounds.push(await viaGrpc(b));
        tsRounds.push(await viaTs(b));
      } else {
        tsRounds.push(await viaTs(b));
        grpcRounds.push(await viaGrpc(b));
      }
    }
    const grpc = grpcRounds.map((r) => r.mibps);
    const ts = tsRounds.map((r) => r.mibps);
    const ratios = grpc.map((g, i) => g / ts[i]!);
    printFigure({
      figure: 'grpc-stream',
      accel: b.instance.describe().accelerator,
      direction: 'guest→host',
      guestCommand: DD.join(' '),
      bytesPerRound: BLOCKS * BLOCK,
      rounds: ROUNDS,
      warmupRounds: WARMUP,
      grpcMiBps: grpc.map((v) => round(v)),
      tsApiMiBps: ts.map((v) => round(v)),
      medians: { grpc: round(median(grpc)), tsApi: round(median(ts)) },
      ratioOfMedians: round(median(grpc) / median(ts), 3),
      medianOfRoundRatios: round(median(ratios), 3),
      hostCpuMsPerMiB: { grpc: round(median(grpcRounds.map((r) => r.hostCpuMsPerMiB))), tsApi: round(median(tsRounds.map((r) => r.hostCpuMsPerMiB))) },
      loadAverage1m: round(os.loadavg()[0]!),
      goal: '>= 0.80',
    });
  } finally {
    await b.stop();
  }
}

await main();
