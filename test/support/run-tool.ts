// Runs a host tool to its end with a bounded time and collects its output; never throws on
// a non-zero exit (the caller reads `code`). A timeout kills it (SIGKILL) and reads as 137.
import { spawn, spawnSync } from 'node:child_process';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ToolOptions {
  env?: NodeJS.ProcessEnv;
  /** Bytes for its stdin (default: stdin is closed at once). */
  input?: string;
  timeoutMs?: number;
  cwd?: string;
}

export function runTool(bin: string, args: string[], o: ToolOptions = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, {
      env: o.env ?? process.env,
      cwd: o.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: o.timeoutMs ?? 60_000,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    p.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    p.once('error', reject);
    p.once('close', (code, signal) => resolve({ code: code ?? (signal === 'SIGKILL' ? 137 : 128), stdout, stderr }));
    p.stdin.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') reject(err);
    });
    p.stdin.end(o.input ?? '');
  });
}

/** The tool's stdout; a non-zero exit throws with its stderr and `context` (e.g. a log tail). */
export async function runToolOk(bin: string, args: string[], o: ToolOptions = {}, context = ''): Promise<string> {
  const r = await runTool(bin, args, o);
  if (r.code !== 0) throw new Error(`${bin} ${args.join(' ')}: exit ${r.code}\n${r.stderr.trim()}${context ? `\n${context}` : ''}`);
  return r.stdout;
}

/** The same, synchronously (for cleanup that must also run in an `exit` handler). */
export function runToolSync(bin: string, args: string[], o: ToolOptions = {}): ToolResult {
  const r = spawnSync(bin, args, {
    env: o.env ?? process.env,
    cwd: o.cwd,
    input: o.input ?? '',
    timeout: o.timeoutMs ?? 60_000,
    killSignal: 'SIGKILL',
    encoding: 'utf8',
  });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') throw r.error;
  return { code: r.status ?? 137, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
