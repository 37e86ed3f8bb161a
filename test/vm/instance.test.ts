// The seed interface on a real microVM (QEMU TCG): one instance configured with every kind
// of device — 4 virtio-fs shares (2 read-only), a writable raw disk and a read-only VMDK,
// a NIC on a passt vessel starts and a datagram NIC to a host socket — then every check
// that needs a running guest, then shutdown and what it must leave behind (nothing).
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QemuManager, passtHostDefaults, type QemuInstance, type StartResult } from '../../src/vm/index.js';
import { readRecords } from '../../src/vm/helpers/records.js';
import { chooseAccelerator } from '../../src/vm/qemu/index.js';
import { DgramSink } from '../support/dgram-sink.js';
import { runInGuest, shInGuest } from '../support/guest-exec.js';
import { isRunning, ownHelperProcesses } from '../support/host-processes.js';
import { makePrivateTempDir } from '../support/tmpdir.js';

let tmp: { dir: string; remove: () => Promise<void> };
let inst: QemuInstance;
let started: StartResult;
let sink: DgramSink;
let httpServer: http.Server;
let httpPort: number;
let stateDir: string;
const shares: string[] = [];
let rawDisk: string;
let rawDiskSha: string;
let vmdkDisk: string;
let helperPids: number[] = [];

const PASST_MAC = '52:54:00:aa:00:01';
const GRAM_MAC = '52:54:00:aa:00:02';

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function makeExt4(file: string, content: Record<string, string>): void {
  const src = `${file}.d`;
  fs.mkdirSync(src);
  for (const [name, text] of Object.entries(content)) fs.writeFileSync(path.join(src, name), text);
  execFileSync('mkfs.ext4', ['-q', '-F', '-d', src, file, '16M']);
}

beforeAll(async () => {
  tmp = await makePrivateTempDir('instance');
  stateDir = path.join(tmp.dir, 'state');
  fs.mkdirSync(stateDir);
  for (let i = 0; i < 4; i++) {
    const d = path.join(tmp.dir, `share${i}`);
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, 'hello.txt'), `share ${i}\n`);
    shares.push(d);
  }
  rawDisk = path.join(tmp.dir, 'data.img');
  makeExt4(rawDisk, { 'inside.txt': 'raw disk\n' });
  rawDiskSha = sha256(rawDisk);
  const vmdkSource = path.join(tmp.dir, 'ro.img');
  makeExt4(vmdkSource, { 'inside.txt': 'vmdk disk\n' });
  vmdkDisk = path.join(tmp.dir, 'ro.vmdk');
  execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', vmdkSource, vmdkDisk]);

  sink = await DgramSink.start(path.join(tmp.dir, 'gvproxy.sock'));
  httpServer = http.createServer((_req, res) => res.end('hello from the host\n')).listen(0, '127.0.0.1');
  await once(httpServer, 'listening');
  httpPort = (httpServer.address() as { port: number }).port;

  inst = await new QemuManager().newInstance(stateDir);
  inst.setCPUAndMemory(1, 256);
  inst.addFS('rw0', shares[0]!);
  inst.addFS('rw1', shares[1]!, { mountPoint: '/srv/rw1' });
  inst.addFS('ro2', shares[2]!, { readOnly: true });
  inst.addFS('ro3', shares[3]!, { readOnly: true });
  inst.addDisk('data', rawDisk);
  inst.addDisk('ro-vmdk', vmdkDisk, { readOnly: true, vmdk: true });
  inst.addPasstNIC(PASST_MAC);
  inst.addNIC(path.join(tmp.dir, 'gvproxy.sock'), GRAM_MAC, 'unixgram', { ip: { addresses: ['10.99.0.2/24'] } });
  started = await inst.start();
  helperPids = readRecords(stateDir).map((r) => r.pid);
}, 240_000);

afterAll(async () => {
  await inst?.shutdown();
  await sink?.stop();
  httpServer?.close();
  await tmp?.remove();
});

