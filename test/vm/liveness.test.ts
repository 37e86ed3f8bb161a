// Liveness on real VMs (QEMU backend): a running instance pings its agent, and one that stops
// answering (here QEMU frozen with SIGSTOP, the way a hung guest looks from the host) fails
// with GUEST_UNRESPONSIVE after the configured timeout, which state watchers see; the VM is
// released (nothing left). A VM paused on purpose (QMP stop) for longer than the timeout is
// not held against it: it runs on after resume.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVesselError } from '../../src/errors/index.js';
import { MIN_RAM_MIB, QemuManager, type QemuInstance, type StateChange } from '../../src/vm/index.js';
import { readRecords } from '../../src/vm/helpers/records.js';
import { shInGuest } from '../support/guest-exec.js';
import { isRunning, ownHelperProcesses } from '../support/host-processes.js';
import { makePrivateTempDir } from '../support/tmpdir.js';
import { waitFor } from '../support/wait-for.js';

const LIVENESS = { intervalMs: 300, unresponsiveAfterMs: 2_000 };
let tmp: { dir: string; remove: () => Promise<void> };
let n = 0;
const manager = new QemuManager();

async function started(): Promise<{ inst: QemuInstance; stateDir: string; changes: StateChange[] }> {
  const stateDir = path.join(tmp.dir, `state${++n}`);
  fs.mkdirSync(stateDir);
  const inst = await manager.newInstance(stateDir);
  inst.setCPUAndMemory(1, MIN_RAM_MIB);
  const changes: StateChange[] = [];
  inst.onStateChange((c) => changes.push(c));
  await inst.start({ liveness: LIVENESS });
  return { inst, stateDir, changes };
}

beforeAll(async () => {
  tmp = await makePrivateTempDir('liveness');
});

afterAll(async () => {
  expect(ownHelperProcesses()).toEqual([]);
  await tmp.remove();
});

describe('liveness', () => {
  it('a guest that stops answering fails with GUEST_UNRESPONSIVE after the timeout, and its VM is released', async () => {
    const { inst, stateDir, changes } = await started();
    try {
      const qemu = readRecords(stateDir).find((r) => r.name === 'qemu')!;
      process.kill(qemu.pid, 'SIGSTOP');
      const t0 = performance.now();
      await waitFor(() => inst.state() === 'failed' || inst.state() === 'stopped', 'the instance to fail', 30_000, 50);
      const took = performance.now() - t0;
      expect(took).toBeGreaterThanOrEqual(LIVENESS.unresponsiveAfterMs - LIVENESS.intervalMs);
      const failed = changes.find((c) => c.state === 'failed');
      expect(failed?.error).toSatisfy((e: unknown) => isVesselError(e, 'GUEST_UNRESPONSIVE') && /has not answered for \d+ s/.test((e as Error).message));
      await inst.whenStopped();
      expect(inst.state()).toBe('failed');
      expect(isRunning(qemu.pid)).toBe(false);
      expect(readRecords(stateDir)).toEqual([]);
      expect(() => inst.client()).toThrow(/GUEST_UNRESPONSIVE|has not answered/);
    } finally {
      await inst.shutdown({ now: true });
    }
  }, 120_000);

  it('a VM paused for longer than the timeout is not unresponsive: it runs on after resume', async () => {
    const { inst, changes } = await started();
    try {
      await inst.pause();
      await new Promise((resolve) => setTimeout(resolve, LIVENESS.unresponsiveAfterMs * 2)); // the condition: time paused
      expect(inst.state()).toBe('running');
      await inst.resume();
      expect((await shInGuest(inst, 'echo alive')).trim()).toBe('alive');
      // and a few liveness rounds later it still runs
      await new Promise((resolve) => setTimeout(resolve, LIVENESS.intervalMs * 4));
      expect(inst.state()).toBe('running');
      expect(changes.map((c) => c.state)).toEqual(['starting', 'running']);
    } finally {
      await inst.shutdown();
    }
  }, 120_000);

  it('refuses a timeout shorter than two intervals', async () => {
    const stateDir = path.join(tmp.dir, `state${++n}`);
    fs.mkdirSync(stateDir);
    const inst = await manager.newInstance(stateDir);
    await expect(inst.start({ liveness: { intervalMs: 1000, unresponsiveAfterMs: 1500 } })).rejects.toSatisfy((e) => isVesselError(e, 'INVALID_ARGUMENT'));
  });
});
