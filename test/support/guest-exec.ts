// Runs a command in a started Instance's guest over two raw streams (stdout, stderr) and
// collects its output and exit status.
import type { Instance } from '../../src/vm/index.js';

let counter = 0;

export interface GuestResult { stdout: string; stderr: string; exitCode: number; signal: number }

export async function runInGuest(instance: Instance, args: string[], opts: { env?: string[] } = {}): Promise<GuestResult> {
  const id = `t${process.pid}-${++counter}`;
  const [out, err] = await Promise.all([instance.startStream(`${id}:out`), instance.startStream(`${id}:err`)]);
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  out.on('data', (c: Buffer) => o.push(c));
  err.on('data', (c: Buffer) => e.push(c));
  const ended = Promise.all([new Promise((r) => out.once('end', r)), new Promise((r) => err.once('end', r))]);
  const agent = instance.client();
  await agent.exec({ execId: id, args, env: opts.env, stdoutStream: `${id}:out`, stderrStream: `${id}:err` });
  const status = await agent.wait(id);
  await ended;
  out.end();
  err.end();
  return { stdout: Buffer.concat(o).toString(), stderr: Buffer.concat(e).toString(), exitCode: status.exitCode, signal: status.signal };
}

/** Runs `sh -c script` and fails with its output unless it exits 0. */
export async function shInGuest(instance: Instance, script: string): Promise<string> {
  const r = await runInGuest(instance, ['/bin/sh', '-c', script]);
  if (r.exitCode !== 0 || r.signal !== 0) throw new Error(`guest: ${script} → exit ${r.exitCode} signal ${r.signal}\n${r.stdout}${r.stderr}`);
  return r.stdout;
}