describe('a running instance', () => {
  it('started: running, timings in order, helpers recorded', () => {
    expect(inst.state()).toBe('running');
    // the accelerator QemuManager picks on this host (kvm where usable, else tcg), and QEMU runs with it
    expect(started.accelerator).toBe(chooseAccelerator().accelerator);
    const qemu = readRecords(stateDir).find((r) => r.name === 'qemu')!;
    const argv = fs.readFileSync(`/proc/${qemu.pid}/cmdline`, 'utf8').split('\0');
    expect(argv[argv.indexOf('-accel') + 1]).toBe(started.accelerator);
    expect(started.timings.vmmSpawnedMs).toBeLessThan(started.timings.agentReadyMs);
    expect(started.timings.agentReadyMs).toBeLessThanOrEqual(started.timings.configuredMs);
    // qemu, one virtiofsd per share, one passt
    expect(
      readRecords(stateDir)
        .map((r) => r.name)
        .sort(),
    ).toEqual(['passt-0', 'qemu', 'virtiofsd-0', 'virtiofsd-1', 'virtiofsd-2', 'virtiofsd-3']);
    for (const pid of helperPids) expect(isRunning(pid)).toBe(true);
  });

  it('configuration after start fails, and so does a second start', async () => {
    expect(() => inst.addFS('late', shares[0]!)).toThrow(expect.objectContaining({ code: 'CONFIG_AFTER_START' }));
    expect(() => inst.setCPUAndMemory(2, 512)).toThrow(expect.objectContaining({ code: 'CONFIG_AFTER_START' }));
    expect(() => inst.addPasstNIC('52:54:00:aa:00:09')).toThrow(expect.objectContaining({ code: 'CONFIG_AFTER_START' }));
    await expect(inst.start()).rejects.toMatchObject({ code: 'ALREADY_STARTED' });
  });

  it('state dir, sockets and console log are private', () => {
    expect(fs.statSync(stateDir).mode & 0o777).toBe(0o700);
    for (const name of ['agent.sock', 'qmp.sock', 'console.log']) {
      expect(fs.statSync(path.join(stateDir, name)).mode & 0o077).toBe(0);
    }
    expect(fs.readFileSync(path.join(stateDir, 'console.log'), 'utf8').length).toBeGreaterThan(0);
  });

  it('four shares: rw writes reach the host, ro writes are refused, also after a guest remount rw', async () => {
    const out = await shInGuest(
      inst,
      [
        'cat /mnt/rw0/hello.txt /srv/rw1/hello.txt /mnt/ro2/hello.txt /mnt/ro3/hello.txt',
        'echo guest0 > /mnt/rw0/from-guest.txt',
        'echo guest1 > /srv/rw1/from-guest.txt',
        'if echo x > /mnt/ro2/nope.txt; then echo RO2-WRITABLE; fi',
        'mount -o remount,rw /mnt/ro3 && grep " /mnt/ro3 " /proc/mounts',
        'if echo x > /mnt/ro3/nope.txt; then echo RO3-WRITABLE; fi',
      ].join('; '),
    );
    expect(out).toContain('share 0\nshare 1\nshare 2\nshare 3\n');
    expect(out).toMatch(/\/mnt\/ro3 virtiofs rw/); // the guest did remount it read-write...
    expect(out).not.toContain('WRITABLE'); // ...and the host still refused the write
    expect(fs.readFileSync(path.join(shares[0]!, 'from-guest.txt'), 'utf8')).toBe('guest0\n');
    expect(fs.readFileSync(path.join(shares[1]!, 'from-guest.txt'), 'utf8')).toBe('guest1\n');
    expect(fs.existsSync(path.join(shares[2]!, 'nope.txt'))).toBe(false);
    expect(fs.existsSync(path.join(shares[3]!, 'nope.txt'))).toBe(false);
  });

  it('disks: by-id links, the raw disk is a staged writable copy, the VMDK is read-only', async () => {
    const staged = path.join(stateDir, 'disks', 'data.raw');
    expect(fs.existsSync(staged)).toBe(true);
    await inst.client().mount({ blockId: 'data', target: '/mnt/data', fstype: 'ext4' });
    await inst.client().mount({ blockId: 'ro-vmdk', target: '/mnt/vmdk', fstype: 'ext4', readOnly: true });
    const out = await shInGuest(
      inst,
      [
        'ls /dev/disk/by-id/',
        'cat /mnt/data/inside.txt /mnt/vmdk/inside.txt',
        'echo written > /mnt/data/new.txt && sync',
        'if dd if=/dev/zero of=/dev/disk/by-id/virtio-ro-vmdk bs=512 count=1 2>/dev/null; then echo VMDK-WRITABLE; fi',
      ].join('; '),
    );
    expect(out).toContain('virtio-data');
    expect(out).toContain('virtio-ro-vmdk');
    expect(out).toContain('raw disk\nvmdk disk\n');
    expect(out).not.toContain('VMDK-WRITABLE');
    expect(sha256(rawDisk)).toBe(rawDiskSha); // the guest wrote to the staged copy only
  });

  it('unixstream NIC through passt: the guest fetches from an HTTP server on the host loopback', async () => {
    const gw = passtHostDefaults().gateway!;
    const out = await shInGuest(inst, `wget -q -O- http://${gw}:${httpPort}/`);
    expect(out).toBe('hello from the host\n');
  });

  it('unixgram NIC: frames from the guest reach the host datagram socket', async () => {
    const r = await runInGuest(inst, ['/bin/sh', '-c', 'ping -c 1 -W 1 10.99.0.1']);
    expect(r.exitCode).not.toBe(0); // nobody answers on that network...
    const arp = await sink.waitFor((f) => f.src === GRAM_MAC && f.ethertype === 0x0806);
    expect(arp.dst).toBe('ff:ff:ff:ff:ff:ff'); // ...but the ARP request went out through the socket
  });

  it("startStream: a stream serving a process's stdin and stdout carries 4 MiB intact; a duplicate id is refused", async () => {
    const io = await inst.startStream('cat-io');
    await expect(inst.startStream('cat-io')).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    const payload = crypto.randomBytes(4 * 1024 * 1024);
    const hash = crypto.createHash('sha256');
    let received = 0;
    io.on('data', (c: Buffer) => {
      hash.update(c);
      received += c.length;
    });
    const ended = once(io, 'end');
    await inst.client().exec({ execId: 'cat-io', args: ['cat'], stdinStream: 'cat-io', stdoutStream: 'cat-io' });
    io.end(payload);
    expect((await inst.client().wait('cat-io')).exitCode).toBe(0);
    await ended;
    expect(received).toBe(payload.length);
    expect(hash.digest('hex')).toBe(crypto.createHash('sha256').update(payload).digest('hex'));
  });
});

