// Contract: `vessel logs [--socket PATH] [-f] ID` copies the guest console of instance ID
// (the daemon's Console call) to stdout: what was logged so far, and with -f new output
// until the instance stops (exit 0) or SIGINT / SIGTERM / SIGHUP ends the follow (128+N).
// The call pauses while stdout is full; a closed stdout (EPIPE) ends it quietly (exit 0).
import os from 'node:os';
import type { ClientReadableStream } from '@grpc/grpc-js';
import type { vmv1 } from '../gen/index.js';
import { connectDaemon, socketPathOf, type DaemonClient } from './daemon/client.js';
import { reportDaemonError } from './daemon/errors.js';
import { UsageError } from './errors.js';
import { parseFlags } from './flags.js';
import type { CliIo, HostSignal } from './io.js';

export const LOGS_USAGE = `Usage: vessel logs [--socket PATH] [-f] ID

Prints the guest console of instance ID of the daemon (\`vessel serve\`).

Options:
      --socket PATH   the daemon's socket (default $VESSEL_HOME/vessel.sock)
  -f, --follow        keep printing new output until the instance stops (or Ctrl-C)
  -h, --help          show this help
`;

const STOP: HostSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function copyConsole(call: ClientReadableStream<vmv1.ConsoleChunk__Output>, io: CliIo): Promise<number> {
  const handlers = STOP.map(
    (s) =>
      [
        s,
        () => {
          call.cancel();
          finish(128 + os.constants.signals[s]);
        },
      ] as const,
  );
  const onStdoutError = () => {
    call.cancel();
    finish(0);
  };
  let finish: (code: number) => void = () => undefined;
  return new Promise<number>((resolve, reject) => {
    let done = false;
    finish = (code) => {
      if (!done) {
        done = true;
        resolve(code);
      }
    };
    for (const [s, h] of handlers) io.signals.on(s, h);
    io.stdout.on('error', onStdoutError);
    call.on('data', (m: vmv1.ConsoleChunk__Output) => {
      if (!io.stdout.write(m.data)) {
        call.pause();
        io.stdout.once('drain', () => call.resume());
      }
    });
    call.on('end', () => finish(0));
    call.on('error', (err) => {
      if (!done) {
        done = true;
        reject(err);
      }
    });
  }).finally(() => {
    for (const [s, h] of handlers) io.signals.off(s, h);
    io.stdout.off('error', onStdoutError);
  });
}

export async function runLogs(argv: string[], io: CliIo): Promise<number> {
  let client: DaemonClient | undefined;
  let id: string | undefined;
  try {
    const f = parseFlags(argv, { socket: { value: true }, follow: { short: 'f' }, help: { short: 'h' } });
    if (f.has('help')) {
      io.stdout.write(LOGS_USAGE);
      return 0;
    }
    const ids = [...f.positionals, ...f.rest];
    if (ids.length !== 1) throw new UsageError(ids.length === 0 ? 'no instance given (`vessel ps` lists them)' : `one instance at a time, got ${ids.length}`);
    id = ids[0]!;
    client = await connectDaemon(socketPathOf(f.last('socket'), io.cwd));
    return await copyConsole(client.instance.Console({ instanceId: id, follow: f.has('follow') }), io);
  } catch (err) {
    return reportDaemonError(err, 'vessel logs', io.stderr, id);
  } finally {
    client?.close();
  }
}
