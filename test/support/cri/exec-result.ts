// What `crictl exec` reports, read back into the command's own exit code and output. crictl
// exits 1 for any failing command and names its code in a message:
// - through the streaming server (the default): stdout and stderr stay apart, and a failure
//   ends stderr with "… command terminated with exit code N";
// - with --sync (ExecSync, what kubelet probes use): crictl prints the command's stdout and
//   then its stderr, each followed by a newline, all on its stdout (so they cannot be told
//   apart: `output`); a failure prints "… exited with N: <the command's stderr>" instead and
//   drops the stdout.
import type { ToolResult } from '../run-tool.js';

export interface ExecResult {
  /** The command's exit code (-1 when crictl itself failed: see `error`). */
  exitCode: number;
  /** Streaming: the command's stdout. */
  stdout: string;
  /** Streaming: the command's stderr. ExecSync: its stderr when it failed. */
  stderr: string;
  /** ExecSync succeeded: crictl's rendering, `${stdout}\n${stderr}\n`. */
  output?: string;
  /** crictl's own failure (not the command's), e.g. an unknown container. */
  error?: string;
}

export function execResult(r: ToolResult, sync: boolean): ExecResult {
  if (sync) {
    if (r.code === 0) return { exitCode: 0, stdout: '', stderr: '', output: r.stdout };
    const m = /synchronously: command '[\s\S]*' exited with (\d+): ([\s\S]*)\n\n?$/.exec(r.stderr);
    if (m) return { exitCode: Number(m[1]), stdout: '', stderr: m[2]! };
  } else {
    if (r.code === 0) return { exitCode: 0, stdout: r.stdout, stderr: r.stderr };
    const m = /(^|\n)[^\n]*command terminated with exit code (\d+)\n?$/.exec(r.stderr);
    if (m) return { exitCode: Number(m[2]), stdout: r.stdout, stderr: r.stderr.slice(0, m.index + m[1]!.length) };
  }
  return { exitCode: -1, stdout: r.stdout, stderr: r.stderr, error: r.stderr.trim() || `crictl exited ${r.code}` };
}
