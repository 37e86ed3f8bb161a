// One process of a container (the init process or an exec): its OCI process spec, its
// containerd stdio FIFOs, and its life in the guest (created → running → stopped). The
// guest side is an agent exec in the container's rootfs with raw streams for stdio;
// exited() resolves only after its output reached the FIFOs.
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import type { AgentClient } from '../agent/index.js';
import { VesselError } from '../errors/index.js';
import { openOutputFifo, openStdinFifo, type OutputFifo } from './fifo.js';
import type { OciProcess } from './oci.js';

export type ProcessStatus = 'created' | 'running' | 'stopped';

export interface Stdio { stdin: string; stdout: string; stderr: string; terminal: boolean }

export interface ProcessExit { exitStatus: number; exitedAt: Date }

/** The guest side a process needs: the agent and raw streams by id. */
export interface GuestHandle {
  agent: AgentClient;
  openStream(id: string): Promise<Duplex>;
  /** The rootfs inside the guest. */
  rootfs: string;
}

export class ShimProcess {
  status: ProcessStatus = 'created';
  pid = 0;
  exit: ProcessExit | undefined;
  private readonly exitPromise: Promise<ProcessExit>;
  private resolveExit!: (e: ProcessExit) => void;
  private stdinStream: Duplex | undefined;
  private fifos: OutputFifo[] = [];

  constructor(
    /** '' for the init process. */
    readonly execId: string,
    /** The agent's exec id (unique in the VM). */
    readonly guestId: string,
    readonly spec: OciProcess,
    readonly stdio: Stdio,
    private readonly logger: Logger,
  ) {
    this.exitPromise = new Promise((resolve) => { this.resolveExit = resolve; });
  }

  exited(): Promise<ProcessExit> {
    return this.exitPromise;
  }

  /** Starts the process in the guest; `onExit` runs once it exited and its output is drained. */
  async start(guest: GuestHandle, onExit: (p: ShimProcess) => void): Promise<number> {
    if (this.status !== 'created') throw new VesselError('ALREADY_STARTED', `process ${this.label} was already started`);
    this.status = 'running';
    const id = this.guestId;
    const terminal = this.stdio.terminal;
    const outputs: Promise<void>[] = [];
    const streams: Duplex[] = [];
    const open = async (suffix: string): Promise<Duplex> => {
      const s = await guest.openStream(`${id}:${suffix}`);
      streams.push(s);
      return s;
    };
    try {
      const execSpec: Parameters<AgentClient['exec']>[0] = {
        execId: id, args: this.spec.args, env: this.spec.env, cwd: this.spec.cwd, uid: this.spec.uid, gid: this.spec.gid,
        additionalGids: this.spec.additionalGids, terminal, rootfs: guest.rootfs,
      };
      if (terminal) {
        execSpec.rows = this.spec.rows;
        execSpec.cols = this.spec.cols;
        const tty = await open('tty');
        execSpec.stdoutStream = `${id}:tty`;
        if (this.stdio.stdout) outputs.push(this.copyToFifo(tty, this.stdio.stdout));
        else tty.resume();
        if (this.stdio.stdin) {
          execSpec.stdinStream = `${id}:tty`;
          this.stdinStream = tty;
        }
      } else {
        if (this.stdio.stdin) {
          const input = await open('in');
          input.resume(); // the agent never writes on it
          execSpec.stdinStream = `${id}:in`;
          this.stdinStream = input;
        }
        for (const [suffix, fifo] of [['out', this.stdio.stdout], ['err', this.stdio.stderr]] as const) {
          if (!fifo) continue;
          const s = await open(suffix);
          outputs.push(this.copyToFifo(s, fifo));
          if (suffix === 'out') execSpec.stdoutStream = `${id}:out`;
          else execSpec.stderrStream = `${id}:err`;
        }
      }
      const { pid } = await guest.agent.exec(execSpec);
      this.pid = pid;
    } catch (err) {
      this.status = 'stopped';
      for (const s of streams) s.destroy();
      this.releaseFifos();
      const exit = { exitStatus: 255, exitedAt: new Date() };
      this.exit = exit;
      this.resolveExit(exit);
      throw err;
    }
    if (this.stdinStream && this.stdio.stdin) this.forwardStdin(this.stdinStream, this.stdio.stdin);
    void (async () => {
      let exitStatus = 255;
      try {
        const st = await guest.agent.wait(id);
        exitStatus = st.exitCode;
      } catch (err) {
        this.logger.warn({ err, exec: this.label }, 'waiting for the process failed');
      }
      await Promise.allSettled(outputs);
      for (const s of streams) s.destroy();
      this.releaseFifos();
      this.status = 'stopped';
      this.exit = { exitStatus, exitedAt: new Date() };
      this.resolveExit(this.exit);
      onExit(this);
    })();
    return this.pid;
  }

  /** Marks a never-started process stopped (its container goes away). */
  abandon(exitStatus: number): void {
    if (this.status === 'stopped') return;
    this.status = 'stopped';
    this.exit = { exitStatus, exitedAt: new Date() };
    this.resolveExit(this.exit);
  }

  async closeStdin(agent: AgentClient): Promise<void> {
    const s = this.stdinStream;
    if (!s) return;
    if (this.stdio.terminal) await agent.closeStdin(this.guestId);
    else s.end();
  }

  private get label(): string {
    return this.execId || 'init';
  }

  private copyToFifo(from: Duplex, path: string): Promise<void> {
    const fifo = openOutputFifo(path);
    this.fifos.push(fifo);
    return pipeline(from, fifo.stream, { end: true }).catch((err) => {
      this.logger.warn({ err, exec: this.label, path }, 'copying output to the FIFO failed');
      from.resume();
    });
  }

  private forwardStdin(to: Duplex, path: string): void {
    let input: ReturnType<typeof openStdinFifo>;
    try {
      input = openStdinFifo(path);
    } catch (err) {
      this.logger.warn({ err, path }, 'opening the stdin FIFO failed');
      if (!this.stdio.terminal) to.end();
      return;
    }
    input.pipe(to, { end: !this.stdio.terminal });
    input.once('error', (err) => this.logger.warn({ err, path }, 'reading the stdin FIFO failed'));
    void this.exitPromise.then(() => input.destroy());
  }

  private releaseFifos(): void {
    for (const f of this.fifos) f.release();
    this.fifos = [];
  }
}
