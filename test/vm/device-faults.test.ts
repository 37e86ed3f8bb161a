// Device faults on real VMs (QEMU backend), each injected the way it happens in the field:
// - a share's virtiofsd SIGKILLed while the guest writes to the share: the instance runs on
//   and reports the share as failed (DEVICE_FAILED naming its tag); the guest's later
//   accesses fail at once with ENOTCONN (the agent replaced the mount by a dead one) instead
//   of hanging, other execs work, and shutdown is graceful and bounded (the agent's sync does
//   not wait for the dead share). The write in flight when virtiofsd died is never answered:
//   Linux cannot abort a virtiofs connection (agent.proto FenceDevice), so that writer stays
//   blocked until the VM ends, which is why every guest call here is bounded.
// - a NIC's passt SIGKILLed: the instance runs on and reports the NIC as failed; the guest's
//   connects fail at once (ENETUNREACH: the link is down), Ping and exec work, shutdown is clean.
// - not a device fault: QEMU dying (its virtiofsd and passt end with it) fails the instance.
// - a writable disk staged into a state dir on a full filesystem (an 8 MiB tmpfs, a 16 MiB
//   image): start fails with RESOURCE_EXHAUSTED saying so, nothing is left behind, and the
//   state dir serves the next instance.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { once } from 'node:events';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVesselError } from '../../src/errors/index.js';
import { QemuManager, SHUTDOWN_BOUND_MS, passtHostDefaults, type DeviceFailure, type QemuInstance } from '../../src/vm/index.js';
import { readRecords } from '../../src/vm/helpers/records.js';
import { runInGuest, shInGuest, type GuestResult } from '../support/guest-exec.js';
import { isRunning, ownHelperProcesses } from '../support/host-processes.js';
import { makePrivateTempDir } from '../support/tmpdir.js';
import { waitFor } from '../support/wait-for.js';

const manager = new QemuManager();
let tmp: { dir: string; remove: () => Promise<void> };
let n = 0;

/** `p`, or a failure naming `what` after `ms` (a guest call that hangs must fail the test, not stall it). */
async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function guest(inst: QemuInstance, script: string, ms = 15_000): Promise<GuestResult> {
  return bounded(runInGuest(inst, ['/bin/sh', '-c', script]), ms, `guest: ${script}`);
}

function nextFailure(inst: QemuInstance): Promise<DeviceFailure> {
  return new Promise((resolve) => {
    const off = inst.onDeviceFailure((f) => {
      off();
      resolve(f);
    });
  });
}

function newStateDir(): string {
  const dir = path.join(tmp.dir, `state${++n}`);
  fs.mkdirSync(dir);
  return dir;
}

/** Shuts down and checks the teardown was bounded, clean and left nothing running. */
async function shutdownCleanly(inst: QemuInstance, stateDir: string): Promise<void> {
  const pids = readRecords(stateDir).map((r) => r.pid);
  const t0 = performance.now();
  await inst.shutdown();
  expect(performance.now() - t0).toBeLessThan(SHUTDOWN_BOUND_MS);
  expect(inst.state()).toBe('stopped');
  expect(readRecords(stateDir)).toEqual([]);
  for (const pid of pids) expect(isRunning(pid)).toBe(false);
}

beforeAll(async () => {
  tmp = await makePrivateTempDir('device-faults');
});

afterAll(async () => {
  expect(ownHelperProcesses()).toEqual([]);
  await tmp.remove();
});

