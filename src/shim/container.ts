// One container = one microVM. create(): mount the rootfs on the host, boot a VM whose
// state dir lives with the bundle, share the rootfs with virtio-fs and mount it in the
// guest, give the VM the spec's hostname; the init process starts on Start. destroy(): shut the VM down, unmount, remove
// the state dir. The VM's helpers die with this process (pdeathsig), and `delete` reaps
// what a crash left.
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { AgentInfo } from '../agent/index.js';
import { VesselError } from '../errors/index.js';
import { pausable, type Instance, type Manager } from '../vm/index.js';
import { readBundleSpec, type OciProcess } from './oci.js';
import { createVmStateDir, bundleVmLink } from './paths.js';
import { ShimProcess, type Stdio } from './process.js';
import { mountRootfs, unmountRootfs, type RootfsMount } from './rootfs.js';

const GUEST_ROOTFS = '/run/vessel/rootfs';
const ROOTFS_TAG = 'rootfs';

export interface CreateOptions {
  id: string;
  namespace: string;
  bundle: string;
  rootfs: RootfsMount[];
  stdio: Stdio;
  manager: Manager;
  logger: Logger;
}

export class Container {
  readonly init: ShimProcess;
  readonly execs = new Map<string, ShimProcess>();
  paused = false;
  private guestSeq = 0;

  private constructor(
    readonly id: string,
    readonly bundle: string,
    readonly rootfsDir: string,
    private readonly instance: Instance,
    init: OciProcess,
    stdio: Stdio,
    private readonly logger: Logger,
  ) {
    this.init = new ShimProcess('', 'init', init, stdio, logger);
  }

  static async create(o: CreateOptions): Promise<Container> {
    const spec = readBundleSpec(o.bundle);
    if (spec.process.terminal !== o.stdio.terminal) {
      throw new VesselError('INVALID_ARGUMENT', `Create.terminal (${o.stdio.terminal}) differs from the spec's process.terminal`);
    }
    if (o.rootfs.length > 0) await mountRootfs(o.rootfs, spec.rootPath);
    let instance: Instance | undefined;
    try {
      const stateDir = createVmStateDir(o.bundle, o.namespace, o.id);
      instance = await o.manager.newInstance(stateDir);
      instance.addFS(ROOTFS_TAG, spec.rootPath, { mountPoint: GUEST_ROOTFS });
      const consoleLog = fs.createWriteStream(path.join(o.bundle, 'console.log'));
      await instance.start({ consoleWriter: consoleLog, ...(spec.hostname ? { hostname: spec.hostname } : {}) });
      return new Container(o.id, o.bundle, spec.rootPath, instance, spec.process, o.stdio, o.logger);
    } catch (err) {
      await instance?.shutdown({ now: true }).catch(() => undefined);
      await unmountRootfs(spec.rootPath).catch(() => undefined);
      fs.rmSync(bundleVmLink(o.bundle), { recursive: true, force: true });
      throw err;
    }
  }

  get guest() {
    return {
      agent: this.instance.client(),
      rootfs: GUEST_ROOTFS,
    };
  }

  process(execId: string): ShimProcess {
    if (execId === '') return this.init;
    const p = this.execs.get(execId);
    if (!p) throw new VesselError('NOT_FOUND', `no exec ${JSON.stringify(execId)} in container ${this.id}`);
    return p;
  }

  addExec(execId: string, spec: OciProcess, stdio: Stdio): ShimProcess {
    if (this.execs.has(execId)) throw new VesselError('ALREADY_EXISTS', `exec ${JSON.stringify(execId)} already exists`);
    if (this.init.status !== 'running') throw new VesselError('NOT_STARTED', `container ${this.id} is not running`);
    const p = new ShimProcess(execId, `exec-${++this.guestSeq}`, spec, stdio, this.logger);
    this.execs.set(execId, p);
    return p;
  }

  /** Every process of the container = every process in its VM but the agent. */
  async signalAll(signal: number): Promise<void> {
    await this.instance.client().signalAll(signal);
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
    if (this.paused) throw new VesselError('NOT_STARTED', `container ${this.id} is paused: its VM cannot report stats until resumed`);
    return this.instance.client().info({ timeoutMs: 10_000 });
  }

  /** Shuts the VM down and releases the host side; idempotent. */
  async destroy(): Promise<void> {
    this.init.abandon(255);
    for (const p of this.execs.values()) p.abandon(255);
    await this.instance.shutdown({ now: true }).catch((err) => this.logger.warn({ err }, 'VM shutdown failed'));
    await unmountRootfs(this.rootfsDir);
    const link = bundleVmLink(this.bundle);
    const real = fs.existsSync(link) ? fs.realpathSync(link) : undefined;
    fs.rmSync(link, { recursive: true, force: true });
    if (real) fs.rmSync(real, { recursive: true, force: true });
  }
}
