// PodVm: the one VM of a pod (or of a lone container, e.g. `ctr run`), owned by the shim
// that serves the pod. It boots with the sandbox's hostname and one virtio-fs share, the
// pod dir (<VM state dir>/pod), mounted in the guest at /run/vessel/pod. A container added
// later needs no new device: its guest bundle is staged on the host in
// <VM state dir>/containers/<id> (its rootfs and the spec's bind sources bind-mounted
// there, config.json written) and then bind-mounted into the pod dir, a shared mount, so it
// propagates into virtiofsd's mount namespace (a slave of the host's), as Kata shares a
// sandbox directory. The pod dir's top level is a read-only bind of <VM state dir>/pod-src:
// the untrusted guest cannot plant a symlink where the host mounts the next container;
// inside a container's dir the host only creates files exclusively (O_EXCL, no symlink
// followed). destroy(): shut the VM down, unmount everything, remove the state dir.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import type { AgentClient, AgentInfo } from '../agent/index.js';
import { VesselError } from '../errors/index.js';
import { DEFAULT_CPUS, DEFAULT_RAM_MIB, managedNetworking, pausable, randomMac, type Instance, type Manager } from '../vm/index.js';
import { bundleVmLink, createVmStateDir } from './paths.js';
import { withSubmounts, type GuestBundle } from './guest-bundle.js';
import { unmountRootfs } from './rootfs.js';

const run = promisify(execFile);

const POD_TAG = 'pod';
const GUEST_POD_DIR = '/run/vessel/pod';
/** The pod dir inside a VM state dir (what the guest sees), its writable source, and the staging of container bundles. */
const POD_DIR_NAME = 'pod';
const POD_SRC_NAME = 'pod-src';
const STAGING_NAME = 'containers';

export interface PodBootOptions {
  /** The pod's id (the sandbox's container id, or the lone container's). */
  id: string;
  namespace: string;
  /** The bundle of the container that boots the pod: the VM's state dir hangs off it. */
  bundle: string;
  hostname: string;
  cpus?: number;
  memoryMiB?: number;
  /** The pod's network namespace (CNI's): the VM's NIC is a passt there, and the guest takes the pod IP. */
  netns?: string;
  manager: Manager;
  logger: Logger;
}

async function mountCommand(args: string[], what: string): Promise<void> {
  try {
    await run('mount', args);
  } catch (err) {
    throw new VesselError('INTERNAL', `${what}: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`);
  }
}

/** The host mounts strictly below `source` (a path as the spec names it, symlinks resolved to find them), parents first. */
function submountsOf(source: string): string[] {
  let real: string;
  try {
    real = fs.realpathSync(source);
  } catch {
    return [];
  }
  return mountsAtOrBelow(real)
    .filter((m) => m !== real)
    .reverse()
    .map((m) => path.join(source, path.relative(real, m)));
}

