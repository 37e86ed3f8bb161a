// execWithStreams: the one way the host starts a guest process with stdio (written once,
// as firecracker-containerd's TaskManager is, for the gRPC Exec, the shim's container
// processes, `vessel run`, tests and benchmarks): invent the exec id and stream ids, open
// the raw streams concurrently, Exec, and hand back the streams, the pid and `exited`,
// which settles once the agent reported the exit and every output stream opened here has
// ended (so the caller saw all output). A failed start closes what it opened.
import crypto from 'node:crypto';
import type { Duplex } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { AgentClient } from './client.js';
import type { ExecSpec, ExitStatus } from './types.js';

/**
 * Where one stdio channel goes: `'open'` = a raw stream opened here; `{ id }` = a stream
 * the caller already claimed (e.g. a gRPC client's StartStream); for stdin `'stdout'` = the
 * stdout stream carries stdin too (a terminal); absent = /dev/null in the guest.
 */
export type StdioChoice = 'open' | { id: string };

export interface ExecStdio {
  stdin?: StdioChoice | 'stdout';
  stdout?: StdioChoice;
  stderr?: StdioChoice;
}

/** ExecSpec without the ids this helper invents; `execId` may be given (unique in the VM). */
export type GuestCommandSpec = Omit<ExecSpec, 'execId' | 'stdinStream' | 'stdoutStream' | 'stderrStream'> & { execId?: string };

export interface GuestExec {
  readonly execId: string;
  readonly pid: number;
  /** The streams opened here (a terminal's stdin is the stdout stream). */
  readonly stdin: Duplex | undefined;
  readonly stdout: Duplex | undefined;
  readonly stderr: Duplex | undefined;
  /** The exit status, once the output streams opened here have ended too. */
  readonly exited: Promise<ExitStatus>;
  signal(signal: number, group?: boolean): Promise<void>;
  resize(rows: number, cols: number): Promise<void>;
  /** EOF on stdin: ends the stdin stream opened here, else asks the agent to close it. */
  closeStdin(): Promise<void>;
  /** Closes every stream opened here (the process is not signalled). */
  close(): void;
}

let seq = 0;

/** A fresh exec id: `prefix-<pid>-<n>-<random>`, unique across host processes and VMs. */
export function newExecId(prefix: string): string {
  return `${prefix}-${process.pid}-${++seq}-${crypto.randomBytes(3).toString('hex')}`;
}

export async function execWithStreams(agent: AgentClient, spec: GuestCommandSpec, stdio: ExecStdio = {}): Promise<GuestExec> {
  const execId = spec.execId ?? newExecId('exec');
  const opened: Duplex[] = [];
  const open = async (choice: StdioChoice | undefined, suffix: string): Promise<[Duplex | undefined, string | undefined]> => {
    if (choice === undefined) return [undefined, undefined];
    if (choice !== 'open') return [undefined, choice.id];
    const id = `${execId}:${suffix}`;
    const stream = await agent.openStream(id);
    opened.push(stream);
    return [stream, id];
  };
  const sharedTty = stdio.stdin === 'stdout';
  const stdinChoice = stdio.stdin === 'stdout' ? undefined : stdio.stdin;
  try {
    const [[stdout, stdoutStream], [stderr, stderrStream], [ownStdin, ownStdinStream]] = await Promise.all([
      open(stdio.stdout, sharedTty ? 'tty' : 'out'),
      open(stdio.stderr, 'err'),
      open(stdinChoice, 'in'),
    ]);
    const stdin = sharedTty ? stdout : ownStdin;
    const stdinStream = sharedTty ? stdoutStream : ownStdinStream;
    if (ownStdin) ownStdin.resume(); // the agent never writes on a stdin stream; see its end
    const { pid } = await agent.exec({ ...spec, execId, stdinStream, stdoutStream, stderrStream });
    const outputs = [stdout, stderr].filter((s): s is Duplex => s !== undefined);
    const exited = (async () => {
      const status = await agent.wait(execId);
      await Promise.all(outputs.map((s) => finished(s, { writable: false }).catch(() => undefined)));
      return status;
    })();
    exited.catch(() => undefined);
    return {
      execId,
      pid,
      stdin,
      stdout,
      stderr,
      exited,
      signal: (signal, group = false) => agent.signal(execId, signal, group),
      resize: (rows, cols) => agent.resizePty(execId, rows, cols),
      closeStdin: async () => {
        if (ownStdin) ownStdin.end();
        else await agent.closeStdin(execId);
      },
      close: () => { for (const s of opened) s.destroy(); },
    };
  } catch (err) {
    for (const s of opened) s.destroy();
    throw err;
  }
}
