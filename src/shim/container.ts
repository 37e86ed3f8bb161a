// One container of a pod, run by runc in the pod's VM so that its whole OCI spec holds there
// (mounts, namespaces, users, capabilities, seccomp, rlimits, sysctls, readonly rootfs,
// masked paths, cgroups from linux.resources: a memory limit OOM-kills this container only).
// create(): mount Create.rootfs on the host at the bundle's root path, rewrite config.json
// for the guest (guest-bundle.ts) and stage it with the rootfs and the spec's bind sources
// into the pod's share (pod.ts). The init process is `runc run` on Start, an exec is
// `runc exec`; both carry their stdio on the agent's raw streams. destroy(): `runc delete`,
// take the container out of the pod and unmount its rootfs (the pod's VM is the task
// service's to shut down).
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import {
  containerOomKills,
  containerPids,
  containerStats,
  deleteContainer,
  execInContainer,
  killContainer,
  pauseContainer,
  resumeContainer,
  runContainer,
  type ContainerExit,
  type ContainerStats,
} from '../agent/index.js';
import { VesselError } from '../errors/index.js';
import { GUEST_DELETE_MS, settlesWithin } from './deadlines.js';
import { guestBundle, guestCgroupPath } from './guest-bundle.js';
import type { OciBundleSpec, OciProcess } from './oci.js';
import type { PodVm } from './pod.js';
import { ShimProcess, type Launcher, type Stdio } from './process.js';
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

/** The exit status containerd gets: the container's, 128+N for a signal, 255 when runc itself failed. */
function exitStatus(e: ContainerExit, logger: Logger, what: string): number {
  if (e.runtimeError !== undefined) {
    logger.warn({ what, runtimeError: e.runtimeError }, 'runc failed');
    return 255;
  }
  return e.signal ? 128 + e.signal : e.exitCode;
}

export class Container {
  readonly init: ShimProcess;
  readonly execs = new Map<string, ShimProcess>();
  /** Its init process was ended by the OOM killer (known once it exited). */
  oomKilled = false;
  /** Frozen by runc pause (a container among others in its VM). */
  private frozen = false;
  private readonly rawExecs = new Map<string, Record<string, unknown>>();
  private execSeq = 0;

  private constructor(
    readonly id: string,
    readonly bundle: string,
    readonly rootfsDir: string,
    readonly pod: PodVm,
    /** The guest bundle dir (config.json, rootfs/). */
    private readonly guestDir: string,
    init: OciProcess,
    stdio: Stdio,
    private readonly logger: Logger,
  ) {
    this.init = new ShimProcess('', init, stdio, logger);
  }

  static async create(o: CreateOptions): Promise<Container> {
    if (o.spec.process.terminal !== o.stdio.terminal) {
      throw new VesselError('INVALID_ARGUMENT', `Create.terminal (${o.stdio.terminal}) differs from the spec's process.terminal`);
    }
    const raw: unknown = JSON.parse(fs.readFileSync(path.join(o.bundle, 'config.json'), 'utf8'));
    const bundle = guestBundle(raw, o.id, o.pod.guestDirOf(o.id));
    if (o.rootfs.length > 0) await mountRootfs(o.rootfs, o.spec.rootPath);
    try {
      const guestDir = await o.pod.addContainer(o.id, o.spec.rootPath, bundle);
      return new Container(o.id, o.bundle, o.spec.rootPath, o.pod, guestDir, o.spec.process, o.stdio, o.logger);
    } catch (err) {
      await o.pod.removeContainer(o.id).catch(() => undefined);
      await unmountRootfs(o.spec.rootPath).catch(() => undefined);
      throw err;
    }
  }

  /** How the init process starts: `runc run` of the bundle, its pid the container's init's. */
  private get initLauncher(): Launcher {
    return async (stdio) => {
      const agent = this.pod.client();
      const { rows, cols, terminal } = this.init.spec;
      const proc = await runContainer(agent, { id: this.id, bundle: this.guestDir, terminal, rows, cols }, stdio);
      return {
        exec: proc.exec,
        started: proc.started,
        exited: proc.exited.then(async (e) => {
          this.frozen = false; // (a paused container killed: runc thaws its cgroup for SIGKILL)
          const status = exitStatus(e, this.logger, this.id);
          // 137 is SIGKILL: the cgroup's memory.events tells whether the OOM killer sent it
          if (status === 137) this.oomKilled = (await containerOomKills(agent, this.id, guestCgroupPath(this.id)).catch(() => 0)) > 0;
          return status;
        }),
        signal: (signal) => killContainer(agent, this.id, signal),
      };
    };
  }

