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

/**
 * Waits until the guest process `name` (one of that name) has stopped writing: the bytes it
 * has written (wchar of /proc/<pid>/io) unchanged for `stillMs` while it still runs — a
 * writer held by flow control, not one merely slow. Returns that byte count. Fails if the
 * process is gone or still writing after `timeoutMs`.
 */
export async function guestWriterStalled(instance: Instance, name: string, opts: { stillMs?: number; timeoutMs?: number } = {}): Promise<number> {
  const stillMs = opts.stillMs ?? 1000;
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let last = -1;
  let since = Date.now();
  for (;;) {
    const r = await runInGuest(instance, ['/bin/sh', '-c', `pid=$(pidof ${name}) && sed -n 's/^wchar: //p' /proc/$pid/io`]);
    const written = Number(r.stdout.trim());
    if (r.exitCode !== 0 || r.stdout.trim() === '' || !Number.isSafeInteger(written)) {
      throw new Error(`guest process ${name} is not running (or has no /proc/<pid>/io): exit ${r.exitCode} ${r.stdout}${r.stderr}`);
    }
    const now = Date.now();
    if (written !== last) {
      last = written;
      since = now;
    } else if (now - since >= stillMs) {
      return written;
    }
    if (now > deadline) throw new Error(`guest process ${name} still writing after ${opts.timeoutMs ?? 60_000} ms (${written} bytes)`);
  }
}
