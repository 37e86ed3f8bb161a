// containerd's config.json as runc gets it in the guest: no host path crosses, binds are
// listed for the host to stage, namespace paths are the guest's, host-only parts go.
import { describe, expect, it } from 'vitest';
import { guestBundle, withSubmounts } from '../../../src/shim/guest-bundle.js';

const CRI_CONTAINER = {
  ociVersion: '1.0.2',
  process: { args: ['nginx'], cwd: '/', apparmorProfile: 'cri-containerd.apparmor.d', selinuxLabel: 'x' },
  root: { path: '/var/lib/containerd/io.containerd.runtime.v2.task/k8s.io/c1/rootfs', readonly: true },
  hostname: 'pod-a',
  mounts: [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid'] },
    {
      destination: '/etc/hosts',
      type: 'bind',
      source: '/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/s1/hosts',
      options: ['rbind', 'rprivate', 'rw'],
    },
    {
      destination: '/etc/resolv.conf',
      type: 'bind',
      source: '/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/s1/resolv.conf',
      options: ['rbind', 'ro'],
    },
    { destination: '/data', source: '/srv/vol', options: ['rbind', 'rro'] },
  ],
  hooks: { prestart: [{ path: '/usr/bin/nvidia-hook' }] },
  annotations: { 'io.kubernetes.cri.sandbox-log-directory': '/var/log/pods/x' },
  linux: {
    cgroupsPath: 'kubepods-besteffort.slice:cri-containerd:c1',
    mountLabel: 'y',
    resources: { memory: { limit: 33554432 } },
    namespaces: [
      { type: 'pid' },
      { type: 'ipc', path: '/proc/42/ns/ipc' },
      { type: 'uts', path: '/proc/42/ns/uts' },
      { type: 'mount' },
      { type: 'network', path: '/var/run/netns/cni-1234' },
    ],
    seccomp: { defaultAction: 'SCMP_ACT_ERRNO' },
  },
};

describe('guestBundle', () => {
  const { spec, binds } = guestBundle(CRI_CONTAINER, 'c1', '/run/vessel/pod/c1');

  it('puts the rootfs and every bind source under the container dir in the pod share', () => {
    expect(spec.root).toEqual({ path: '/run/vessel/pod/c1/rootfs', readonly: true });
    expect(spec.mounts).toEqual([
      CRI_CONTAINER.mounts[0],
      { ...CRI_CONTAINER.mounts[1], source: '/run/vessel/pod/c1/mounts/1' },
      // read-only is enforced on the host (non-recursively, as runc's `ro` bind is), not by the guest
      { ...CRI_CONTAINER.mounts[2], source: '/run/vessel/pod/c1/mounts/2', options: ['rbind'] },
      { ...CRI_CONTAINER.mounts[3], source: '/run/vessel/pod/c1/mounts/3', options: ['rbind', 'rro'] },
    ]);
    expect(binds).toEqual([
      { source: CRI_CONTAINER.mounts[1]!.source, target: 'mounts/1', index: 1, readOnly: false, recursiveReadOnly: false },
      { source: CRI_CONTAINER.mounts[2]!.source, target: 'mounts/2', index: 2, readOnly: true, recursiveReadOnly: false },
      { source: '/srv/vol', target: 'mounts/3', index: 3, readOnly: true, recursiveReadOnly: true },
    ]);
  });

  it('keeps no host path: hooks, annotations, labels and the network namespace path go; the cgroup is vessel’s', () => {
    const text = JSON.stringify(spec);
    for (const hostPath of ['/var/lib/containerd', '/var/run/netns', '/usr/bin/nvidia-hook', '/var/log/pods', '/srv/vol']) expect(text).not.toContain(hostPath);
    expect(spec.hooks).toBeUndefined();
    expect(spec.annotations).toBeUndefined();
    const linux = spec.linux as Record<string, unknown>;
    expect(linux.mountLabel).toBeUndefined();
    expect((spec.process as Record<string, unknown>).apparmorProfile).toBeUndefined();
    expect(linux.cgroupsPath).toBe('/vessel/containers/c1');
    expect(linux.namespaces).toEqual([{ type: 'pid' }, { type: 'ipc', path: '/proc/42/ns/ipc' }, { type: 'uts', path: '/proc/42/ns/uts' }, { type: 'mount' }]);
  });

  it('keeps what runc enforces: resources, seccomp, hostname, the process', () => {
    const linux = spec.linux as Record<string, unknown>;
    expect(linux.resources).toEqual(CRI_CONTAINER.linux.resources);
    expect(linux.seccomp).toEqual(CRI_CONTAINER.linux.seccomp);
    expect(spec.hostname).toBe('pod-a');
    expect((spec.process as Record<string, unknown>).args).toEqual(['nginx']);
    expect(CRI_CONTAINER.root.path).toContain('/var/lib'); // the input is not modified
  });

  it('refuses what cannot be honoured in a VM', () => {
    const withNs = (path: string) => ({ ...CRI_CONTAINER, linux: { namespaces: [{ type: 'ipc', path }] } });
    expect(() => guestBundle(withNs('/var/run/ipc-ns'), 'c1', '/g')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => guestBundle({ mounts: [{ destination: '/x', type: 'bind', source: 'relative' }] }, 'c1', '/g')).toThrow(/absolute source/);
    expect(() => guestBundle({ mounts: [{ type: 'bind', source: '/x' }] }, 'c1', '/g')).toThrow(/no destination/);
    expect(() => guestBundle([1], 'c1', '/g')).toThrow(/not a JSON object/);
  });
});

describe('withSubmounts', () => {
  const vol = (options: string[]) =>
    guestBundle(
      {
        mounts: [
          { destination: '/proc', type: 'proc' },
          { destination: '/data', type: 'bind', source: '/srv/vol/', options },
        ],
      },
      'c1',
      '/g',
    );
  const below: Record<string, string[]> = { '/srv/vol/': ['/srv/vol/a/b', '/srv/vol/a', '/srv/volume-not-below'] };

  it('stages each host mount below a bind on its own and mounts it after its parent (ro stays non-recursive)', () => {
    const { spec, binds } = withSubmounts(vol(['rbind', 'ro', 'nosuid']), '/g', (s) => below[s] ?? []);
    expect(spec.mounts).toEqual([
      { destination: '/proc', type: 'proc' },
      { destination: '/data', type: 'bind', source: '/g/mounts/1', options: ['rbind', 'nosuid'] },
      { destination: '/data/a', type: 'bind', source: '/g/mounts/1.0', options: ['rbind', 'nosuid'] },
      { destination: '/data/a/b', type: 'bind', source: '/g/mounts/1.1', options: ['rbind', 'nosuid'] },
    ]);
    expect(binds).toEqual([
      { source: '/srv/vol/', target: 'mounts/1', index: 1, readOnly: true, recursiveReadOnly: false },
      { source: '/srv/vol/a', target: 'mounts/1.0', index: 1, readOnly: false, recursiveReadOnly: false },
      { source: '/srv/vol/a/b', target: 'mounts/1.1', index: 1, readOnly: false, recursiveReadOnly: false },
    ]);
  });

  it('makes every submount read-only under rro, and changes nothing without submounts', () => {
    const { binds } = withSubmounts(vol(['rbind', 'rro']), '/g', (s) => below[s] ?? []);
    expect(binds.map((b) => b.readOnly)).toEqual([true, true, true]);
    const plain = vol(['rbind']);
    expect(withSubmounts(plain, '/g', () => [])).toEqual(plain);
  });
});
