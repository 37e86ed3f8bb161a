// Failure paths of the QEMU backend on real VMs: the VMM killed mid-run, QEMU refusing
// its configuration, a start deadline, shutdown during start, startStream while starting,
// and the owning process crashing (helpers die with it; a later instance on the same
// state dir ends whatever escaped). The smallest RAM vessel accepts (128 MiB) is used
// throughout, which also proves that it boots.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_RAM_MIB, QemuManager, type QemuInstance } from '../../src/vm/index.js';
import { readRecords, writeRecord, type ProcessRecord } from '../../src/vm/helpers/records.js';
import { processStartTime } from '../../src/host/index.js';
import { runInGuest } from '../support/guest-exec.js';
import { isRunning, ownHelperProcesses } from '../support/host-processes.js';
import { repoRoot } from '../support/repo.js';
import { makePrivateTempDir } from '../support/tmpdir.js';
import { waitFor } from '../support/wait-for.js';

let tmp: { dir: string; remove: () => Promise<void> };
let share: string;
let disk: string;
let diskSha: string;
let n = 0;

const manager = new QemuManager();

async function newInstance(): Promise<{ inst: QemuInstance; stateDir: string }> {
  const stateDir = path.join(tmp.dir, `state${++n}`);
  fs.mkdirSync(stateDir);
  const inst = await manager.newInstance(stateDir);
  inst.setCPUAndMemory(1, MIN_RAM_MIB);
  return { inst, stateDir };
}

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

beforeAll(async () => {
  tmp = await makePrivateTempDir('instance-failure');
  share = path.join(tmp.dir, 'share');
  fs.mkdirSync(share);
  disk = path.join(tmp.dir, 'disk.img');
  fs.writeFileSync(disk, crypto.randomBytes(1 << 20));
  diskSha = sha256(disk);
});

afterAll(async () => {
  expect(ownHelperProcesses()).toEqual([]);
  await tmp.remove();
});

