// Instance configuration: every bad value fails at the call with a typed error that says
// what is wrong; lifecycle guards before start. No VM is booted here (see test/vm).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QemuManager, type QemuInstance } from '../../../src/vm/index.js';
import { VesselError } from '../../../src/errors/index.js';
import { makePrivateTempDir } from '../../support/tmpdir.js';

let tmp: { dir: string; remove: () => Promise<void> };
let shareDir: string;
let diskFile: string;
let streamSocket: string;
let server: net.Server;

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(VesselError);
    return (err as VesselError).code;
  }
  throw new Error('expected a VesselError');
}

async function instance(): Promise<QemuInstance> {
  const dir = fs.mkdtempSync(path.join(tmp.dir, 'inst-'));
  // the image is never needed: these instances are not started (or fail before QEMU)
  return new QemuManager({ image: () => Promise.reject(new VesselError('IMAGE_NOT_FOUND', 'no image in this test')) }).newInstance(dir);
}

beforeAll(async () => {
  tmp = await makePrivateTempDir('vm-config');
  shareDir = path.join(tmp.dir, 'share');
  fs.mkdirSync(shareDir);
  diskFile = path.join(tmp.dir, 'disk.img');
  fs.writeFileSync(diskFile, Buffer.alloc(4096));
  streamSocket = path.join(tmp.dir, 'net.sock');
  server = net.createServer().listen(streamSocket);
  await once(server, 'listening');
});

afterAll(async () => {
  server.close();
  await tmp.remove();
});

