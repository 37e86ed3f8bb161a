// One guest process for `vessel run`: started through the agent's execWithStreams (stdout
// and stderr on different streams; with a TTY one stream carries stdin and the terminal's
// output), its output copied to the host's stdio and stdin forwarded; `exited` resolves
// with its exit status once its output is drained.
import { execWithStreams, newExecId, type AgentClient, type ExitStatus, type GuestExec } from '../../agent/index.js';
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

export class GuestProcess {
  private exec: GuestExec | undefined;
  private stdin: { stop: () => void } | undefined;

  constructor(
    private readonly agent: AgentClient,
    private readonly io: CliIo,
  ) {}

  /** Starts the process; rejects with the agent's error if it cannot be executed. */
  async start(cmd: GuestCommand): Promise<{ exited: Promise<ExitStatus> }> {
    const base = { execId: newExecId('run'), args: cmd.args, env: cmd.env, cwd: cmd.cwd };
    const exec = cmd.tty
      ? await execWithStreams(
          this.agent,
          { ...base, terminal: true, rows: cmd.tty.rows, cols: cmd.tty.cols },
          { stdout: 'open', ...(cmd.interactive ? { stdin: 'stdout' as const } : {}) },
        )
      : await execWithStreams(this.agent, base, { stdout: 'open', stderr: 'open', ...(cmd.interactive ? { stdin: 'open' as const } : {}) });
    this.exec = exec;
    const outputs = [copyOut(exec.stdout!, this.io.stdout), ...(exec.stderr ? [copyOut(exec.stderr, this.io.stderr)] : [])];
    if (exec.stdin) this.stdin = forwardStdin(this.io.stdin, exec.stdin);
    const exited = (async () => {
      const status = await exec.exited;
      await Promise.all(outputs);
      return status;
    })();
    exited.catch(() => undefined);
    return { exited };
  }

  /** True once the process was started (and until the run ends). */
  get running(): boolean {
    return this.exec !== undefined;
  }

  /** Forwards a host signal to the process group (as a terminal's Ctrl-C would). */
  async signal(signal: number): Promise<void> {
    await this.exec?.signal(signal, true);
  }

  async resize(size: WindowSize): Promise<void> {
    await this.exec?.resize(size.rows, size.cols);
  }

  /** Detaches stdin and closes our side of every stream. */
  close(): void {
    this.stdin?.stop();
    this.stdin = undefined;
    for (const s of new Set([this.exec?.stdin, this.exec?.stdout, this.exec?.stderr])) closeStream(s);
  }
}