describe('virtiofsd killed mid-I/O', () => {
  it('the share is reported failed, guest accesses fail with ENOTCONN instead of hanging, the VM runs on and shuts down gracefully', async () => {
    const stateDir = newStateDir();
    const share = path.join(tmp.dir, 'share');
    fs.mkdirSync(share);
    const inst = await manager.newInstance(stateDir);
    try {
      inst.setCPUAndMemory(1, 256);
      inst.addFS('data', share);
      await inst.start();
      // a writer that keeps the share busy: 64 KiB writes, round and round over four files
      await inst.client().exec({
        execId: 'writer',
        args: ['/bin/sh', '-c', 'i=0; while dd if=/dev/zero of=/mnt/data/f$((i % 4)) bs=64k count=16 2>/dev/null; do i=$((i + 1)); done'],
      });
      await waitFor(() => fs.existsSync(path.join(share, 'f1')), 'the guest writer to reach the host share', 30_000, 20);

      const failed = nextFailure(inst);
      const virtiofsd = readRecords(stateDir).find((r) => r.name === 'virtiofsd-0')!;
      process.kill(virtiofsd.pid, 'SIGKILL');
      const failure = await bounded(failed, 15_000, 'the device failure');

      expect(failure).toMatchObject({ kind: 'share', id: 'data', fenced: { targets: ['/mnt/data'] } });
      expect(failure.error).toSatisfy((e: unknown) => isVesselError(e, 'DEVICE_FAILED'));
      expect(failure.error.message).toMatch(/^share "data": its virtiofsd \(pid \d+\) was killed by SIGKILL while the VM ran/);
      expect(inst.deviceFailures()).toEqual([failure]);
      expect(inst.state()).toBe('running');

      // later accesses fail at once with an I/O error; none lands in the guest's own root
      const r = await guest(inst, 'ls /mnt/data; dd if=/dev/zero of=/mnt/data/after bs=4k count=1; grep " /mnt/data " /proc/mounts');
      expect(r.stderr).toMatch(/ls: \/mnt\/data: Transport endpoint is not connected/);
      expect(r.stderr).toMatch(/dd: .*after.*: Transport endpoint is not connected/);
      expect(r.stdout).toMatch(/^failed:data \/mnt\/data fuse\.vessel-failed ro,/m);
      expect(fs.existsSync(path.join(share, 'after'))).toBe(false);

      // the rest of the guest works
      expect((await shInGuest(inst, 'echo alive; echo x > /tmp/ok && cat /tmp/ok')).trim()).toBe('alive\nx');
      await inst.client().ping({ timeoutMs: 5_000 });
      expect(inst.deviceFailures()).toHaveLength(1);

      await shutdownCleanly(inst, stateDir);
      // graceful: the agent powered the guest off (its sync did not wait for the dead share)
      expect(fs.readFileSync(inst.consoleLogPath, 'utf8')).toMatch(/reboot: Power down/);
    } finally {
      await inst.shutdown({ now: true });
    }
  }, 120_000);
});

describe('passt killed', () => {
  let server: http.Server;
  let port: number;

  beforeAll(async () => {
    server = http.createServer((_req, res) => res.end('hello\n')).listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as { port: number }).port;
  });

  afterAll(() => {
    server?.close();
  });

  it('the NIC is reported failed, connects fail at once, the agent answers and shutdown is clean', async () => {
    const stateDir = newStateDir();
    const mac = '52:54:00:aa:00:31';
    const gw = passtHostDefaults().gateway!;
    const inst = await manager.newInstance(stateDir);
    try {
      inst.setCPUAndMemory(1, 256);
      inst.addPasstNIC(mac);
      await inst.start();
      expect((await guest(inst, `wget -q -O- http://${gw}:${port}/`)).stdout).toBe('hello\n');

      const failed = nextFailure(inst);
      const passt = readRecords(stateDir).find((r) => r.name === 'passt-0')!;
      process.kill(passt.pid, 'SIGKILL');
      const failure = await bounded(failed, 15_000, 'the device failure');

      expect(failure).toMatchObject({ kind: 'nic', id: mac, fenced: { targets: ['eth0'] } });
      expect(failure.error).toSatisfy((e: unknown) => isVesselError(e, 'DEVICE_FAILED'));
      expect(failure.error.message).toMatch(new RegExp(`^NIC ${mac}: its passt \\(pid \\d+\\) was killed by SIGKILL while the VM ran`));
      expect(inst.state()).toBe('running');

      // a connect fails at once (nc waits up to 10 s for one that is merely unanswered)
      const t0 = performance.now();
      const r = await guest(inst, `nc -w 10 ${gw} ${port} </dev/null; echo "nc=$?"; ip -o link show eth0`);
      expect(performance.now() - t0).toBeLessThan(5_000);
      expect(r.stdout).toMatch(/^nc=1$/m);
      expect(r.stderr).toMatch(/Network is unreachable/);
      expect(r.stdout).not.toMatch(/eth0: <[^>]*\bUP\b/); // set down by the agent

      await inst.client().ping({ timeoutMs: 5_000 });
      expect((await shInGuest(inst, 'echo alive')).trim()).toBe('alive');
      expect(inst.deviceFailures()).toEqual([failure]);

      await shutdownCleanly(inst, stateDir);
    } finally {
      await inst.shutdown({ now: true });
    }
  }, 120_000);
});

