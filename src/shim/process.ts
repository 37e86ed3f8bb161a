// One process of a container (the init process or an exec): its OCI process spec, its
// containerd stdio FIFOs, and its life in the guest (created → running → stopped). The
// container starts it (runc in the guest, see container.ts) through a Launcher given the
// stdio streams it wants; exited() resolves only after its output reached the FIFOs.
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import type { ExecStdio, GuestExec } from '../agent/index.js';
import { VesselError, isVesselError } from '../errors/index.js';
import { openOutputFifo, openStdinFifo, type OutputFifo } from './fifo.js';
import type { OciProcess } from './oci.js';

export type ProcessStatus = 'created' | 'running' | 'stopped';

export interface Stdio {
  stdin: string;
  stdout: string;
  stderr: string;
  terminal: boolean;
}

export interface ProcessExit {
  exitStatus: number;
  exitedAt: Date;
}

/** A process running in the guest, as its container started it. */
export interface LaunchedProcess {
  /** The agent exec carrying its stdio (resize, stdin EOF, close). */
  exec: GuestExec;
  /** Resolves with the pid reported to containerd (a guest pid) once the process runs; rejects if it never did. */
  started: Promise<number>;
  /** Its exit status (128+N when signal N ended it). */
  exited: Promise<number>;
  signal(signal: number, group: boolean): Promise<void>;
}

/** Starts the process with these stdio streams. */
export type Launcher = (stdio: ExecStdio) => Promise<LaunchedProcess>;

export class ShimProcess {
  status: ProcessStatus = 'created';
  pid = 0;
  exit: ProcessExit | undefined;
  private readonly exitPromise: Promise<ProcessExit>;
  private resolveExit!: (e: ProcessExit) => void;
  private launched: LaunchedProcess | undefined;
  private fifos: OutputFifo[] = [];
  /** The signal the shim killed the VM with under this process (its exit is 128+N, not a lost connection's 255). */
  private vmKilledWith: number | undefined;

  constructor(
    /** '' for the init process. */
    readonly execId: string,
    readonly spec: OciProcess,
    readonly stdio: Stdio,
    private readonly logger: Logger,
  ) {
    this.exitPromise = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
  }

  exited(): Promise<ProcessExit> {
    return this.exitPromise;
  }

  /** Starts the process in the guest; `onExit` runs once it exited and its output is drained. */
  async start(launch: Launcher, onExit: (p: ShimProcess) => void): Promise<number> {
    if (this.status !== 'created') throw new VesselError('ALREADY_STARTED', `process ${this.label} was already started`);
    this.status = 'running';
    const { terminal, stdin, stdout, stderr } = this.stdio;
    let launched: LaunchedProcess;
    try {
      launched = await launch(
        terminal
          ? // one stream carries the terminal both ways; it is opened even without a stdout FIFO
            { stdout: 'open', ...(stdin ? { stdin: 'stdout' as const } : {}) }
          : { ...(stdin ? { stdin: 'open' as const } : {}), ...(stdout ? { stdout: 'open' as const } : {}), ...(stderr ? { stderr: 'open' as const } : {}) },
      );
    } catch (err) {
      this.status = 'stopped';
      const exit = { exitStatus: 255, exitedAt: new Date() };
      this.exit = exit;
      this.resolveExit(exit);
      throw err;
    }
    this.launched = launched;
    const exec = launched.exec;
    // (output is read from the start: a process that ends at once must not wait for a reader)
    const outputs: Promise<void>[] = [];
    if (exec.stdout) {
      if (stdout) outputs.push(this.copyToFifo(exec.stdout, stdout));
      else exec.stdout.resume();
    }
    if (exec.stderr && stderr) outputs.push(this.copyToFifo(exec.stderr, stderr));
    if (exec.stdin && stdin) this.forwardStdin(exec.stdin, stdin);
    try {
      this.pid = await launched.started;
    } catch (err) {
      exec.close();
      await Promise.allSettled(outputs);
      this.releaseFifos();
      this.status = 'stopped';
      const exit = { exitStatus: 255, exitedAt: new Date() };
      this.exit = exit;
      this.resolveExit(exit);
      throw err;
    }
    void (async () => {
      let exitStatus = 255;
      try {
        exitStatus = await launched.exited;
      } catch (err) {
        if (this.vmKilledWith !== undefined) exitStatus = 128 + this.vmKilledWith;
        else this.logger.warn({ err, exec: this.label }, 'waiting for the process failed');
      }
      await Promise.allSettled(outputs);
      exec.close();
      this.releaseFifos();
      this.status = 'stopped';
      this.exit = { exitStatus, exitedAt: new Date() };
      this.resolveExit(this.exit);
      onExit(this);
    })();
    return this.pid;
  }

  /** The shim is killing the VM under the process with `signal` (a SIGKILL the guest could not deliver). */
  killedWithVm(signal: number): void {
    if (this.status === 'running') this.vmKilledWith = signal;
  }

  /** Marks a never-started process stopped (its container goes away). */
  abandon(exitStatus: number): void {
    if (this.status === 'stopped') return;
    this.status = 'stopped';
    this.exit = { exitStatus, exitedAt: new Date() };
    this.resolveExit(this.exit);
  }

  async closeStdin(): Promise<void> {
    if (this.launched?.exec.stdin) await this.launched.exec.closeStdin();
  }

  /** Signals the process (or its whole process group); it must have been started. */
  /**
   * Signals the process (or its process group). One that has exited (even if its exit is
   * still being drained) is NOT_FOUND, as containerd's runc shim answers, which containerd
   * tolerates when it stops a task.
   */
  async signal(signal: number, group: boolean): Promise<void> {
    const launched = this.started();
    if (this.status === 'stopped') throw new VesselError('NOT_FOUND', `process ${this.label} already finished`);
    try {
      await launched.signal(signal, group);
    } catch (err) {
      if (isVesselError(err, 'FAILED_PRECONDITION'))
        throw new VesselError('NOT_FOUND', `process ${this.label} already finished: ${err.message}`, { cause: err });
      throw err;
    }
  }

  async resize(rows: number, cols: number): Promise<void> {
    await this.started().exec.resize(rows, cols);
  }

  private started(): LaunchedProcess {
    if (!this.launched) throw new VesselError('NOT_STARTED', `process ${this.label} has not been started`);
    return this.launched;
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