describe('failures', () => {
  it('QEMU SIGKILLed mid-run: the instance fails, waiting calls fail, everything is reaped', async () => {
    const { inst, stateDir } = await newInstance();
    inst.addFS('data', share);
    inst.addDisk('scratch', disk);
    // startStream during start() waits for the transport instead of failing
    const starting = inst.start();
    const early = inst.startStream('early', { timeoutMs: 180_000 });
    await starting;
    (await early).destroy();
    const pids = readRecords(stateDir).map((r) => r.pid);
    const qemu = readRecords(stateDir).find((r) => r.name === 'qemu')!;
    const agent = inst.client();
    await agent.exec({ execId: 'sleeper', args: ['sleep', '1000'] });
    const waiting = agent.wait('sleeper');
    process.kill(qemu.pid, 'SIGKILL');
    await expect(waiting).rejects.toThrow();
    await inst.whenStopped();
    expect(inst.state()).toBe('failed');
    expect(inst.failure()).toMatchObject({ code: 'VM_EXITED', message: expect.stringContaining('SIGKILL') });
    for (const pid of pids) expect(isRunning(pid)).toBe(false);
    expect(fs.existsSync(path.join(stateDir, 'disks', 'scratch.raw'))).toBe(false);
    expect(readRecords(stateDir)).toEqual([]);
    await expect(inst.startStream('after')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await inst.shutdown();
    expect(inst.state()).toBe('failed');
    expect(sha256(disk)).toBe(diskSha);
  });

  it('QEMU refusing its configuration fails start with its message and releases everything', async () => {
    const { inst, stateDir } = await newInstance();
    inst.addFS('data', share);
    inst.addDisk('scratch', disk, { vmdk: true }); // not a VMDK: QEMU cannot open it
    const err = await inst.start().catch((e: unknown) => e);
    // QEMU's own line about the scratch drive, its complaint naming the format
    // (e.g. "qemu-system-x86_64: -drive file=…/scratch.vmdk,format=vmdk,…: invalid VMDK image descriptor")
    expect(err).toMatchObject({
      code: 'START_FAILED',
      message: expect.stringMatching(/QEMU said:\n(?:.*\n)*qemu-system-x86_64: -drive file=[^\n]*\/scratch\.vmdk,format=vmdk,[^\n]*: [^\n]*VMDK/),
    });
    expect(inst.state()).toBe('failed');
    expect(readRecords(stateDir)).toEqual([]);
    expect(fs.existsSync(path.join(stateDir, 'disks', 'scratch.vmdk'))).toBe(false);
    expect(ownHelperProcesses()).toEqual([]);
    await inst.shutdown();
    expect(sha256(disk)).toBe(diskSha);
  });

  it('a start deadline fails with DEADLINE_EXCEEDED and reaps QEMU', async () => {
    const { inst, stateDir } = await newInstance();
    await expect(inst.start({ timeoutMs: 300 })).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(readRecords(stateDir)).toEqual([]);
    expect(ownHelperProcesses()).toEqual([]);
  });

  it('shutdown during start aborts the start and leaves a stopped instance', async () => {
    const { inst, stateDir } = await newInstance();
    inst.addFS('data', share);
    const starting = inst.start();
    await waitFor(() => readRecords(stateDir).some((r) => r.name === 'qemu'), 'QEMU to be started', 60_000);
    await inst.shutdown();
    await expect(starting).rejects.toMatchObject({ message: expect.stringContaining('shutdown() was called during start()') });
    expect(inst.state()).toBe('stopped');
    expect(readRecords(stateDir)).toEqual([]);
    expect(ownHelperProcesses()).toEqual([]);
  });
});

describe('shutdown races', () => {
  it('QEMU killed just before shutdown(): the instance still reports the VMM failure', async () => {
    const { inst, stateDir } = await newInstance();
    await inst.start();
    const qemu = readRecords(stateDir).find((r) => r.name === 'qemu')!;
    process.kill(qemu.pid, 'SIGKILL');
    await inst.shutdown(); // begins before the exit is noticed
    expect(inst.state()).toBe('failed');
    expect(inst.failure()).toMatchObject({ code: 'VM_EXITED' });
    expect(readRecords(stateDir)).toEqual([]);
  });

  it('shutdown({ now }) never asks the guest, and overtakes a graceful shutdown that cannot finish', async () => {
    const a = await newInstance();
    await a.inst.start();
    await a.inst.shutdown({ now: true });
    expect(a.inst.state()).toBe('stopped');
    expect(fs.readFileSync(path.join(a.stateDir, 'console.log'), 'utf8')).not.toContain('shutdown requested');

    const b = await newInstance();
    await b.inst.start();
    await b.inst.pause(); // a frozen guest: the graceful path would wait out all its timeouts (18 s)
    const graceful = b.inst.shutdown();
    await b.inst.shutdown({ now: true });
    const first = await Promise.race([graceful.then(() => 'shutdown'), new Promise((r) => setTimeout(() => r('still waiting'), 10_000))]);
    expect(first).toBe('shutdown');
    expect(b.inst.state()).toBe('stopped');
    expect(readRecords(b.stateDir)).toEqual([]);
  });
});

describe('a wedged VMM', () => {
  it('a graceful shutdown of a SIGSTOPped QEMU still ends (bounded waits, then SIGKILL)', async () => {
    const { inst, stateDir } = await newInstance();
    await inst.start();
    const qemu = readRecords(stateDir).find((r) => r.name === 'qemu')!;
    process.kill(qemu.pid, 'SIGSTOP'); // neither the agent nor QMP will ever answer
    await inst.shutdown();
    expect(isRunning(qemu.pid)).toBe(false);
    expect(readRecords(stateDir)).toEqual([]);
  }, 60_000);
});

describe('the owning process crashes', () => {
  it('helpers die with it; the state dir is in use while it lives; a later instance ends what escaped', async () => {
    const stateDir = path.join(tmp.dir, 'owned');
    fs.mkdirSync(stateDir);
    const script = path.join(repoRoot, 'dist', 'test', 'support', 'instance-owner.js');
    const owner = spawn(process.execPath, [script, stateDir, share], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((r) => owner.once('exit', r));
    try {
      const line = await new Promise<string>((resolve, reject) => {
        readline.createInterface({ input: owner.stdout! }).once('line', resolve);
        owner.once('exit', (code) => reject(new Error(`owner exited (${code}) before starting`)));
      });
      const records = JSON.parse(line.replace(/^started /, '')) as ProcessRecord[];
      expect(records.map((r) => r.name).sort()).toEqual(['qemu', 'virtiofsd-0']);
      await expect(manager.newInstance(stateDir)).rejects.toMatchObject({ code: 'STATE_DIR_IN_USE' });

      owner.kill('SIGKILL');
      await exited;
      // pdeathsig: the kernel ends QEMU and virtiofsd with their parent
      await waitFor(() => records.every((r) => !isRunning(r.pid)), 'the helpers to die with their owner', 30_000);

      // A helper that escaped (here: a process recorded as the dead owner's) is ended by
      // the next instance on the state dir.
      const escaped = spawn('sleep', ['600'], { detached: true, stdio: 'ignore' });
      escaped.unref();
      writeRecord(stateDir, { name: 'escaped', pid: escaped.pid!, startTime: processStartTime(escaped.pid!)!, command: 'sleep', owner: records[0]!.owner });
      const next = await manager.newInstance(stateDir);
      expect(isRunning(escaped.pid!)).toBe(false);
      expect(readRecords(stateDir)).toEqual([]);
      await next.shutdown();
    } finally {
      owner.kill('SIGKILL');
      await exited;
    }
  });
});

describe('a minimal-RAM guest', () => {
  it(`boots with ${MIN_RAM_MIB} MiB and runs a command`, async () => {
    const { inst } = await newInstance();
    await inst.start();
    try {
      const r = await runInGuest(inst, ['/bin/sh', '-c', 'echo ok; exit 7']);
      expect(r).toMatchObject({ stdout: 'ok\n', exitCode: 7 });
    } finally {
      await inst.shutdown();
    }
  });
});