/** Mount points at or below `dir`, deepest first. */
function mountsAtOrBelow(dir: string): string[] {
  const below = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((p): p is string => p !== undefined && (p === dir || p.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  return [...new Set(below)];
}

/** Unmounts every mount at or below `dir` (deepest first); lazily when busy. */
export async function unmountTree(dir: string): Promise<void> {
  for (const p of mountsAtOrBelow(dir)) await unmountRootfs(p);
}

export class PodVm {
  /** Containers whose rootfs is in the pod dir. */
  private readonly members = new Set<string>();
  paused = false;

  private constructor(
    readonly id: string,
    readonly bundle: string,
    private readonly stateDir: string,
    private readonly instance: Instance,
    private readonly logger: Logger,
  ) {}

  private get podDir(): string {
    return path.join(this.stateDir, POD_DIR_NAME);
  }

  /** A container's bundle dir in the guest. */
  guestDirOf(containerId: string): string {
    return path.posix.join(GUEST_POD_DIR, containerId);
  }

  private staging(containerId: string): string {
    return path.join(this.stateDir, STAGING_NAME, containerId);
  }

  static async boot(o: PodBootOptions): Promise<PodVm> {
    const stateDir = createVmStateDir(o.bundle, o.namespace, o.id);
    const podDir = path.join(stateDir, POD_DIR_NAME);
    const podSrc = path.join(stateDir, POD_SRC_NAME);
    let instance: Instance | undefined;
    try {
      for (const d of [podDir, podSrc, path.join(stateDir, STAGING_NAME)]) fs.mkdirSync(d, { mode: 0o700 });
      fs.chmodSync(podSrc, 0o755);
      // Read-only at the top for the guest, and shared: what is mounted below it later reaches virtiofsd's namespace.
      await mountCommand(['--bind', podSrc, podDir], `bind-mounting the pod dir ${podDir}`);
      await mountCommand(['-o', 'remount,bind,ro', podDir], `making the pod dir ${podDir} read-only`);
      await mountCommand(['--make-shared', podDir], `making the pod dir ${podDir} shared`);
      instance = await o.manager.newInstance(stateDir);
      instance.setCPUAndMemory(o.cpus ?? DEFAULT_CPUS, o.memoryMiB ?? DEFAULT_RAM_MIB);
      instance.addFS(POD_TAG, podDir, { mountPoint: GUEST_POD_DIR });
      if (o.netns) managedNetworking(instance, "a pod's network").addPasstNIC(randomMac(), { netns: o.netns });
      const consoleLog = fs.createWriteStream(path.join(o.bundle, 'console.log'));
      await instance.start({ consoleWriter: consoleLog, ...(o.hostname ? { hostname: o.hostname } : {}) });
      return new PodVm(o.id, o.bundle, stateDir, instance, o.logger);
    } catch (err) {
      await instance?.shutdown({ now: true }).catch(() => undefined);
      await PodVm.removeStateDir(o.bundle, stateDir);
      throw err;
    }
  }

  private static async removeStateDir(bundle: string, stateDir: string): Promise<void> {
    await unmountTree(stateDir);
    fs.rmSync(bundleVmLink(bundle), { recursive: true, force: true });
    fs.rmSync(stateDir, { recursive: true, force: true });
  }

  client(): AgentClient {
    return this.instance.client();
  }

  get size(): number {
    return this.members.size;
  }

  /**
   * Stages a container's guest bundle (its rootfs, the spec's bind sources, config.json)
   * and shares it with the guest; returns the bundle's dir in the guest.
   */
  async addContainer(containerId: string, hostRootfs: string, specBundle: GuestBundle): Promise<string> {
    if (this.members.has(containerId)) throw new VesselError('ALREADY_EXISTS', `container ${containerId} is already in pod ${this.id}`);
    // one staged bind per host mount, none recursive: the host's own mounts stay removable
    const bundle = withSubmounts(specBundle, this.guestDirOf(containerId), submountsOf);
    this.members.add(containerId);
    const staging = this.staging(containerId);
    fs.mkdirSync(path.join(staging, 'rootfs'), { recursive: true, mode: 0o755 });
    await mountCommand(['--rbind', hostRootfs, path.join(staging, 'rootfs')], `staging the rootfs of ${containerId}`);
    for (const b of bundle.binds) {
      const target = path.join(staging, b.target);
      let isDir: boolean;
      try {
        isDir = fs.statSync(b.source).isDirectory();
      } catch (err) {
        throw new VesselError('INVALID_ARGUMENT', `bind mount source ${b.source} of ${containerId}: ${(err as Error).message}`);
      }
      fs.mkdirSync(isDir ? target : path.dirname(target), { recursive: true, mode: 0o755 });
      if (!isDir) fs.closeSync(fs.openSync(target, 'wx', 0o644));
      await mountCommand(['--bind', b.source, target], `staging ${b.source} for ${containerId}`);
      if (b.readOnly) await mountCommand(['-o', 'remount,bind,ro', target], `making ${b.source} of ${containerId} read-only`);
    }
    this.writeFile(containerId, 'config.json', JSON.stringify(bundle.spec));
    fs.mkdirSync(path.join(this.stateDir, POD_SRC_NAME, containerId), { mode: 0o755 });
    await mountCommand(['--rbind', staging, path.join(this.podDir, containerId)], `sharing ${containerId} with the pod`);
    return this.guestDirOf(containerId);
  }

  /**
   * Writes a file into a container's dir (seen by the guest at <guest dir>/<name>), never
   * through a link the guest made (O_EXCL); returns its path in the guest.
   */
  writeFile(containerId: string, name: string, text: string): string {
    if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith('.')) throw new VesselError('INVALID_ARGUMENT', `bad file name ${JSON.stringify(name)}`);
    const fd = fs.openSync(path.join(this.staging(containerId), name), 'wx', 0o644);
    try {
      fs.writeSync(fd, text);
    } finally {
      fs.closeSync(fd);
    }
    return path.posix.join(this.guestDirOf(containerId), name);
  }

  /** Removes a file writeFile made (a missing one is fine). */
  removeFile(containerId: string, name: string): void {
    fs.rmSync(path.join(this.staging(containerId), name), { force: true });
  }

  async removeContainer(containerId: string): Promise<void> {
    await unmountTree(path.join(this.podDir, containerId));
    await unmountTree(this.staging(containerId));
    fs.rmSync(this.staging(containerId), { recursive: true, force: true });
    fs.rmSync(path.join(this.stateDir, POD_SRC_NAME, containerId), { recursive: true, force: true });
    this.members.delete(containerId);
  }

  async pause(): Promise<void> {
    await pausable(this.instance, 'Pause').pause();
    this.paused = true;
  }

  async resume(): Promise<void> {
    await pausable(this.instance, 'Resume').resume();
    this.paused = false;
  }

  /** The guest's Info (memory, CPU time). A paused VM cannot answer: refused, not hung. */
  async info(): Promise<AgentInfo> {
    if (this.paused) throw new VesselError('NOT_STARTED', `pod ${this.id} is paused: its VM cannot report stats until resumed`);
    return this.client().info({ timeoutMs: 10_000 });
  }

  /** Kills the VM at once (its processes die with it); destroy() still cleans up. Bounded (vm/qemu/deadlines.ts). */
  async killVm(): Promise<void> {
    await this.instance.shutdown({ now: true }).catch((err) => this.logger.warn({ err }, 'VM kill failed'));
  }

  /** Shuts the VM down and removes its state dir (with the pod dir and what is mounted there); idempotent. */
  async destroy(): Promise<void> {
    await this.instance.shutdown({ now: true }).catch((err) => this.logger.warn({ err }, 'VM shutdown failed'));
    await PodVm.removeStateDir(this.bundle, this.stateDir);
    this.members.clear();
  }
}
