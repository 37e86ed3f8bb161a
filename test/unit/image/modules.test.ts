import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVesselError } from '../../../src/errors/index.js';
import { elfSection, isStaticElf, moduleDepends } from '../../../src/image/elf.js';
import { collectModules, moduleNameOfPath, orderModules, type ModuleNode } from '../../../src/image/modules.js';
import { unpackKernel } from '../../../src/image/kernel.js';
import { makePrivateTempDir } from '../../support/tmpdir.js';
import { FAKE_RELEASE, fakeKo, makeFakeKernelDeb } from './fixtures.js';

// The dependency graph of the Debian cloud kernel's virtio modules (modinfo -F depends).
const GRAPH: Record<string, string[]> = {
  virtio_ring: [],
  virtio: ['virtio_ring'],
  virtio_mmio: ['virtio', 'virtio_ring'],
  virtio_pci_modern_dev: [],
  virtio_pci_legacy_dev: [],
  virtio_pci: ['virtio_ring', 'virtio_pci_modern_dev', 'virtio_pci_legacy_dev', 'virtio'],
  virtio_console: ['virtio', 'virtio_ring'],
  failover: [],
  net_failover: ['failover'],
  virtio_net: ['virtio_ring', 'virtio', 'net_failover'],
  fuse: [],
  virtiofs: ['fuse', 'virtio', 'virtio_ring'],
  vsock: [],
  vmw_vsock_virtio_transport_common: ['vsock'],
  vmw_vsock_virtio_transport: ['virtio', 'vmw_vsock_virtio_transport_common', 'virtio_ring', 'vsock'],
};
const lookup = async (n: string): Promise<ModuleNode | undefined> => (GRAPH[n] ? { name: n, depends: GRAPH[n]! } : undefined);

function assertTopological(order: string[]): void {
  for (const [i, m] of order.entries()) {
    for (const d of GRAPH[m] ?? []) {
      expect(order.indexOf(d), `${d} is loaded`).toBeGreaterThanOrEqual(0);
      expect(order.indexOf(d), `${d} before ${m}`).toBeLessThan(i);
    }
  }
}

describe('module load order', () => {
  it('puts every module after its dependencies and closes over dependencies not asked for', async () => {
    const { order, builtin } = await orderModules(['vmw_vsock_virtio_transport', 'virtio_net', 'virtiofs'], lookup, new Set());
    assertTopological(order);
    expect(new Set(order)).toEqual(
      new Set([
        'virtio_ring',
        'virtio',
        'vsock',
        'vmw_vsock_virtio_transport_common',
        'vmw_vsock_virtio_transport',
        'failover',
        'net_failover',
        'virtio_net',
        'fuse',
        'virtiofs',
      ]),
    );
    expect(builtin).toEqual([]);
  });

  it('gives the same order whatever the order of the wanted list (it comes from the graph)', async () => {
    const names = Object.keys(GRAPH);
    const a = await orderModules(names, lookup, new Set());
    const b = await orderModules([...names].reverse(), lookup, new Set());
    expect(b.order).toEqual(a.order);
    // A wanted list in a wrong order ("virtio before virtio_ring") still loads virtio_ring first.
    const c = await orderModules(['virtio', 'virtio_ring'], lookup, new Set());
    expect(c.order).toEqual(['virtio_ring', 'virtio']);
  });

  it('skips built-in modules, normalizes dashes, and fails on missing modules and cycles', async () => {
    const r = await orderModules(['virtio-console', 'overlay'], lookup, new Set(['overlay']));
    expect(r).toEqual({ order: ['virtio_ring', 'virtio', 'virtio_console'], builtin: ['overlay'] });
    await expect(orderModules(['nope'], lookup, new Set())).rejects.toSatisfy(
      (e) => isVesselError(e, 'IMAGE_BUILD_FAILED') && /nope/.test((e as Error).message),
    );
    const cyc = async (n: string): Promise<ModuleNode> => ({ name: n, depends: n === 'a' ? ['b'] : ['a'] });
    await expect(orderModules(['a'], cyc, new Set())).rejects.toThrow(/cycle: a -> b -> a/);
  });

  it('maps module file names to module names', () => {
    expect(moduleNameOfPath('kernel/net/vmw_vsock/vsock.ko.xz')).toBe('vsock');
    expect(moduleNameOfPath('kernel/fs/fuse/virtio-fs.ko.zst')).toBe('virtio_fs');
    expect(moduleNameOfPath('kernel/a/b.ko')).toBe('b');
    expect(moduleNameOfPath('modules.builtin')).toBeUndefined();
  });
});

describe('ELF helpers', () => {
  it('reads depends= from a .modinfo section and rejects non-ELF input without crashing', () => {
    const ko = fakeKo('virtio_net', ['virtio_ring', 'virtio', 'net_failover']);
    expect(moduleDepends(ko)).toEqual(['virtio_ring', 'virtio', 'net_failover']);
    expect(moduleDepends(fakeKo('virtio_ring', []))).toEqual([]);
    expect(elfSection(ko, '.nothing')).toBeUndefined();
    expect(() => moduleDepends(Buffer.from('not an elf file at all, really not one, no no no no no no no no'))).toThrow(/not an ELF/);
    const truncated = ko.subarray(0, 80);
    expect(() => moduleDepends(truncated)).toThrow(/out of bounds/);
    expect(isStaticElf(ko)).toBe(true); // no program headers, so no PT_INTERP
  });

  it('tells a static binary from a dynamic one', async () => {
    expect(isStaticElf(await fs.readFile('/bin/busybox').catch(() => fakeKo('x', [])))).toBe(true);
    expect(isStaticElf(await fs.readFile(process.execPath))).toBe(false);
  });
});

describe('collectModules from an unpacked kernel package', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  beforeAll(async () => {
    tmp = await makePrivateTempDir('modules');
  });
  afterAll(async () => tmp.remove());

  it('reads depends from the .ko files, decompresses .ko.xz, skips built-ins and orders the result', async () => {
    const { deb } = await makeFakeKernelDeb(tmp.dir);
    const k = await unpackKernel(deb, path.join(tmp.dir, 'unpacked'));
    expect(k.release).toBe(FAKE_RELEASE);
    const progress: number[] = [];
    const r = await collectModules(k.root, k.release, ['virtio_console', 'overlay'], (done) => progress.push(done));
    expect(r.modules.map((m) => m.name)).toEqual(['virtio_ring', 'virtio', 'virtio_console']);
    expect(r.builtin).toEqual(['overlay']);
    const vc = r.modules[2]!;
    expect(vc.guestPath).toBe(`/lib/modules/${FAKE_RELEASE}/kernel/drivers/char/virtio_console.ko`);
    expect(moduleDepends(vc.data)).toEqual(['virtio', 'virtio_ring']); // decompressed ELF
    expect(progress.length).toBe(3);
  });
});
