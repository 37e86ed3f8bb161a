// Snapshots on real microVMs (QEMU TCG): a VM with a writable disk and a counting process
// is saved with leaveRunning; restores of it keep its guest state (a file in its tmpfs, the
// process counting on, the disk as written before the snapshot, never writing the snapshot's
// copy); two forks diverge (urandom, hostname) and both work; corrupted and mismatched
// snapshots are refused; every path leaves nothing behind (no QEMU, staged disk, partial dir).
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QemuManager, fork, type QemuInstance } from '../../src/vm/index.js';
import { shInGuest } from '../support/guest-exec.js';
import { ownHelperProcesses } from '../support/host-processes.js';
import { makePrivateTempDir } from '../support/tmpdir.js';
import { waitFor } from '../support/wait-for.js';
import type { Instance } from '../../src/vm/index.js';

let tmp: { dir: string; remove: () => Promise<void> };
let manager: QemuManager;
let source: QemuInstance;
let snapshotDir: string;
let diskFile: string;
const running: Instance[] = [];

function newDir(name: string): string {
  const d = path.join(tmp.dir, name);
  fs.mkdirSync(d);
  return d;
}

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

async function counter(inst: Instance): Promise<number> {
  return Number((await shInGuest(inst, 'cat /run/count 2>/dev/null || echo 0')).trim());
}

/** The counter has moved past `above` (the guest's process runs), within a bound. */
async function counterPasses(inst: Instance, above: number): Promise<number> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const n = await counter(inst);
    if (n > above) return n;
    if (Date.now() > deadline) throw new Error(`the guest's counter stayed at ${n}`);
  }
}

/** Nothing of a failed restore in its state dir: no QEMU of ours, no staged disk, no socket. */
function expectNothingLeftIn(stateDir: string): void {
  const left = fs.readdirSync(stateDir).filter((f) => f !== 'console.log' && f !== 'pids');
  expect(left).toEqual([]);
  if (fs.existsSync(path.join(stateDir, 'pids'))) expect(fs.readdirSync(path.join(stateDir, 'pids'))).toEqual([]);
}

function partialDirs(): string[] {
  return fs.readdirSync(tmp.dir).filter((f) => f.includes('.partial-'));
}

beforeAll(async () => {
  tmp = await makePrivateTempDir('snapshot');
  manager = new QemuManager();
  diskFile = path.join(tmp.dir, 'data.img');
  execFileSync('mkfs.ext4', ['-q', '-F', diskFile, '16M']);
  source = await manager.newInstance(newDir('source'));
  source.setCPUAndMemory(1, 256);
  source.addDisk('data', diskFile);
  await source.start({ liveness: false });
  running.push(source);
  await source.client().mount({ blockId: 'data', target: '/mnt/data', fstype: 'ext4' });
  await shInGuest(source, 'echo written-before > /mnt/data/note && sync && echo in-tmpfs > /tmp/state');
  // a process that keeps counting, started over the session the snapshot detaches
  await source.client().exec({ execId: 'counter', args: ['/bin/sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i > /run/count; sleep 0.05; done'] });
  await counterPasses(source, 0);
  snapshotDir = path.join(tmp.dir, 'snap');
}, 180_000);

afterAll(async () => {
  await Promise.all(running.map((i) => i.shutdown()));
  expect(ownHelperProcesses()).toEqual([]);
  await tmp?.remove();
});