describe('configuration values', () => {
  it('cpu and memory', async () => {
    const i = await instance();
    expect(code(() => i.setCPUAndMemory(0, 256))).toBe('INVALID_ARGUMENT');
    expect(code(() => i.setCPUAndMemory(1.5, 256))).toBe('INVALID_ARGUMENT');
    expect(code(() => i.setCPUAndMemory(256, 256))).toBe('INVALID_ARGUMENT');
    expect(() => i.setCPUAndMemory(1, 64)).toThrow(/at least 128/);
    expect(code(() => i.setCPUAndMemory(1, 1 << 30))).toBe('INVALID_ARGUMENT');
    i.setCPUAndMemory(2, 128);
  });

  it('virtio-fs shares', async () => {
    const i = await instance();
    expect(code(() => i.addFS('', shareDir))).toBe('INVALID_ARGUMENT');
    expect(code(() => i.addFS('a/b', shareDir))).toBe('INVALID_ARGUMENT');
    expect(code(() => i.addFS('x'.repeat(37), shareDir))).toBe('INVALID_ARGUMENT');
    expect(() => i.addFS('data', path.join(tmp.dir, 'missing'))).toThrow(/does not exist/);
    expect(() => i.addFS('data', diskFile)).toThrow(/is not a directory/);
    expect(code(() => i.addFS('data', shareDir, { mountPoint: 'relative' }))).toBe('INVALID_ARGUMENT');
    expect(code(() => i.addFS('data', shareDir, { mountPoint: '/' }))).toBe('INVALID_ARGUMENT');
    i.addFS('data', shareDir);
    expect(code(() => i.addFS('data', shareDir))).toBe('ALREADY_EXISTS');
    i.addFS('x'.repeat(36), shareDir, { readOnly: true, mountPoint: null });
  });

  it('disks', async () => {
    const i = await instance();
    expect(code(() => i.addDisk('x'.repeat(21), diskFile))).toBe('INVALID_ARGUMENT');
    expect(code(() => i.addDisk('a b', diskFile))).toBe('INVALID_ARGUMENT');
    expect(() => i.addDisk('d0', path.join(tmp.dir, 'missing.img'))).toThrow(/does not exist/);
    expect(() => i.addDisk('d0', shareDir)).toThrow(/not a regular file/);
    i.addDisk('d0', diskFile, { readOnly: true });
    expect(code(() => i.addDisk('d0', diskFile))).toBe('ALREADY_EXISTS');
    // the image's tools disk (runc) has this serial in every VM
    expect(code(() => i.addDisk('vessel-tools', diskFile))).toBe('ALREADY_EXISTS');
  });

  it('NICs', async () => {
    const i = await instance();
    expect(() => i.addNIC(streamSocket, '01:00:5e:00:00:01', 'unixstream')).toThrow(/multicast/);
    expect(() => i.addNIC(streamSocket, 'ff:ff:ff:ff:ff:ff', 'unixstream')).toThrow(/multicast/);
    expect(code(() => i.addNIC(streamSocket, '00:00:00:00:00:00', 'unixstream'))).toBe('INVALID_ARGUMENT');
    expect(code(() => i.addNIC(streamSocket, '52:54:00:12:34', 'unixstream'))).toBe('INVALID_ARGUMENT');
    expect(code(() => i.addNIC(streamSocket, '52:54:00:12:34:56', 'tap' as never))).toBe('INVALID_ARGUMENT');
    expect(() => i.addNIC(diskFile, '52:54:00:12:34:56', 'unixstream')).toThrow(/not a socket/);
    expect(() => i.addNIC(streamSocket, '52:54:00:12:34:56', 'unixstream', { features: 1 << 20 })).toThrow(/not supported/);
    expect(() => i.addNIC(streamSocket, '52:54:00:12:34:56', 'unixstream', { flags: 1 })).toThrow(/not supported/);
    expect(code(() => i.addNIC(streamSocket, '52:54:00:12:34:56', 'unixstream', { ip: { addresses: ['10.0.0.300/24'] } }))).toBe('INVALID_ARGUMENT');
    i.addNIC(streamSocket, '52:54:00:12:34:56', 'unixstream', { features: (1 << 0) | (1 << 11) });
    expect(code(() => i.addNIC(streamSocket, '52-54-00-12-34-56', 'unixgram'))).toBe('ALREADY_EXISTS');
    // a passt NIC shares the MAC space with the others, both ways
    expect(code(() => i.addPasstNIC('52:54:00:12:34:56', { ip: { addresses: ['10.0.0.2/24'] } }))).toBe('ALREADY_EXISTS');
    i.addPasstNIC('52:54:00:12:34:57', { ip: { addresses: ['10.0.0.2/24'] } });
    expect(code(() => i.addNIC(streamSocket, '52:54:00:12:34:57', 'unixstream'))).toBe('ALREADY_EXISTS');
    expect(code(() => i.addPasstNIC('52:54:00:12:34:58', { ip: { addresses: ['fd00::2/64'] } }))).toBe('INVALID_ARGUMENT');
  });

  it('a state dir must exist', async () => {
    await expect(new QemuManager().newInstance(path.join(tmp.dir, 'nope'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(new QemuManager().newInstance(diskFile)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('lifecycle without a VM', () => {
  it('client() and startStream() before start fail as not started', async () => {
    const i = await instance();
    expect(code(() => i.client())).toBe('NOT_STARTED');
    await expect(i.startStream('s1')).rejects.toMatchObject({ code: 'NOT_STARTED' });
  });

  it('a failed start leaves a failed, non-reusable instance; shutdown after it and twice is fine', async () => {
    const i = await instance();
    i.addFS('data', shareDir);
    await expect(i.start()).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND' });
    expect(i.state()).toBe('failed');
    expect(i.failure()).toBeInstanceOf(VesselError);
    expect(code(() => i.addFS('more', shareDir))).toBe('CONFIG_AFTER_START');
    expect(code(() => i.setCPUAndMemory(1, 256))).toBe('CONFIG_AFTER_START');
    expect(code(() => i.client())).toBe('UNAVAILABLE');
    await expect(i.startStream('s1')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(i.start()).rejects.toMatchObject({ code: 'NOT_REUSABLE' });
    await i.shutdown();
    await i.shutdown();
    expect(i.state()).toBe('failed');
  });

  it('shutdown of a never-started instance makes it stopped and unusable', async () => {
    const i = await instance();
    await Promise.all([i.shutdown(), i.shutdown()]);
    expect(i.state()).toBe('stopped');
    await expect(i.start()).rejects.toMatchObject({ code: 'NOT_REUSABLE' });
    expect(code(() => i.addDisk('d0', diskFile))).toBe('CONFIG_AFTER_START');
  });

  it('bad init args fail the start with INVALID_ARGUMENT', async () => {
    const i = await instance();
    await expect(i.start({ initArgs: ['a b'] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(i.state()).toBe('failed');
  });
});
