// One container of a pod: its rootfs (Create.rootfs mounted on the host at the bundle's
// root path, then shared into the pod's VM, see pod.ts), its init process and its execs.
// The init process starts on Start. destroy(): take the rootfs out of the pod and unmount
// it (the pod's VM is the task service's to shut down).
import type { Logger } from 'pino';
import { VesselError } from '../errors/index.js';
import type { OciBundleSpec, OciProcess } from './oci.js';
import type { PodVm } from './pod.js';
import { ShimProcess, type Stdio } from './process.js';
import { mountRootfs, unmountRootfs, type RootfsMount } from './rootfs.js';

export interface CreateOptions {
  id: string;
  bundle: string;
  spec: OciBundleSpec;
  rootfs: RootfsMount[];
  stdio: Stdio;
  pod: PodVm;
  logger: Logger;
}

export class Container {
  readonly init: ShimProcess;
  readonly execs = new Map<string, ShimProcess>();
  private guestSeq = 0;

  private constructor(
    readonly id: string,
    readonly bundle: string,
    readonly rootfsDir: string,
    readonly pod: PodVm,
    private readonly guestRootfs: string,
    init: OciProcess,
    stdio: Stdio,
    private readonly logger: Logger,
  ) {
    // guest exec ids are unique in the VM: the container id names its processes
    this.init = new ShimProcess('', id, init, stdio, logger);
  }

  static async create(o: CreateOptions): Promise<Container> {
    if (o.spec.process.terminal !== o.stdio.terminal) {
      throw new VesselError('INVALID_ARGUMENT', `Create.terminal (${o.stdio.terminal}) differs from the spec's process.terminal`);
    }
    if (o.rootfs.length > 0) await mountRootfs(o.rootfs, o.spec.rootPath);
    try {
      const guestRootfs = await o.pod.addRootfs(o.id, o.spec.rootPath);
      return new Container(o.id, o.bundle, o.spec.rootPath, o.pod, guestRootfs, o.spec.process, o.stdio, o.logger);
    } catch (err) {
      await o.pod.removeRootfs(o.id).catch(() => undefined);
      await unmountRootfs(o.spec.rootPath).catch(() => undefined);
      throw err;
    }
  }

  get guest() {
    return { agent: this.pod.client(), rootfs: this.guestRootfs };
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
    const p = new ShimProcess(execId, `${this.id}.exec-${++this.guestSeq}`, spec, stdio, this.logger);
    this.execs.set(execId, p);
    return p;
  }

  /**
   * Kill{all}: every process of the container. Alone in its VM, that is every process but
   * the agent (orphans too, also after the init process exited); in a pod with others,
   * the process groups of its init process and execs.
   */
  async signalAll(signal: number): Promise<void> {
    if (this.pod.size === 1) return this.pod.signalAll(signal);
    const running = [this.init, ...this.execs.values()].filter((p) => p.status === 'running');
    await Promise.all(running.map((p) => p.signal(signal, true).catch((err: unknown) => this.logger.debug({ err, exec: p.execId }, 'signal: already gone'))));
  }

  /** Pause/Resume freeze the whole VM: only a container alone in its VM can be paused. */
  async pause(): Promise<void> {
    this.alone('Pause');
    await this.pod.pause();
  }

  async resume(): Promise<void> {
    this.alone('Resume');
    await this.pod.resume();
  }

  get paused(): boolean {
    return this.pod.paused;
  }

  private alone(what: string): void {
    if (this.pod.size !== 1) throw new VesselError('UNIMPLEMENTED', `${what} of one container of a pod (it would freeze the whole pod's VM)`);
  }

  /** Marks its processes ended, takes the rootfs out of the pod and unmounts it; idempotent. */
  async destroy(): Promise<void> {
    this.init.abandon(255);
    for (const p of this.execs.values()) p.abandon(255);
    await this.pod.removeRootfs(this.id);
    await unmountRootfs(this.rootfsDir);
  }
}
