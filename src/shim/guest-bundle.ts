// The OCI bundle a container gets in the guest: containerd's config.json rewritten so that
// runc in the VM enforces it there and no host path crosses into the guest. The rootfs and
// every bind mount's source become paths under the container's dir in the pod share; the
// host sources are listed so the shim can bind-mount them there first. What only means
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
  /** Read-only on the host: the bind itself (`ro`), or every mount below it too (`rro`). */
  readOnly: boolean;
  recursiveReadOnly: boolean;
}

export interface GuestBundle {
  /** The config.json runc gets. */
  spec: Record<string, unknown>;
  binds: HostBind[];
}

/** The container's cgroup in the guest: below vessel's own subtree, named by the container. */
export function guestCgroupPath(id: string): string {
  return `/vessel/${id}`;
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
    binds.push({ source: m.source, target, readOnly: recursiveReadOnly || options.includes('ro'), recursiveReadOnly });
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
