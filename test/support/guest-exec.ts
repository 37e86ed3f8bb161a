// Runs a command in a started Instance's guest over two raw streams (stdout, stderr) and
// collects its output and exit status.
import { execWithStreams } from '../../src/agent/index.js';
import type { Instance } from '../../src/vm/index.js';

export interface GuestResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  signal: number;
}

export async function runInGuest(instance: Instance, args: string[], opts: { env?: string[] } = {}): Promise<GuestResult> {
  const exec = await execWithStreams(instance.client(), { args, env: opts.env }, { stdout: 'open', stderr: 'open' });
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  exec.stdout!.on('data', (c: Buffer) => o.push(c));
  exec.stderr!.on('data', (c: Buffer) => e.push(c));
  const status = await exec.exited;
  exec.close();
  return { stdout: Buffer.concat(o).toString(), stderr: Buffer.concat(e).toString(), exitCode: status.exitCode, signal: status.signal };
}

/** Runs `sh -c script` and fails with its output unless it exits 0. */
export async function shInGuest(instance: Instance, script: string): Promise<string> {
  const r = await runInGuest(instance, ['/bin/sh', '-c', script]);
  if (r.exitCode !== 0 || r.signal !== 0) throw new Error(`guest: ${script} → exit ${r.exitCode} signal ${r.signal}\n${r.stdout}${r.stderr}`);
  return r.stdout;
}
