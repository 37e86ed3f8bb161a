// What a command talks to besides its arguments: stdio, signals, the environment and the
// working directory. The real process in production; fakes in tests, so commands run
// in-process without touching the test runner's own stdin or signal handlers.
import type { Readable, Writable } from 'node:stream';

export type HostSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'SIGWINCH';

export interface InputStream extends Readable {
  isTTY?: boolean;
  setRawMode?: (raw: boolean) => unknown;
}

export interface OutputStream extends Writable {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

export interface SignalSource {
  on(signal: HostSignal, listener: () => void): unknown;
  off(signal: HostSignal, listener: () => void): unknown;
}

export interface CliIo {
  stdin: InputStream;
  stdout: OutputStream;
  stderr: OutputStream;
  signals: SignalSource;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** The real process's io, with any part replaced by `overrides`. */
export function processIo(overrides: Partial<CliIo> = {}): CliIo {
  const given = overrides.stdin;
  return {
    stdout: overrides.stdout ?? process.stdout,
    stderr: overrides.stderr ?? process.stderr,
    signals: overrides.signals ?? (process as unknown as SignalSource),
    env: overrides.env ?? process.env,
    cwd: overrides.cwd ?? process.cwd(),
    // a getter: process.stdin opens a handle on first access, which only `run -i` needs
    get stdin(): InputStream {
      return given ?? process.stdin;
    },
  };
}
