// Figure: unary ttrpc calls/s of the TypeScript server (src/ttrpc) vs the Go ttrpc server,
// driven by the same Go client (vessel-testpeer bench-ttrpc) with the same payloads over a
// plain unix socket; rounds interleaved. Prints one JSON object. Goal: ratio >= 0.8.
import path from 'node:path';
import net from 'node:net';
import { TtrpcServer, loadProtos } from '../src/ttrpc/index.js';
import { buildGoPeer, runGoPeerJson, startGoServer } from '../test/support/go-peer.js';
import { interopProto } from '../test/support/repo.js';
import { makePrivateTempDir } from '../test/support/tmpdir.js';
import { interopServiceImpl } from '../test/support/interop-service.js';
import { RawStreamRegistry } from '../test/support/raw-registry.js';
import { median, printFigure, round } from './stats.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const PAYLOAD = Number(process.env.BENCH_PAYLOAD ?? 64);

interface ClientFigure {
  calls: number;
  seconds: number;
  rps: number;
  errors: number;
}

function drive(socketPath: string): Promise<ClientFigure> {
  return runGoPeerJson([
    'bench-ttrpc',
    '--connect',
    socketPath,
    '--seconds',
    String(SECONDS),
    '--concurrency',
    String(CONCURRENCY),
    '--payload',
    String(PAYLOAD),
  ]).then((lines) => {
    const fig = lines[0] as ClientFigure | undefined;
    if (!fig) throw new Error('bench-ttrpc printed nothing');
    if (fig.errors > 0) throw new Error(`bench-ttrpc saw ${fig.errors} errors`);
    return fig;
  });
}

async function main(): Promise<void> {
  await buildGoPeer();
  const goServer = await startGoServer({ ttrpcOnly: true });
  const tmp = await makePrivateTempDir('bench-ttrpc');
  const tsServer = new TtrpcServer();
  tsServer.register(loadProtos([interopProto]).lookupService('vessel.test.v1.InteropTest'), interopServiceImpl(new RawStreamRegistry()));
  const tsSocket = path.join(tmp.dir, 'ts.sock');
  const listener: net.Server = await tsServer.listen(tsSocket);
  try {
    const ts: number[] = [];
    const go: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      go.push((await drive(goServer.socketPath)).rps);
      ts.push((await drive(tsSocket)).rps);
    }
    printFigure({
      figure: 'ttrpc-rps',
      seconds: SECONDS,
      rounds: ROUNDS,
      concurrency: CONCURRENCY,
      payloadBytes: PAYLOAD,
      tsRps: ts.map((v) => Math.round(v)),
      goRps: go.map((v) => Math.round(v)),
      tsMedianRps: Math.round(median(ts)),
      goMedianRps: Math.round(median(go)),
      ratioTsOverGo: round(median(ts) / median(go), 3),
      goal: '>= 0.8',
    });
  } finally {
    listener.close();
    await tsServer.close();
    await goServer.stop();
    await tmp.remove();
  }
}

await main();
