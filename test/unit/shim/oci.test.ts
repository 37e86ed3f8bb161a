// The OCI process JSON is untrusted input of any shape: what parseProcess takes, defaults and refuses.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isVesselError } from '../../../src/errors/index.js';
import { CONTAINER_TYPE, SANDBOX_ID, VM_CPUS, VM_MEMORY_MIB, parseProcess, podRole, readBundleSpec, vmSize } from '../../../src/shim/oci.js';

describe('parseProcess', () => {
  it('reads args, env, cwd, user, terminal and console size', () => {
    expect(
      parseProcess({
        args: ['sh', '-c', 'true'],
        env: ['A=1', 7, 'B=2'],
        cwd: '/work',
        user: { uid: 1000, gid: 100, additionalGids: [10, -1, 'x', 20] },
        terminal: true,
        consoleSize: { height: 40, width: 120 },
      }),
    ).toEqual({
      args: ['sh', '-c', 'true'],
      env: ['A=1', 'B=2'],
      cwd: '/work',
      uid: 1000,
      gid: 100,
      additionalGids: [10, 0, 0, 20],
      terminal: true,
      rows: 40,
      cols: 120,
    });
  });

  it('defaults what is missing or of the wrong type', () => {
    expect(parseProcess({ args: ['x'], env: 'A=1', cwd: '', user: 'root', terminal: 'yes', consoleSize: [] })).toEqual({
      args: ['x'],
      env: [],
      cwd: '/',
      uid: 0,
      gid: 0,
      additionalGids: [],
      terminal: false,
      rows: 0,
      cols: 0,
    });
    expect(parseProcess({ args: ['x'], user: { uid: 1.5, gid: -3 } })).toMatchObject({ uid: 0, gid: 0 });
  });

  it('refuses a process that is not an object, or args that are not a non-empty list of strings', () => {
    for (const p of [undefined, null, 'sh', ['sh']]) {
      expect(() => parseProcess(p)).toThrow(/OCI spec has no process/);
    }
    for (const args of [undefined, [], 'sh', ['sh', 1]]) {
      expect(() => parseProcess({ args })).toThrow(/process.args must be a non-empty list of strings/);
    }
    let err: unknown;
    try {
      parseProcess({});
    } catch (e) {
      err = e;
    }
    expect(isVesselError(err, 'INVALID_ARGUMENT')).toBe(true);
  });
});

describe('readBundleSpec', () => {
  it('reads config.json: process, hostname, root.path relative to the bundle (default rootfs)', () => {
    const bundle = fs.mkdtempSync(path.join(os.tmpdir(), 'oci-'));
    try {
      fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify({ process: { args: ['true'] }, hostname: 'h', root: { path: 'r' } }));
      expect(readBundleSpec(bundle)).toMatchObject({ hostname: 'h', rootPath: path.join(bundle, 'r'), process: { args: ['true'] } });
      fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify({ process: { args: ['true'] }, hostname: 5, root: null }));
      expect(readBundleSpec(bundle)).toMatchObject({ hostname: '', rootPath: path.join(bundle, 'rootfs') });
      fs.writeFileSync(path.join(bundle, 'config.json'), '[1]');
      expect(() => readBundleSpec(bundle)).toThrow(/OCI spec has no process/);
    } finally {
      fs.rmSync(bundle, { recursive: true, force: true });
    }
  });
});

describe('pods in the spec', () => {
  const withSpec = (spec: object, check: (bundle: string) => void) => {
    const bundle = fs.mkdtempSync(path.join(os.tmpdir(), 'oci-'));
    try {
      fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify({ process: { args: ['true'] }, ...spec }));
      check(bundle);
    } finally {
      fs.rmSync(bundle, { recursive: true, force: true });
    }
  };

  it('reads string annotations and the network namespace (join a path, a new one, or none: the host network)', () => {
    withSpec({ annotations: { a: 'x', n: 5 }, linux: { namespaces: [{ type: 'pid' }, { type: 'network', path: '/run/netns/cni-1' }] } }, (b) =>
      expect(readBundleSpec(b)).toMatchObject({ annotations: { a: 'x' }, network: { path: '/run/netns/cni-1' } }),
    );
    withSpec({ linux: { namespaces: [{ type: 'network' }] } }, (b) => expect(readBundleSpec(b).network).toEqual({}));
    withSpec({ linux: { namespaces: [{ type: 'mount' }] } }, (b) => expect(readBundleSpec(b).network).toBeUndefined());
    withSpec({ annotations: [1] }, (b) => expect(readBundleSpec(b).annotations).toEqual({}));
  });

  it('groups by the CRI annotations: a sandbox is its own pod, a container names its sandbox, others are alone', () => {
    expect(podRole('s1', { [CONTAINER_TYPE]: 'sandbox', [SANDBOX_ID]: 's1' })).toEqual({ podId: 's1', kind: 'sandbox' });
    expect(podRole('c1', { [CONTAINER_TYPE]: 'container', [SANDBOX_ID]: 's1' })).toEqual({ podId: 's1', kind: 'container' });
    expect(podRole('x', {})).toEqual({ podId: 'x', kind: 'lone' });
    expect(() => podRole('c1', { [CONTAINER_TYPE]: 'container' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => podRole('c1', { [CONTAINER_TYPE]: 'vm' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it("sizes the VM from the pod's annotations, refusing what is not a positive integer", () => {
    expect(vmSize({})).toEqual({});
    expect(vmSize({ [VM_CPUS]: '2', [VM_MEMORY_MIB]: '1024' })).toEqual({ cpus: 2, memoryMiB: 1024 });
    for (const bad of ['0', '-1', '1.5', 'two', '', '01']) {
      expect(() => vmSize({ [VM_CPUS]: bad }), bad).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });
});