describe('snapshot → restore', () => {
  it('saves a running VM into a private, self-describing dir and lets it run on', async () => {
    const before = await counter(source);
    const r = await source.snapshot(snapshotDir, { leaveRunning: true });
    expect(r.ram).toBe('mapped');
    expect(partialDirs()).toEqual([]);
    expect(fs.statSync(snapshotDir).mode & 0o777).toBe(0o700);
    for (const f of fs.readdirSync(snapshotDir)) expect(fs.statSync(path.join(snapshotDir, f)).mode & 0o777).toBe(0o600);
    const manifest = JSON.parse(fs.readFileSync(path.join(snapshotDir, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ format: 'vessel-snapshot', version: 1, vm: { cpus: 1, ramMiB: 256, machine: 'microvm' }, ram: { capture: 'mapped' } });
    expect(manifest.disks).toEqual([{ blockId: 'data', format: 'raw', readOnly: false, capture: 'copied', file: 'disk-data.raw' }]);
    expect(manifest.files.map((f: { name: string }) => f.name).sort()).toEqual(['disk-data.raw', 'ram', 'state']);
    for (const f of manifest.files) expect(sha256(path.join(snapshotDir, f.name))).toBe(f.sha256);
    // the source runs on, with a new agent session, its process still counting
    expect(source.state()).toBe('running');
    await counterPasses(source, before);
    expect(await shInGuest(source, 'cat /tmp/state')).toBe('in-tmpfs\n');
  });

  it('restores the guest state: tmpfs, a running process, the disk as it was written', async () => {
    const snapshotDisk = sha256(path.join(snapshotDir, 'disk-data.raw'));
    const stateDir = newDir('restored');
    const inst = await manager.restore(snapshotDir, stateDir, { start: { liveness: false } });
    running.push(inst);
    expect(inst.state()).toBe('running');
    expect(await shInGuest(inst, 'cat /tmp/state')).toBe('in-tmpfs\n');
    const n = await counter(inst);
    await counterPasses(inst, n); // the process saved mid-loop counts on
    expect(await shInGuest(inst, 'cat /mnt/data/note')).toBe('written-before\n');
    await shInGuest(inst, 'echo clone-wrote > /mnt/data/note && sync');
    expect(await shInGuest(inst, 'hostname')).toBe('restored\n');
    await inst.shutdown();
    // the clone wrote its own staged copy: neither the snapshot's nor the caller's file changed
    expect(sha256(path.join(snapshotDir, 'disk-data.raw'))).toBe(snapshotDisk);
    expectNothingLeftIn(stateDir);
  });

  it('forks two clones that diverge (urandom, hostname, reseeded, clock set) and both work', async () => {
    // the source's clock an hour behind: a clone must take the host's time, not the saved one
    await shInGuest(source, 'date -s @$(( $(date +%s) - 3600 )) >/dev/null');
    const { copies } = await fork(manager, source, {
      snapshotDir: path.join(tmp.dir, 'fork-snap'),
      stateDirs: [newDir('fork-a'), newDir('fork-b')],
      overrides: (i) => ({ hostname: `clone-${i}` }),
    });
    running.push(...copies);
    const [a, b] = copies as [Instance, Instance];
    const read = (inst: Instance) => shInGuest(inst, 'head -c 32 /dev/urandom | od -An -tx1 | tr -d " \\n"; echo; hostname; date +%s');
    const [ra, rb] = await Promise.all([read(a), read(b)]);
    const [bytesA, hostA, timeA] = ra.trim().split('\n');
    const [bytesB, hostB, timeB] = rb.trim().split('\n');
    expect(bytesA).toMatch(/^[0-9a-f]{64}$/);
    expect(bytesA).not.toBe(bytesB);
    expect([hostA, hostB]).toEqual(['clone-0', 'clone-1']);
    for (const t of [timeA, timeB]) expect(Math.abs(Number(t) - Date.now() / 1000)).toBeLessThan(60);
    // the agent reseeded the CRNG from the host's entropy (RNDADDENTROPY + RNDRESEEDCRNG) and stepped the clock
    const stepped = /restored from a snapshot: reseeded, clock stepped by 1h0m\d+(\.\d+)?s/;
    for (const c of copies) await waitFor(() => stepped.test(fs.readFileSync(c.consoleLogPath, 'utf8')), `${c.stateDir}: the agent's reseed line`);
    // both usable, independently
    await shInGuest(a, 'echo only-a > /tmp/who');
    expect(await shInGuest(b, 'cat /tmp/who 2>/dev/null || echo none')).toBe('none\n');
    expect(source.state()).toBe('running');
    await Promise.all(copies.map((c) => c.shutdown()));
  });
});

describe('refusals leave nothing behind', () => {
  /** A copy of the snapshot to damage. */
  function copyOfSnapshot(name: string): string {
    const dir = path.join(tmp.dir, name);
    fs.cpSync(snapshotDir, dir, { recursive: true });
    return dir;
  }

  it('refuses a corrupted file (SNAPSHOT_CORRUPT)', async () => {
    const dir = copyOfSnapshot('corrupt');
    const fd = fs.openSync(path.join(dir, 'state'), 'r+');
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, 4096);
    b[0] = b[0]! ^ 0xff;
    fs.writeSync(fd, b, 0, 1, 4096);
    fs.closeSync(fd);
    const stateDir = newDir('from-corrupt');
    await expect(manager.restore(dir, stateDir)).rejects.toMatchObject({ code: 'SNAPSHOT_CORRUPT', message: expect.stringContaining('state') });
    expectNothingLeftIn(stateDir);
    expect(ownHelperProcesses().length).toBe(running.filter((r) => r.state() === 'running').length);
  });

  it('refuses a missing file (SNAPSHOT_CORRUPT)', async () => {
    const dir = copyOfSnapshot('missing');
    fs.rmSync(path.join(dir, 'ram'));
    const stateDir = newDir('from-missing');
    await expect(manager.restore(dir, stateDir)).rejects.toMatchObject({ code: 'SNAPSHOT_CORRUPT', message: expect.stringContaining('ram is missing') });
    expectNothingLeftIn(stateDir);
  });

  it('refuses a snapshot of another image or QEMU (SNAPSHOT_MISMATCH), before starting anything', async () => {
    for (const [field, edit] of [
      ['image', (m: Record<string, any>) => (m.image.id = '0000000000000000')],
      ['QEMU', (m: Record<string, any>) => (m.qemu.version = 'QEMU emulator version 0.0.1')],
    ] as const) {
      const dir = copyOfSnapshot(`mismatch-${field}`);
      const file = path.join(dir, 'manifest.json');
      const m = JSON.parse(fs.readFileSync(file, 'utf8'));
      edit(m);
      fs.writeFileSync(file, JSON.stringify(m));
      const stateDir = newDir(`from-mismatch-${field}`);
      await expect(manager.restore(dir, stateDir)).rejects.toMatchObject({ code: 'SNAPSHOT_MISMATCH' });
      expect(fs.readdirSync(stateDir)).toEqual([]);
    }
  });

  it('refuses to save into an existing dir, or a VM with a share, leaving no partial dir', async () => {
    await expect(source.snapshot(snapshotDir, { leaveRunning: true })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    const withShare = await manager.newInstance(newDir('with-share'));
    withShare.addFS('data', tmp.dir);
    // a VM with a share can never be saved (yet): refused before it even runs
    await expect(withShare.snapshot(path.join(tmp.dir, 'share-snap'))).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: expect.stringContaining('share'),
    });
    await withShare.shutdown();
    expect(partialDirs()).toEqual([]);
    expect(source.state()).toBe('running');
    await counterPasses(source, await counter(source));
  });

  it('saves and stops a VM without leaveRunning: the VM is shut down, its state dir emptied', async () => {
    const dir = path.join(tmp.dir, 'final-snap');
    const stateDir = source.stateDir;
    await source.snapshot(dir);
    expect(source.state()).toBe('stopped');
    expectNothingLeftIn(stateDir);
    // and that snapshot restores like the others
    const inst = await manager.restore(dir, newDir('from-final'), { start: { liveness: false } });
    running.push(inst);
    expect(await shInGuest(inst, 'cat /tmp/state')).toBe('in-tmpfs\n');
    await inst.shutdown();
  });
});
