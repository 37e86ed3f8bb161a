// SupervisedHelper: a helper process (qemu, virtiofsd, passt) that cannot outlive vessel.
// It runs under `setpriv --pdeathsig KILL`, so the kernel kills it when the spawning
// process dies, however that happens; it is recorded in the state dir (records.ts) for
// `vessel gc`; and stop() ends it (a polite signal, then SIGKILL) and reaps it. It runs in
// a process group (and session) of its own, so a terminal's Ctrl-C, which signals the
// whole foreground group, reaches vessel, which decides, and not QEMU (which would quit).
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import path from 'node:path';
import type { Logger } from 'pino';
import { VesselError } from '../../errors/index.js';
import { processStartTime, selfIdentity } from '../../host/index.js';
import { removeRecord, writeRecord } from './records.js';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnSupervisedOptions {
  /** Unique within the state dir: names the record file (e.g. `qemu`, `virtiofsd-data`). */
  name: string;
  command: string;
  args: string[];
  stateDir: string;
  /** stdio for the child; fds 0-2 default to ignore / pipe / pipe. */
  stdio?: StdioOptions;
  logger?: Logger;
}

export class SupervisedHelper {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<ExitInfo>;
  private readonly stateDir: string;
  private exitInfo: ExitInfo | undefined;

  private constructor(opts: SpawnSupervisedOptions, child: ChildProcess, exited: Promise<ExitInfo>) {
    this.name = opts.name;
    this.child = child;
    this.pid = child.pid!;
    this.stateDir = opts.stateDir;
    this.exited = exited.then((info) => {
      this.exitInfo = info;
      removeRecord(this.stateDir, this.name);
      opts.logger?.debug({ process: this.name, pid: this.pid, ...info }, 'helper process exited');
      return info;
    });
  }

  /** Spawns and records the process; rejects (TOOL_MISSING / START_FAILED) if it cannot be started. */
  static async spawn(opts: SpawnSupervisedOptions): Promise<SupervisedHelper> {
    // umask 077 for the child: every socket and file it creates is private to us. spawn()
    // forks synchronously, so the process-wide umask is restored before anything else runs.
    const previousUmask = process.umask(0o077);
    let child: ChildProcess;
    try {
      child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', opts.command, ...opts.args], {
        stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
    } finally {
      process.umask(previousUmask);
    }
    const exited = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT')
        throw new VesselError('TOOL_MISSING', 'setpriv (util-linux) is not installed; vessel runs its helper processes under it', { cause: err });
      throw new VesselError('START_FAILED', `cannot start ${path.basename(opts.command)}: ${(err as Error).message}`, { cause: err });
    }
    const sp = new SupervisedHelper(opts, child, exited);
    const startTime = processStartTime(sp.pid);
    if (startTime !== undefined) {
      writeRecord(opts.stateDir, { name: opts.name, pid: sp.pid, startTime, command: opts.command, owner: selfIdentity() });
    }
    opts.logger?.debug({ process: opts.name, pid: sp.pid, command: opts.command }, 'helper process started');
    return sp;
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined || this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Sends `signal` (default SIGTERM), waits up to graceMs, then SIGKILLs; resolves once reaped. */
  async stop(graceMs = 2000, signal: NodeJS.Signals = 'SIGTERM'): Promise<ExitInfo> {
    if (!this.hasExited) {
      if (graceMs > 0) {
        this.child.kill(signal);
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          this.exited.then(() => false),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(true), graceMs);
          }),
        ]);
        clearTimeout(timer);
        if (timedOut) this.child.kill('SIGKILL');
      } else {
        this.child.kill('SIGKILL');
      }
    }
    return this.exited;
  }
}
