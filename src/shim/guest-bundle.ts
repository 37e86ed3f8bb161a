// The OCI bundle a container gets in the guest: containerd's config.json rewritten so that
// runc in the VM enforces it there and no host path crosses into the guest. The rootfs and
// every bind mount's source become paths under the container's dir in the pod share; the
// host sources are listed so the shim can bind-mount them there first. A bind whose host
// source has mounts below it becomes one bind per host mount (withSubmounts), each staged
// alone: no staged mount then sits on a dentry of the user's filesystems, so the host can
// unmount and remove a volume's dirs while the container runs, as under runc. What only means
// something on the host is dropped (a bind's read-only flag is enforced on the host) (hooks, the network namespace's path: the VM is the
// pod's network; AppArmor/SELinux labels; annotations). Namespace paths of the form
// /proc/<pid>/ns/<type> are kept: the pids this shim reports are guest pids, so the CRI's
// "join the sandbox's IPC/UTS/PID namespace" paths already name the guest's processes.
import path from 'node:path';
import { VesselError } from '../errors/index.js';

/** A host path to bind into the pod share before the container is created. */
export interface HostBind {
  /** The spec's source on the host. */
  source: string;
  /** Its place below the container's dir in the pod share (relative). */
  target: string;
  /** Its index in the guest spec's mounts (withSubmounts inserts after it). */
  index: number;
  /** Read-only on the host: the bind itself (`ro`), or every mount below it too (`rro`). */
  readOnly: boolean;
  recursiveReadOnly: boolean;
}

export interface GuestBundle {
  /** The config.json runc gets. */
  spec: Record<string, unknown>;
  binds: HostBind[];
}

/**
 * The container's cgroup in the guest: in the agent's workload subtree (/vessel, whose
 * memory.max and pids.max keep the agent's reserve for every workload together), beside the
 * agent's per-exec cgroups (/vessel/exec), named by the container.
 */
export function guestCgroupPath(id: string): string {
  return `/vessel/containers/${id}`;
}

const NS_PATH = /^\/proc\/[0-9]+\/ns\/(ipc|uts|pid|mnt|cgroup|user|time)$/;

function object(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function isBind(m: Record<string, unknown>): boolean {
  const options = Array.isArray(m.options) ? m.options : [];
  return m.type === 'bind' || options.includes('bind') || options.includes('rbind');
}

/**
 * Rewrites `raw` (containerd's config.json, parsed) for container `id`, whose dir in the
 * guest is `guestDir` (its rootfs is `<guestDir>/rootfs`, binds under `<guestDir>/mounts`).
 */
export function guestBundle(raw: unknown, id: string, guestDir: string): GuestBundle {
  const spec = structuredClone(object(raw));
  if (!spec) throw new VesselError('INVALID_ARGUMENT', `config.json of ${id} is not a JSON object`);
  const root = object(spec.root) ?? {};
  spec.root = { path: path.posix.join(guestDir, 'rootfs'), ...(root.readonly === true ? { readonly: true } : {}) };

  const binds: HostBind[] = [];
  const mounts = Array.isArray(spec.mounts) ? spec.mounts : [];
  spec.mounts = mounts.map((entry, i) => {
    const m = object(entry);
    if (!m || typeof m.destination !== 'string') throw new VesselError('INVALID_ARGUMENT', `config.json of ${id}: mount ${i} has no destination`);
    if (!isBind(m)) return m;
    if (typeof m.source !== 'string' || !path.isAbsolute(m.source)) {
      throw new VesselError('INVALID_ARGUMENT', `config.json of ${id}: bind mount to ${m.destination} needs an absolute source`);
    }
    const target = path.posix.join('mounts', String(i));
    const options: unknown[] = Array.isArray(m.options) ? m.options : [];
    const recursiveReadOnly = options.includes('rro');
    binds.push({ source: m.source, target, index: i, readOnly: recursiveReadOnly || options.includes('ro'), recursiveReadOnly });
    // `ro` is the host's to enforce: in the guest the share is one filesystem, where runc's
    // read-only bind would also cover what is mounted below the source on the host
    return { ...m, source: path.posix.join(guestDir, target), options: options.filter((o) => o !== 'ro') };
  });

  delete spec.hooks;
  delete spec.annotations;
  const proc = object(spec.process);
  if (proc) {
    delete proc.apparmorProfile;
    delete proc.selinuxLabel;
  }
  const linux = object(spec.linux);
  if (linux) {
    delete linux.mountLabel;
    const namespaces = Array.isArray(linux.namespaces) ? linux.namespaces : [];
    linux.namespaces = namespaces
      .map((n) => object(n))
      .filter((n): n is Record<string, unknown> => n !== undefined && n.type !== 'network')
      .map((n) => {
        if (n.path === undefined || n.path === '') return { type: n.type };
        if (typeof n.path === 'string' && NS_PATH.test(n.path)) return { type: n.type, path: n.path };
        throw new VesselError('INVALID_ARGUMENT', `config.json of ${id}: ${String(n.type)} namespace path ${JSON.stringify(n.path)} cannot be joined in a VM`);
      });
    linux.cgroupsPath = guestCgroupPath(id);
  }
  return { spec, binds };
}

/**
 * Splits every bind whose host source has mounts below it (`submountsOf(source)`: their
 * host paths, e.g. from /proc/self/mountinfo) into one bind per mount: each submount is
 * staged on its own (`<target>.<k>`) and mounted by runc right after its parent at the same
 * place below the destination, with the parent's options. A non-recursive `ro` leaves the
 * submounts writable (as runc's `ro` bind does); `rro` makes them read-only too.
 */
export function withSubmounts(bundle: GuestBundle, guestDir: string, submountsOf: (source: string) => string[]): GuestBundle {
  const spec = structuredClone(bundle.spec);
  const mounts = (spec.mounts as Record<string, unknown>[]).slice();
  const binds: HostBind[] = [];
  const after = new Map<number, Record<string, unknown>[]>();
  for (const b of bundle.binds) {
    binds.push(b);
    const parent = mounts[b.index]!;
    const subs = submountsOf(b.source)
      .filter((m) => m.startsWith(`${b.source.replace(/\/+$/, '')}/`))
      .sort((x, y) => x.length - y.length);
    const extra: Record<string, unknown>[] = [];
    subs.forEach((m, k) => {
      const target = `${b.target}.${k}`;
      binds.push({ source: m, target, index: b.index, readOnly: b.recursiveReadOnly, recursiveReadOnly: b.recursiveReadOnly });
      const rel = m.slice(b.source.replace(/\/+$/, '').length);
      extra.push({ ...parent, destination: path.posix.join(String(parent.destination), rel), source: path.posix.join(guestDir, target) });
    });
    if (extra.length) after.set(b.index, extra);
  }
  spec.mounts = mounts.flatMap((m, i) => [m, ...(after.get(i) ?? [])]);
  return { spec, binds };
}