  /** How an exec starts: `runc exec` of its OCI process (written into the container's dir for the guest). */
  private execLauncher(p: ShimProcess, rawProcess: Record<string, unknown>): Launcher {
    return async (stdio) => {
      const agent = this.pod.client();
      const file = `exec-${++this.execSeq}.json`;
      const processPath = this.pod.writeFile(this.id, file, JSON.stringify({ ...rawProcess, terminal: p.stdio.terminal }));
      const done = () => this.pod.removeFile(this.id, file);
      let proc;
      try {
        proc = await execInContainer(agent, { id: this.id, processPath, terminal: p.stdio.terminal, rows: p.spec.rows, cols: p.spec.cols }, stdio);
      } catch (err) {
        done();
        throw err;
      }
      const exited = proc.exited.then((e) => exitStatus(e, this.logger, `${this.id} exec ${p.execId}`));
      void exited.finally(done).catch(() => undefined);
      // (signals go to the process runc exec started, by its pid: runc cannot relay SIGKILL)
      return { exec: proc.exec, started: Promise.resolve(proc.exec.pid), exited, signal: (signal) => proc.signal(signal) };
    };
  }

  process(execId: string): ShimProcess {
    if (execId === '') return this.init;
    const p = this.execs.get(execId);
    if (!p) throw new VesselError('NOT_FOUND', `no exec ${JSON.stringify(execId)} in container ${this.id}`);
    return p;
  }

  /** An exec of the container: `raw` is containerd's OCI process JSON, `spec` what the shim reads of it. */
  addExec(execId: string, raw: Record<string, unknown>, spec: OciProcess, stdio: Stdio): ShimProcess {
    if (this.execs.has(execId)) throw new VesselError('ALREADY_EXISTS', `exec ${JSON.stringify(execId)} already exists`);
    if (this.init.status !== 'running') throw new VesselError('NOT_STARTED', `container ${this.id} is not running`);
    const p = new ShimProcess(execId, spec, stdio, this.logger);
    this.execs.set(execId, p);
    this.rawExecs.set(execId, raw);
    return p;
  }

  /** How `p`, the init process or one of the execs, starts. */
  launcher(p: ShimProcess): Launcher {
    return p === this.init ? this.initLauncher : this.execLauncher(p, this.rawExecs.get(p.execId) ?? {});
  }

  /** Kill{all}: every process of the container (its cgroup), also after its init process exited. */
  async signalAll(signal: number): Promise<void> {
    await killContainer(this.pod.client(), this.id, signal, { all: true });
  }

  /** The container's processes (guest pids). */
  async pids(): Promise<number[]> {
    if (this.init.status !== 'running') return [];
    return containerPids(this.pod.client(), this.id);
  }

  /** Its cgroup's stats (runc events --stats). */
  async stats(): Promise<ContainerStats> {
    if (this.pod.paused) throw new VesselError('NOT_STARTED', `container ${this.id} is paused: its VM cannot report stats until resumed`);
    return containerStats(this.pod.client(), this.id);
  }

  /**
   * Pause: the only container of its VM stops the whole VM (QMP stop: no CPU used at all, the
   * guest's clock stands still); one of several is frozen by runc in the guest (its cgroup's
   * freezer), and the rest of the pod runs on. Resume undoes whichever it was.
   */
  async pause(): Promise<void> {
    if (this.frozen || this.pod.paused) throw new VesselError('FAILED_PRECONDITION', `container ${this.id} is already paused`);
    if (this.init.status !== 'running') throw new VesselError('FAILED_PRECONDITION', `container ${this.id} is not running`);
    if (this.pod.size === 1) {
      await this.pod.pause();
    } else {
      await pauseContainer(this.pod.client(), this.id);
      this.frozen = true;
    }
  }

  async resume(): Promise<void> {
    if (this.frozen) {
      await resumeContainer(this.pod.client(), this.id);
      this.frozen = false;
    } else if (this.pod.paused) {
      await this.pod.resume();
    } else {
      throw new VesselError('FAILED_PRECONDITION', `container ${this.id} is not paused`);
    }
  }

  /** Paused: frozen by runc, or its VM stopped. */
  get paused(): boolean {
    return this.frozen || this.pod.paused;
  }

  /** Marks its processes ended, removes it from runc and the pod, unmounts its rootfs; idempotent. */
  async destroy(opts: { vmGone?: boolean } = {}): Promise<void> {
    this.init.abandon(255);
    for (const p of this.execs.values()) p.abandon(255);
    if (!opts.vmGone) {
      // a guest that does not answer (wedged, or its VM killed) does not hold Delete up
      const deleted = (async () => deleteContainer(this.pod.client(), this.id))().catch((err: unknown) =>
        this.logger.warn({ err, id: this.id }, 'runc delete failed'),
      );
      if (!(await settlesWithin(deleted, GUEST_DELETE_MS)))
        this.logger.warn({ id: this.id }, `runc delete did not finish within ${GUEST_DELETE_MS} ms; going on`);
    }
    await this.pod.removeContainer(this.id);
    await unmountRootfs(this.rootfsDir);
  }
}
