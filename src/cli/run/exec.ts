// One guest process for `vessel run`: opens its raw streams (stdout and stderr on
// different ids; with a TTY one stream carries stdin and the terminal's output), starts
// it, forwards stdin, and resolves with its exit status once its output is drained.
import crypto from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { AgentClient, ExitStatus } from '../../agent/index.js';
import type { CliIo } from '../io.js';
import { closeStream, copyOut, forwardStdin } from './stdio.js';
import type { WindowSize } from './tty.js';

export interface GuestCommand {
  args: string[];
  env: string[];
  cwd: string | undefined;
  interactive: boolean;
  /** A terminal of this size, or none. */
  tty: WindowSize | undefined;
}

type StreamOpener = (id: string) => Promise<Duplex>;

export class GuestProcess {
  readonly execId = `run-${crypto.randomBytes(4).toString('hex')}`;
  private readonly streams: Duplex[] = [];
  private stdin: { stop: () => void } | undefined;
  private started = false;

  constructor(private readonly agent: AgentClient, private readonly openStream: StreamOpener, private readonly io: CliIo) {}

  /** Starts the process; rejects with the agent's error if it cannot be executed. */
  async start(cmd: GuestCommand): Promise<{ exited: Promise<ExitStatus> }> {
    const id = this.execId;
    let outputs: Promise<void>[];
    let stdinTarget: Duplex | undefined;
    let spec: Parameters<AgentClient['exec']>[0];
    if (cmd.tty) {
      const tty = await this.open(`${id}:tty`);
      outputs = [copyOut(tty, this.io.stdout)];
      spec = { execId: id, args: cmd.args, env: cmd.env, cwd: cmd.cwd, terminal: true, rows: cmd.tty.rows, cols: cmd.tty.cols, stdoutStream: `${id}:tty` };
      if (cmd.interactive) {
        spec.stdinStream = `${id}:tty`;
        stdinTarget = tty;
      }
    } else {
      const [out, err, input] = await Promise.all([
        this.open(`${id}:out`),
        this.open(`${id}:err`),
        cmd.interactive ? this.open(`${id}:in`) : Promise.resolve(undefined),
      ]);
      outputs = [copyOut(out, this.io.stdout), copyOut(err, this.io.stderr)];
      spec = { execId: id, args: cmd.args, env: cmd.env, cwd: cmd.cwd, stdoutStream: `${id}:out`, stderrStream: `${id}:err` };
      if (input) {
        spec.stdinStream = `${id}:in`;
        input.resume(); // the agent never writes on it; see its end
        stdinTarget = input;
      }
    }
    await this.agent.exec(spec);
    this.started = true;
    if (stdinTarget) this.stdin = forwardStdin(this.io.stdin, stdinTarget);
    const exited = (async () => {
      const status = await this.agent.wait(id);
      await Promise.all(outputs);
      return status;
    })();
    exited.catch(() => undefined);
    return { exited };
  }

  /** True once the process was started (and until the run ends). */
  get running(): boolean {
    return this.started;
  }

  /** Forwards a host signal to the process group (as a terminal's Ctrl-C would). */
  async signal(signal: number): Promise<void> {
    if (this.started) await this.agent.signal(this.execId, signal, true);
  }

  async resize(size: WindowSize): Promise<void> {
    if (this.started) await this.agent.resizePty(this.execId, size.rows, size.cols);
  }

  /** Detaches stdin and closes our side of every stream. */
  close(): void {
    this.stdin?.stop();
    this.stdin = undefined;
    for (const s of this.streams) closeStream(s);
  }

  private async open(id: string): Promise<Duplex> {
    const s = await this.openStream(id);
    this.streams.push(s);
    return s;
  }
}