describe('pause and resume', () => {
  it('QMP stop freezes the guest (a Ping does not answer) and cont resumes it', async () => {
    await inst.pause();
    expect(await inst.vmmStatus()).toBe('paused');
    await expect(inst.client().ping({ timeoutMs: 300 })).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    await inst.resume();
    expect(await inst.vmmStatus()).toBe('running');
    await inst.client().ping({ timeoutMs: 30_000 });
  });
});

describe('shutdown', () => {
  it('stops the VM, reaps every helper, deletes staged disks and sockets; twice is fine; not reusable', async () => {
    await Promise.all([inst.shutdown(), inst.shutdown()]);
    await inst.shutdown();
    expect(inst.state()).toBe('stopped');
    for (const pid of helperPids) expect(isRunning(pid)).toBe(false);
    expect(ownHelperProcesses()).toEqual([]);
    expect(readRecords(stateDir)).toEqual([]);
    expect(fs.existsSync(path.join(stateDir, 'disks', 'data.raw'))).toBe(false);
    for (const s of ['agent.sock', 'qmp.sock', 'net-1.sock']) expect(fs.existsSync(path.join(stateDir, s))).toBe(false);
    expect(sha256(rawDisk)).toBe(rawDiskSha);
    expect(() => inst.client()).toThrow(expect.objectContaining({ code: 'UNAVAILABLE' }));
    await expect(inst.startStream('late')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(inst.start()).rejects.toMatchObject({ code: 'NOT_REUSABLE' });
  });
});
