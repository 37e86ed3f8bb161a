// Figure: `exec true` round trip through the gRPC API (an Exec call: start message, then the
// stream of started … exit, to the call's OK status) against the TypeScript API on the
// daemon's own instance (instance.client().exec + wait), same VM, interleaved in batches
// whose order alternates. The gRPC path also opens the process's stdout and stderr raw
// streams (Exec returns output as messages), which the plain TypeScript path does not; a
// third path, the TypeScript API opening those two streams too, separates the two costs.
// The client is grpc-js in this process, over the daemon's unix socket. Prints one JSON
// object; the ratio is informative (no goal).
import os from 'node:os';
import { callEnded, startBenchDaemon, type BenchDaemon } from './grpc-common.js';
import { execWithStreams } from '../src/agent/index.js';
import { median, printFigure, round } from './stats.js';
import { execTrueMs } from './exec-true.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PER_ROUND = Number(process.env.BENCH_CALLS ?? 40);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 20);
let seq = 0;

async function viaGrpc(b: BenchDaemon): Promise<number> {
  const t0 = performance.now();
  const call = b.rpc.Exec();
  const ended = callEnded(call);
  let exitCode: number | undefined;
  call.on('data', (m: { msg: string; exit?: { exitCode: number } }) => {
    if (m.msg === 'exit') exitCode = m.exit!.exitCode;
  });
  call.write({ start: { instanceId: b.instanceId, args: ['true'] } });
  call.end();
  await ended;
  const ms = performance.now() - t0;
  if (exitCode !== 0) throw new Error(`true exited ${exitCode}`);
  return ms;
}

function viaTs(b: BenchDaemon): Promise<number> {
  return execTrueMs(b.instance.client(), `ts-true-${++seq}`);
}

/** The TypeScript API doing what the daemon's Exec does: stdout and stderr on raw streams. */
async function viaTsWithStreams(b: BenchDaemon): Promise<number> {
  const t0 = performance.now();
  const exec = await execWithStreams(b.instance.client(), { execId: `ts-io-${++seq}`, args: ['true'] }, { stdout: 'open', stderr: 'open' });
  exec.stdout!.resume();
  exec.stderr!.resume();
  const st = await exec.exited;
  const ms = performance.now() - t0;
  exec.close();
  if (st.exitCode !== 0) throw new Error(`true exited ${st.exitCode}`);
  return ms;
}

function p90(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.9)]!;
}

async function main(): Promise<void> {
  const b = await startBenchDaemon();
  try {
    for (let i = 0; i < WARMUP; i++) {
      await viaGrpc(b);
      await viaTs(b);
      await viaTsWithStreams(b);
    }
    const grpc: number[] = [];
    const ts: number[] = [];
    const tsIo: number[] = [];
    const paths: [typeof viaTs, number[]][] = [
      [viaGrpc, grpc],
      [viaTs, ts],
      [viaTsWithStreams, tsIo],
    ];
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? paths : [...paths].reverse();
      for (const [f, into] of order) for (let i = 0; i < PER_ROUND; i++) into.push(await f(b));
    }
    const m = { grpc: median(grpc), ts: median(ts), tsIo: median(tsIo) };
    printFigure({
      figure: 'grpc-exec-latency',
      accel: b.instance.describe().accelerator,
      calls: grpc.length,
      grpcMedianMs: round(m.grpc, 3),
      tsApiMedianMs: round(m.ts, 3),
      grpcP90Ms: round(p90(grpc), 3),
      tsApiP90Ms: round(p90(ts), 3),
      tsApiWithStdioStreamsMedianMs: round(m.tsIo, 3),
      ratioGrpcOverTs: round(m.grpc / m.ts, 3),
      grpcExtraMs: round(m.grpc - m.ts, 3),
      // what gRPC itself adds once the TypeScript path does the same stream work
      ratioGrpcOverTsWithStdioStreams: round(m.grpc / m.tsIo, 3),
      loadAverage1m: round(os.loadavg()[0]!),
      goal: 'informative',
    });
  } finally {
    await b.stop();
  }
}

await main();
