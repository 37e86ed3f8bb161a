// The shim's Kill and Delete against a guest that never answers (its QEMU SIGSTOPped:
// neither the agent nor QMP replies) under a real containerd. Each returns within 10 s:
// a SIGKILL the guest cannot deliver kills the container's VM (the task exits 137), and
// Delete goes on without `runc delete` in the guest. Nothing is left.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existingVmStateDir } from '../../src/shim/paths.js';
import type { PrivateContainerd } from '../support/containerd.js';
import { IMAGE, RUNTIME, bundleOf, containerdWithVessel, eventually, logTail, vmHelpers } from './helpers.js';

/** The bound the shim promises for Kill and Delete, whatever the guest does. */
const BOUND_MS = 10_000;

describe('vessel runtime: a frozen guest', () => {
  let c: PrivateContainerd;
  const why = () => logTail(c);

  beforeAll(async () => {
    c = await containerdWithVessel();
  }, 600_000);

  afterAll(async () => {
    await c?.stop();
  });

  /** Runs `id` detached and freezes its VM's QEMU; returns the VM's state dir. */
  async function runAndFreeze(id: string, args: string[]): Promise<string> {
    const run = await c.ctr(['run', '-d', '--runtime', RUNTIME, IMAGE, id, ...args], { timeoutMs: 120_000 });
    expect(run.code, `${run.stderr}\n${why()}`).toBe(0);
    const stateDir = existingVmStateDir(bundleOf(c, id))!;
    const qemu = vmHelpers(stateDir).filter((h) => h.endsWith('qemu-system-x86'));
    expect(qemu).toHaveLength(1);
    process.kill(Number(qemu[0]!.split(' ')[0]), 'SIGSTOP');
    return stateDir;
  }

  async function timed<T>(p: Promise<T>): Promise<{ r: T; ms: number }> {
    const t0 = Date.now();
    const r = await p;
    return { r, ms: Date.now() - t0 };
  }

  it('Kill SIGKILL kills the VM within 10 s (exit 137); Delete returns within 10 s; nothing left', async () => {
    const stateDir = await runAndFreeze('fz1', ['sleep', '600']);
    const kill = await timed(c.ctr(['task', 'kill', '-s', 'SIGKILL', 'fz1'], { timeoutMs: 60_000 }));
    expect(kill.r.code, `${kill.r.stderr}\n${why()}`).toBe(0);
    expect(kill.ms).toBeLessThanOrEqual(BOUND_MS);
    await eventually('fz1 STOPPED', async () => /^fz1\s+\d+\s+STOPPED$/m.test((await c.ctr(['task', 'ls'])).stdout));
    const del = await timed(c.ctr(['task', 'delete', 'fz1'], { timeoutMs: 60_000 }));
    expect(del.r.code, `${del.r.stderr}\n${why()}`).toBe(0);
    expect(del.ms).toBeLessThanOrEqual(BOUND_MS);
    expect(del.r.stdout + del.r.stderr).toMatch(/137/);
    expect((await c.ctr(['containers', 'rm', 'fz1'])).code).toBe(0);
    expect(vmHelpers(stateDir)).toEqual([]);
  }, 240_000);

  it('Kill SIGTERM that the guest cannot deliver fails within 10 s (DEADLINE_EXCEEDED); Delete --force still ends it all', async () => {
    const stateDir = await runAndFreeze('fz2', ['sleep', '600']);
    const kill = await timed(c.ctr(['task', 'kill', '-s', 'SIGTERM', 'fz2'], { timeoutMs: 60_000 }));
    expect(kill.r.code).not.toBe(0);
    expect(kill.r.stderr).toMatch(/did not deliver signal 15/);
    expect(kill.ms).toBeLessThanOrEqual(BOUND_MS);
    // ctr's delete --force: Kill SIGKILL (the VM goes), then Delete
    const del = await timed(c.ctr(['task', 'delete', '--force', 'fz2'], { timeoutMs: 60_000 }));
    expect(del.r.code, `${del.r.stderr}\n${why()}`).toBe(0);
    expect(del.ms).toBeLessThanOrEqual(2 * BOUND_MS);
    expect((await c.ctr(['containers', 'rm', 'fz2'])).code).toBe(0);
    expect(vmHelpers(stateDir)).toEqual([]);
  }, 240_000);
});
