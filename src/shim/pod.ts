// PodVm: the one VM of a pod (or of a lone container, e.g. `ctr run`), owned by the shim
// that serves the pod. It boots with the sandbox's hostname and one virtio-fs share, the
// pod dir (<VM state dir>/pod, a shared mount made before virtiofsd starts), mounted in
// the guest at /run/vessel/pod. A container added later needs no new device: its rootfs is
// bind-mounted on the host into the pod dir and propagates into virtiofsd's mount
// namespace (a slave of the host's), as Kata shares a sandbox directory. destroy(): shut
// the VM down, unmount everything under the pod dir, remove the state dir.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import type { AgentClient, AgentInfo } from '../agent/index.js';
import { VesselError } from '../errors/index.js';
import { DEFAULT_CPUS, DEFAULT_RAM_MIB, managedNetworking, pausable, randomMac, type Instance, type Manager } from '../vm/index.js';
import { bundleVmLink, createVmStateDir } from './paths.js';
import { isMountPoint, unmountRootfs } from './rootfs.js';

const run = promisify(execFile);

const POD_TAG = 'pod';
const GUEST_POD_DIR = '/run/vessel/pod';
/** The pod dir inside a VM state dir. */
export const POD_DIR_NAME = 'pod';

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

/** Unmounts every mount at or below `dir` (deepest first); lazily when busy. */
export async function unmountTree(dir: string): Promise<void> {
  const below = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((p): p is string => p !== undefined && (p === dir || p.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const p of new Set(below)) await unmountRootfs(p);
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

  static async boot(o: PodBootOptions): Promise<PodVm> {
    const stateDir = createVmStateDir(o.bundle, o.namespace, o.id);
    const podDir = path.join(stateDir, POD_DIR_NAME);
    let instance: Instance | undefined;
    try {
      fs.mkdirSync(podDir, { mode: 0o700 });
      // A shared mount: what is mounted below it later reaches virtiofsd's namespace.
      await mountCommand(['--bind', podDir, podDir], `bind-mounting the pod dir ${podDir}`);
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
    await unmountTree(path.join(stateDir, POD_DIR_NAME));
    fs.rmSync(bundleVmLink(bundle), { recursive: true, force: true });
    fs.rmSync(stateDir, { recursive: true, force: true });
  }

  client(): AgentClient {
    return this.instance.client();
  }

  get size(): number {
    return this.members.size;
  }

  /** Bind-mounts a container's host rootfs into the pod dir; returns its path in the guest. */
  async addRootfs(containerId: string, hostRootfs: string): Promise<string> {
    if (this.members.has(containerId)) throw new VesselError('ALREADY_EXISTS', `container ${containerId} is already in pod ${this.id}`);
    const target = path.join(this.podDir, containerId, 'rootfs');
    fs.mkdirSync(target, { recursive: true, mode: 0o755 });
    await mountCommand(['--rbind', hostRootfs, target], `sharing the rootfs of ${containerId} with the pod`);
    this.members.add(containerId);
    return path.posix.join(GUEST_POD_DIR, containerId, 'rootfs');
  }

  async removeRootfs(containerId: string): Promise<void> {
    const dir = path.join(this.podDir, containerId);
    await unmountTree(dir);
    if (!isMountPoint(dir)) fs.rmSync(dir, { recursive: true, force: true });
    this.members.delete(containerId);
  }

  /** Every process in the VM but the agent. */
  async signalAll(signal: number): Promise<void> {
    await this.client().signalAll(signal);
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

  /** Shuts the VM down and removes its state dir (with the pod dir and what is mounted there); idempotent. */
  async destroy(): Promise<void> {
    await this.instance.shutdown({ now: true }).catch((err) => this.logger.warn({ err }, 'VM shutdown failed'));
    await PodVm.removeStateDir(this.bundle, this.stateDir);
    this.members.clear();
  }
}
