// SupervisedHelper: a helper process (qemu, virtiofsd, passt) that vessel starts. By
// default it cannot outlive vessel: it runs under `setpriv --pdeathsig KILL`, so the kernel
// kills it when the spawning process dies, however that happens. With `detached` (live
// restore: `vessel serve`) it has no parent-death signal and its output goes to a log file
// in the state dir (helper-log.ts), not to a pipe that dies with vessel; its record is
// marked adoptable, and a later owner takes it over as an AdoptedHelper (adopted.ts).
// Either way it is recorded in the state dir (records.ts) for `vessel gc`, and stop() ends
// it (a polite signal, then SIGKILL) and reaps it. It runs in a process group (and
// session) of its own, so a terminal's Ctrl-C, which signals the whole foreground group,
// reaches vessel, which decides, and not QEMU (which would quit).
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { VesselError } from '../../errors/index.js';
import { processStartTime, selfIdentity } from '../../host/index.js';
import { helperLogTail, openHelperLog } from './helper-log.js';
import { removeRecord, writeRecord } from './records.js';
import { within } from './within.js';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A helper process vessel supervises: its own child (SupervisedHelper) or one it adopted (AdoptedHelper). */
export interface HelperProcess {
  readonly name: string;
  readonly pid: number;
  /** Resolves once the process is gone (an adopted one's status is unknown: both null). */
  readonly exited: Promise<ExitInfo>;
  readonly hasExited: boolean;
  /** Sends `signal`, waits up to graceMs, then SIGKILLs; resolves once it is gone. */
  stop(graceMs?: number, signal?: NodeJS.Signals): Promise<ExitInfo>;
  /** Resolves once everything it wrote to vessel's pipes has been read (at once without pipes). */
  outputClosed(): Promise<void>;
  /** The last of its output that went to its log file ('' when it writes to pipes). */
  loggedOutput(maxBytes?: number): string;
}

export interface SpawnSupervisedOptions {
  /** Unique within the state dir: names the record file (e.g. `qemu`, `virtiofsd-data`). */
  name: string;
  command: string;
  args: string[];
  stateDir: string;
  /** stdio for the child; fds 0-2 default to ignore / pipe / pipe (with `detached`, 1 and 2 are its log file). */
  stdio?: StdioOptions;
  /** Outlive vessel (live restore): no parent-death signal, output to a log file, an adoptable record. */
  detached?: boolean;
  logger?: Logger;
}

export class SupervisedHelper implements HelperProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<ExitInfo>;
  private readonly stateDir: string;
  private readonly detached: boolean;
  private exitInfo: ExitInfo | undefined;

  private constructor(opts: SpawnSupervisedOptions, child: ChildProcess, exited: Promise<ExitInfo>) {
    this.name = opts.name;
    this.child = child;
    this.pid = child.pid!;
    this.stateDir = opts.stateDir;
    this.detached = opts.detached === true;
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
    const stdio = [...((opts.stdio as unknown[] | undefined) ?? ['ignore', 'pipe', 'pipe'])] as StdioOptions & unknown[];
    const logFd = opts.detached ? openHelperLog(opts.stateDir, opts.name) : undefined;
    if (logFd !== undefined) stdio[1] = stdio[2] = logFd;
    const [command, args] = opts.detached ? [opts.command, opts.args] : ['setpriv', ['--pdeathsig', 'KILL', '--', opts.command, ...opts.args]];
    const previousUmask = process.umask(0o077);
    let child: ChildProcess;
    try {
      child = spawn(command, args, { stdio, detached: true });
    } finally {
      process.umask(previousUmask);
      if (logFd !== undefined) fs.closeSync(logFd); // the child holds its own copy
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
      if (code === 'ENOENT' && !opts.detached)
        throw new VesselError('TOOL_MISSING', 'setpriv (util-linux) is not installed; vessel runs its helper processes under it', { cause: err });
      throw new VesselError('START_FAILED', `cannot start ${path.basename(opts.command)}: ${(err as Error).message}`, { cause: err });
    }
    const sp = new SupervisedHelper(opts, child, exited);
    const startTime = processStartTime(sp.pid);
    if (startTime !== undefined) {
      writeRecord(opts.stateDir, {
        name: opts.name,
        pid: sp.pid,
        startTime,
        command: opts.command,
        owner: selfIdentity(),
        ...(opts.detached ? { adoptable: true } : {}),
      });
    }
    opts.logger?.debug({ process: opts.name, pid: sp.pid, command: opts.command }, 'helper process started');
    return sp;
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined || this.child.exitCode !== null || this.child.signalCode !== null;
  }

  outputClosed(): Promise<void> {
    const closed = (s: Readable | null) =>
      !s || s.closed || s.destroyed ? Promise.resolve() : new Promise<void>((resolve) => s.once('close', () => resolve()));
    return Promise.all([closed(this.child.stdout), closed(this.child.stderr)]).then(() => undefined);
  }

  loggedOutput(maxBytes?: number): string {
    return this.detached ? helperLogTail(this.stateDir, this.name, maxBytes) : '';
  }

  /** Sends `signal` (default SIGTERM), waits up to graceMs, then SIGKILLs; resolves once reaped. */
  async stop(graceMs = 2000, signal: NodeJS.Signals = 'SIGTERM'): Promise<ExitInfo> {
    if (!this.hasExited) {
      if (graceMs > 0) {
        this.child.kill(signal);
        if (!(await within(this.exited, graceMs))) this.child.kill('SIGKILL');
      } else {
        this.child.kill('SIGKILL');
      }
    }
    return this.exited;
  }
}
