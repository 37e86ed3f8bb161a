// Contract: `vessel exec` (EXEC_USAGE in args.ts): one Exec call to the daemon. stdout and
// stderr messages go to the host's stdout and stderr (the call pauses while they are
// full); with -i host stdin goes as stdin messages (paused while the call is full) and its
// end as close_stdin; -t asks for a pty of the host's window size, puts the host terminal
// in raw mode (Ctrl-C is then a byte for the guest's terminal) and sends a resize on
// SIGWINCH. A host SIGINT / SIGTERM / SIGHUP is sent to the process group (signal_group);
// a second one ends the call (the daemon kills the process group) and exits 128+N.
// Exit: the process's status (128+N for signal N; 137 with a message when the guest's OOM
// killer ended it), 126 / 127 when the guest cannot
// execute or find CMD, 125 when vessel failed (no daemon, no such instance, ...), 2 usage.
import os from 'node:os';
import type { ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import type { OneofCase, vmv1 } from '../../gen/index.js';
import { connectDaemon, socketPathOf, type DaemonClient } from '../daemon/client.js';
import { isServiceError, reportDaemonError, vesselCode } from '../daemon/errors.js';
import { commandFailureExit, guestExit, reportError } from '../errors.js';
import { guestEnvironment } from '../guest-env.js';
import type { CliIo, HostSignal } from '../io.js';
import { enterRawMode, windowSize } from '../run/tty.js';
import { EXEC_USAGE, parseExecArgs, type ExecSpec } from './args.js';

type ExecCall = ClientDuplexStream<vmv1.ExecRequest, vmv1.ExecResponse__Output>;

const FORWARDED: HostSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

class Interrupted extends Error {
  constructor(readonly signal: HostSignal) {
    super(`interrupted by ${signal}`);
  }
}

/** 126 / 127 when the guest agent refused to start the command (the daemon's vessel-error-code says so). */
function cannotExecute(err: unknown): number | undefined {
  return isServiceError(err) ? commandFailureExit(vesselCode(err)) : undefined;
}

export async function runExec(argv: string[], io: CliIo): Promise<number> {
  let spec: ExecSpec;
  try {
    spec = parseExecArgs(argv, io.env);
  } catch (err) {
    return reportError(err, 'vessel exec', io.stderr);
  }
  if (spec.help) {
    io.stdout.write(EXEC_USAGE);
    return 0;
  }
  let client: DaemonClient | undefined;
  try {
    client = await connectDaemon(socketPathOf(spec.socket, io.cwd));
    return await new ExecSession(spec, io, client).run();
  } catch (err) {
    if (err instanceof Interrupted) return 128 + os.constants.signals[err.signal];
    const code = cannotExecute(err);
    if (code !== undefined) {
      io.stderr.write(`vessel exec: ${spec.command[0]}: ${(err as ServiceError).details}\n`);
      return code;
    }
    return reportDaemonError(err, 'vessel exec', io.stderr, spec.id);
  } finally {
    client?.close();
  }
}

class ExecSession {
  private call: ExecCall | undefined;
  private started = false;
  private received: HostSignal | undefined;
  private interrupt: (s: HostSignal) => void = () => undefined;
  private restoreTerminal: () => void = () => undefined;
  private stopStdin: () => void = () => undefined;
  private readonly cleanups: Array<() => void> = [];

  constructor(
    private readonly spec: ExecSpec,
    private readonly io: CliIo,
    private readonly client: DaemonClient,
  ) {}

  async run(): Promise<number> {
    const handlers = FORWARDED.map((s) => [s, () => this.onSignal(s)] as const);
    const onWinch = () => this.onResize();
    for (const [s, h] of handlers) this.io.signals.on(s, h);
    this.io.signals.on('SIGWINCH', onWinch);
    try {
      return guestExit(await this.execute(), 'vessel exec', this.spec.command[0]!, this.io.stderr);
    } finally {
      this.stopStdin();
      this.restoreTerminal();
      this.io.signals.off('SIGWINCH', onWinch);
      for (const [s, h] of handlers) this.io.signals.off(s, h);
      this.call?.cancel(); // no-op once the call has ended
      for (const c of this.cleanups) c();
    }
  }

  private execute(): Promise<vmv1.ExitStatus__Output> {
    const { spec, io } = this;
    const tty = spec.tty ? (windowSize(io.stdout, io.stderr) ?? { rows: 24, cols: 80 }) : undefined;
    const call = this.client.instance.Exec();
    this.call = call;
    return new Promise((resolve, reject) => {
      let exit: vmv1.ExitStatus__Output | undefined;
      // Output with backpressure; a host stream that failed (EPIPE: its reader went away)
      // gets nothing more, and never holds the call paused.
      const waiting = new Set<NodeJS.WritableStream>();
      const broken = new Set<NodeJS.WritableStream>();
      const release = (dst: NodeJS.WritableStream) => {
        if (waiting.delete(dst) && waiting.size === 0) call.resume();
      };
      const output = (dst: NodeJS.WritableStream, chunk: Buffer) => {
        if (broken.has(dst) || dst.write(chunk) || waiting.has(dst)) return;
        if (waiting.size === 0) call.pause();
        waiting.add(dst);
        dst.once('drain', () => release(dst));
      };
      for (const dst of [io.stdout, io.stderr]) {
        const onError = () => {
          broken.add(dst);
          release(dst);
        };
        dst.on('error', onError);
        this.cleanups.push(() => dst.off('error', onError));
      }
      this.interrupt = (s) => reject(new Interrupted(s));
      call.on('data', (m: OneofCase<vmv1.ExecResponse__Output, 'msg'>) => {
        switch (m.msg) {
          case 'started':
            this.started = true;
            if (spec.tty && spec.interactive) this.restoreTerminal = enterRawMode(io.stdin);
            if (spec.interactive) this.forwardStdin(call);
            return;
          case 'stdout':
            return output(io.stdout, m.stdout);
          case 'stderr':
            return output(io.stderr, m.stderr);
          case 'exit':
            exit = m.exit;
            return;
        }
      });
      call.on('error', reject);
      call.on('end', () => (exit ? resolve(exit) : reject(new Error('the daemon ended the Exec call without an exit status'))));
      call.write({
        start: {
          instanceId: spec.id,
          args: spec.command,
          env: guestEnvironment(spec.env, spec.tty, io.env),
          cwd: spec.workdir ?? '',
          tty: tty !== undefined,
          rows: tty?.rows ?? 0,
          cols: tty?.cols ?? 0,
          stdin: spec.interactive,
        },
      });
    });
  }

  /** Host stdin → stdin messages, paused while the call's send buffer is full; EOF → close_stdin. */
  private forwardStdin(call: ExecCall): void {
    const stdin = this.io.stdin;
    const onData = (chunk: Buffer) => {
      if (!call.write({ stdin: chunk })) {
        stdin.pause();
        call.once('drain', () => stdin.resume());
      }
    };
    const onEnd = () => call.write({ closeStdin: true });
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    this.stopStdin = () => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.pause();
    };
  }

  private onSignal(s: HostSignal): void {
    if (this.received !== undefined || !this.started) {
      // second signal, or nothing to forward to yet: end the call (the daemon kills the process)
      this.interrupt(s);
      return;
    }
    this.received = s;
    this.call?.write({ signalGroup: os.constants.signals[s] }); // to the process group, as a terminal does
  }

  private onResize(): void {
    const size = windowSize(this.io.stdout, this.io.stderr);
    if (size && this.spec.tty && this.started) this.call?.write({ resize: size });
  }
}