describe('not device faults', () => {
  it("the VMM dying takes its helpers with it: that is the instance's failure (VM_EXITED), not its devices'", async () => {
    const stateDir = newStateDir();
    const share = path.join(tmp.dir, 'share-vmm');
    fs.mkdirSync(share);
    const inst = await manager.newInstance(stateDir);
    try {
      inst.setCPUAndMemory(1, 256);
      inst.addFS('data', share);
      inst.addPasstNIC('52:54:00:aa:00:32');
      await inst.start();
      const helpers = readRecords(stateDir);
      process.kill(helpers.find((r) => r.name === 'qemu')!.pid, 'SIGKILL');
      await bounded(inst.whenStopped(), 15_000, 'the instance to settle');
      expect(inst.state()).toBe('failed');
      expect(inst.failure()).toSatisfy((e: unknown) => isVesselError(e, 'VM_EXITED'));
      for (const h of helpers) expect(isRunning(h.pid)).toBe(false);
      expect(inst.deviceFailures()).toEqual([]);
    } finally {
      await inst.shutdown({ now: true });
    }
  }, 120_000);
});

describe('a writable disk staged onto a full filesystem', () => {
  let stateDir: string;
  let mounted = false;

  beforeAll(() => {
    stateDir = newStateDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'vessel-test-full', stateDir]);
    mounted = true;
  });

  afterAll(() => {
    if (mounted) execFileSync('umount', [stateDir]);
  });

  it('start fails with RESOURCE_EXHAUSTED, nothing is left behind, and the state dir serves the next instance', async () => {
    const big = path.join(tmp.dir, 'big.raw');
    fs.writeFileSync(big, crypto.randomBytes(16 << 20)); // not sparse: the copy needs all of it
    const inst = await manager.newInstance(stateDir);
    inst.addDisk('big', big);
    const freeBefore = fs.statfsSync(stateDir).bavail;
    const err = await inst.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toSatisfy((e: unknown) => isVesselError(e, 'RESOURCE_EXHAUSTED'));
    expect((err as Error).message).toMatch(
      new RegExp(`^no space left staging disk big \\(16\\.0 MiB allocated in ${big}\\) into ${path.join(stateDir, 'disks')} \\([\\d.]+ MiB free there\\)`),
    );
    expect(inst.state()).toBe('failed');
    expect(inst.failure()).toBe(err);
    await inst.shutdown();
    expect(fs.existsSync(path.join(stateDir, 'disks'))).toBe(false); // no partial copy, no staging dir
    expect(fs.statfsSync(stateDir).bavail).toBe(freeBefore);
    expect(readRecords(stateDir)).toEqual([]);

    // the same state dir, a disk that fits: the next instance starts and uses it
    const small = path.join(tmp.dir, 'small.raw');
    const content = path.join(tmp.dir, 'small.d');
    fs.mkdirSync(content);
    fs.writeFileSync(path.join(content, 'inside.txt'), 'small disk\n');
    execFileSync('mkfs.ext4', ['-q', '-F', '-d', content, small, '4M']);
    const next = await manager.newInstance(stateDir);
    try {
      next.setCPUAndMemory(1, 256);
      next.addDisk('small', small);
      await next.start();
      await next.client().mount({ blockId: 'small', target: '/mnt/small', fstype: 'ext4' });
      expect(await shInGuest(next, 'cat /mnt/small/inside.txt && echo more > /mnt/small/new.txt && sync')).toBe('small disk\n');
      await shutdownCleanly(next, stateDir);
      expect(fs.existsSync(path.join(stateDir, 'disks'))).toBe(false);
    } finally {
      await next.shutdown({ now: true });
    }
  }, 120_000);
});
