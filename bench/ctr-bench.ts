// What the benches that drive a private containerd with ctr share (bench/ctr-run,
// bench/pod-network): signals (the first cuts the running ctr and makes the bench clean up,
// a second exits at once), ctr runs that a signal can cut, and the cleanup of containers
// through containerd and of what a vessel shim keeps outside the bundle.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { reapOrphans } from '../src/vm/index.js';
import type { PrivateContainerd } from '../test/support/containerd.js';

export class Interrupted extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
  }
}

const stop = new AbortController();
let current: ChildProcess | undefined;

/** Aborted by the first SIGINT/SIGTERM/SIGHUP (its reason an Interrupted). */
export const interruption: AbortSignal = stop.signal;

/** Installs the signal handlers for bench `name`. */
export function handleSignals(name: string): void {
  const onSignal = (sig: NodeJS.Signals) => {
    if (stop.signal.aborted) process.exit(128 + (os.constants.signals[sig] ?? 0)); // second signal: at once
    process.stderr.write(`bench ${name}: ${sig}, cleaning up (again to exit at once)\n`);
    stop.abort(new Interrupted(sig));
    current?.kill('SIGKILL');
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
}

export function checkInterrupted(): void {
  if (stop.signal.aborted) throw stop.signal.reason as Error;
}

export interface CtrRun {
  ms: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs `ctr …` to its end (killed after `timeoutMs`), timed; a signal kills it and rejects. */
export function runCtr(c: PrivateContainerd, args: string[], timeoutMs: number): Promise<CtrRun> {
  checkInterrupted();
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = c.spawnCtr(args);
    current = p;
    p.stdin?.end();
    let stderr = '';
    p.stdout?.resume();
    p.stderr?.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.once('error', (err) => {
      clearTimeout(timer);
      current = undefined;
      reject(err);
    });
    p.once('close', (code, signal) => {
      const ms = performance.now() - t0;
      clearTimeout(timer);
      current = undefined;
      if (stop.signal.aborted) reject(stop.signal.reason as Error);
      else resolve({ ms, code, signal, stderr });
    });
  });
}

/** A failed ctr run, with the tail of containerd's log. */
export function ctrFailure(c: PrivateContainerd, what: string, r: CtrRun): Error {
  return new Error(
    `${what}: exit ${r.code ?? r.signal}: ${r.stderr.trim()}\ncontainerd log:\n${fs.readFileSync(`${c.dir}/containerd.log`, 'utf8').slice(-4000)}`,
  );
}

/**
 * Cleanup after a bench, on every path: the running ctr is killed; `ids` are killed and
 * removed through containerd (so a vessel shim tears its VM down and exits; bounded, and
 * skipped when containerd is gone: a Ctrl-C reaches it too); the harness stops containerd;
 * last, what vessel shims keep outside their bundles (`outsideOf(ids)`, asked while the
 * bundles still exist) is reaped and removed.
 */
export async function cleanUp(
  c: PrivateContainerd,
  ids: (quick: Quick | undefined) => Promise<string[]>,
  outsideOf: (ids: string[]) => Array<{ socket: string; vmDir?: string }>,
): Promise<void> {
  current?.kill('SIGKILL');
  const quick: Quick | undefined = containerdAlive(c)
    ? (args, timeoutMs = 10_000) => c.ctr(['--connect-timeout', '3s', ...args], { timeoutMs }).catch(() => undefined)
    : undefined;
  const left = await ids(quick);
  const outside = outsideOf(left);
  if (quick) {
    for (const id of left) {
      await quick(['task', 'kill', '-s', 'SIGKILL', id]);
      await quick(['task', 'delete', '--force', id], 30_000);
      await quick(['containers', 'rm', id]);
    }
  }
  await c.stop();
  for (const { socket, vmDir } of outside) {
    if (vmDir && fs.existsSync(vmDir)) {
      await reapOrphans(vmDir).catch(() => undefined);
      fs.rmSync(vmDir, { recursive: true, force: true });
    }
    fs.rmSync(socket, { force: true });
  }
}

/** A bounded ctr call that never throws (undefined when it failed). */
export type Quick = (args: string[], timeoutMs?: number) => Promise<{ stdout: string } | undefined>;

export function containerdAlive(c: PrivateContainerd): boolean {
  try {
    process.kill(c.pid(), 0);
    return fs.existsSync(c.socket);
  } catch {
    return false;
  }
}

/** Runs the bench's main; exit code 128+N after a signal, 1 after a failure (printed). */
export async function runBench(name: string, main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    if (err instanceof Interrupted) {
      process.exitCode = 128 + (os.constants.signals[err.signal] ?? 0);
    } else {
      process.stderr.write(`bench ${name}: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    }
  }
}
