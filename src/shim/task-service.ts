// containerd.task.v2.Task for one pod: every container of a CRI pod (grouped by `start`,
// see start.ts) runs in the pod's one VM, booted by the sandbox's Create; a container
// without CRI annotations (ctr run) is a pod of its own.
// Requests and responses are protobufjs plain objects (lowerCamel fields), typed by the
// generated containerd.task.v2 interfaces (src/gen taskv2; UnaryServer<taskv2.Task>). Errors are
// VesselErrors, mapped to ttrpc statuses once, by the ttrpc server (statusFromError);
// what vessel does not support answers UNIMPLEMENTED with a message.
import type { Logger } from 'pino';
import { VesselError } from '../errors/index.js';
import type { Manager } from '../vm/index.js';
import { taskv2, type Empty } from '../gen/index.js';
import type { DeepPartial, UnaryServer } from '../ttrpc/index.js';
import { Container } from './container.js';
import type { EventSink } from './events.js';
import { GUEST_KILL_MS, settlesWithin } from './deadlines.js';
import { containerMetrics, metricsAny } from './metrics.js';
import { parseProcess, podRole, readBundleSpec, vmSize, type OciBundleSpec, type PodRole } from './oci.js';
import { PodVm } from './pod.js';
import { runtimeConfig } from './runtime-options.js';
import type { ShimProcess } from './process.js';
import { timestamp } from './protos.js';

const STATUS = {
  created: taskv2.Status.CREATED,
  running: taskv2.Status.RUNNING,
  stopped: taskv2.Status.STOPPED,
  paused: taskv2.Status.PAUSED,
} as const;

type Reply<T> = Promise<DeepPartial<T>>;

const SIGKILL = 9;

export interface TaskServiceOptions {
  namespace: string;
  id: string;
  logger: Logger;
  events: EventSink;
  /** The VM backend (one VM per pod). */
  manager: Manager;
  /** Called after Shutdown answered: stop serving and exit. */
  onShutdown: () => void;
}

function unimplemented(what: string): never {
  throw new VesselError('UNIMPLEMENTED', `${what} is not supported by containerd-shim-vessel-v2`);
}

export class TaskService implements UnaryServer<taskv2.Task> {
  private readonly containers = new Map<string, Container>();
  /** The pod's VM, booted by the first Create (the CRI sandbox, or a lone container). */
  private pod: PodVm | undefined;
  /** Creates run one at a time (the first boots the VM the others join). */
  private createQueue: Promise<unknown> = Promise.resolve();
  private readonly o: TaskServiceOptions;

  constructor(o: TaskServiceOptions) {
    this.o = o;
  }

  private get(id: string): Container {
    const c = this.containers.get(id);
    if (!c) throw new VesselError('NOT_FOUND', `container ${JSON.stringify(id)} does not exist in this shim`);
    return c;
  }

  /** Tears every container and the VM down (on Shutdown{now} or a fatal signal). */
  async close(): Promise<void> {
    await this.createQueue.catch(() => undefined);
    await this.destroyPod();
  }

  async Create(req: taskv2.CreateTaskRequest): Reply<taskv2.CreateTaskResponse> {
    if (req.checkpoint) unimplemented('Create from a checkpoint');
    const created = this.createQueue.then(() => this.create(req));
    this.createQueue = created.catch(() => undefined);
    await created;
    this.o.events.publish('TaskCreate', {
      containerId: req.id,
      bundle: req.bundle,
      rootfs: req.rootfs,
      io: { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, terminal: req.terminal },
      pid: 0,
    });
    return { pid: 0 };
  }

  private async create(req: taskv2.CreateTaskRequest): Promise<void> {
    if (this.containers.has(req.id)) throw new VesselError('ALREADY_EXISTS', `container ${req.id} already exists`);
    const spec = readBundleSpec(req.bundle);
    const role = podRole(req.id, spec.annotations);
    const booted = this.pod === undefined;
    const pod = await this.podFor(role, req, spec);
    try {
      const c = await Container.create({
        id: req.id,
        bundle: req.bundle,
        spec,
        rootfs: req.rootfs,
        stdio: { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, terminal: req.terminal },
        pod,
        logger: this.o.logger,
      });
      this.containers.set(req.id, c);
    } catch (err) {
      if (booted) {
        this.pod = undefined;
        await pod.destroy();
      }
      throw err;
    }
  }

  /** The running pod this container belongs to, or a new one it boots (the sandbox, a lone container). */
  private async podFor(role: PodRole, req: taskv2.CreateTaskRequest, spec: OciBundleSpec): Promise<PodVm> {
    if (this.pod) {
      if (role.podId !== this.pod.id) throw new VesselError('FAILED_PRECONDITION', `this shim serves pod ${this.pod.id}, not ${role.podId}`);
      if (role.kind !== 'container') throw new VesselError('ALREADY_EXISTS', `pod ${this.pod.id} is already running in this shim`);
      return this.pod;
    }
    if (role.kind === 'container') throw new VesselError('FAILED_PRECONDITION', `pod sandbox ${role.podId} is not running in this shim`);
    if (role.kind === 'sandbox' && spec.network === undefined) {
      throw new VesselError(
        'UNIMPLEMENTED',
        `pod ${role.podId} asks for the host's network (hostNetwork): a pod in a VM has its own network and cannot share the host's`,
      );
    }
    this.pod = await PodVm.boot({
      id: role.podId,
      namespace: this.o.namespace,
      bundle: req.bundle,
      hostname: spec.hostname,
      // the runtime's config (containerd's runtime options), then the pod's annotations
      ...runtimeConfig(req.options),
      ...vmSize(spec.annotations),
      ...(spec.network?.path ? { netns: spec.network.path } : {}),
      manager: this.o.manager,
      logger: this.o.logger,
    });
    return this.pod;
  }

  async Start(req: taskv2.StartRequest): Reply<taskv2.StartResponse> {
    const c = this.get(req.id);
    const p = c.process(req.execId);
    const pid = await p.start(c.launcher(p), (done) => this.exited(c, done));
    if (req.execId) this.o.events.publish('TaskExecStarted', { containerId: c.id, execId: req.execId, pid });
    else this.o.events.publish('TaskStart', { containerId: c.id, pid });
    return { pid };
  }

  private exited(c: Container, p: ShimProcess): void {
    // the CRI reports a container whose OOM event came before its exit as OOMKilled
    if (p === c.init && c.oomKilled) this.o.events.publish('TaskOOM', { containerId: c.id });
    this.o.events.publish('TaskExit', {
      containerId: c.id,
      id: p.execId || c.id,
      pid: p.pid,
      exitStatus: p.exit!.exitStatus,
      exitedAt: timestamp(p.exit!.exitedAt.getTime()),
    });
  }

  async State(req: taskv2.StateRequest): Reply<taskv2.StateResponse> {
    const c = this.get(req.id);
    const p = c.process(req.execId);
    const status = !req.execId && c.paused ? STATUS.paused : STATUS[p.status];
    return {
      id: req.id,
      bundle: c.bundle,
      pid: p.pid,
      status,
      stdin: p.stdio.stdin,
      stdout: p.stdio.stdout,
      stderr: p.stdio.stderr,
      terminal: p.stdio.terminal,
      exitStatus: p.exit?.exitStatus ?? 0,
      exitedAt: p.exit ? timestamp(p.exit.exitedAt.getTime()) : undefined,
      execId: req.execId,
    };
  }

  async Wait(req: taskv2.WaitRequest): Reply<taskv2.WaitResponse> {
    const p = this.get(req.id).process(req.execId);
    const exit = await p.exited();
    return { exitStatus: exit.exitStatus, exitedAt: timestamp(exit.exitedAt.getTime()) };
  }

  /**
   * Kill{all}: every process of the container, i.e. every process in its VM but the agent
   * (even after the init process exited: orphans it left). Otherwise the process (the init
   * process's whole process group).
   */
  async Kill(req: taskv2.KillRequest): Reply<Empty> {
    const c = this.get(req.id);
    const p = c.process(req.execId);
    if (p.status === 'created') {
      p.abandon(128 + req.signal);
      this.exited(c, p);
      return {};
    }
    if (req.all) {
      await this.deliver(c, req.signal, c.signalAll(req.signal));
      return {};
    }
    if (p.status === 'stopped') throw new VesselError('NOT_FOUND', `process ${req.execId || 'init'} already finished`);
    await this.deliver(c, req.signal, p.signal(req.signal, !req.execId));
    return {};
  }

  /**
   * A signal the guest delivers within GUEST_KILL_MS (deadlines.ts). A SIGKILL it cannot
   * deliver in time, to a container that owns its VM, kills the VM instead: every process
   * in it exits 137.
   */
  private async deliver(c: Container, signal: number, delivery: Promise<void>): Promise<void> {
    if (await settlesWithin(delivery, GUEST_KILL_MS)) return delivery;
    delivery.catch(() => undefined);
    const pod = this.pod;
    if (signal !== SIGKILL || !pod || c.id !== pod.id)
      throw new VesselError('DEADLINE_EXCEEDED', `the guest did not deliver signal ${signal} to ${c.id} within ${GUEST_KILL_MS} ms`);
    this.o.logger.warn({ id: c.id }, `the guest did not deliver SIGKILL within ${GUEST_KILL_MS} ms; killing its VM`);
    for (const other of this.containers.values()) for (const p of [other.init, ...other.execs.values()]) p.killedWithVm(SIGKILL);
    await pod.killVm();
  }

  async Delete(req: taskv2.DeleteRequest): Reply<taskv2.DeleteResponse> {
    const c = this.get(req.id);
    const p = c.process(req.execId);
    if (p.status === 'running') throw new VesselError('NOT_STARTED', `process ${req.execId || 'init'} is still running; kill it first`);
    const exit = p.exit ?? { exitStatus: 0, exitedAt: new Date() };
    if (req.execId) {
      c.execs.delete(req.execId);
    } else {
      this.containers.delete(c.id);
      await c.destroy();
      // The pod's VM goes with the container that booted it (the sandbox, or a lone container).
      if (this.pod && c.id === this.pod.id) await this.destroyPod();
    }
    const exitedAt = timestamp(exit.exitedAt.getTime());
    this.o.events.publish('TaskDelete', { containerId: c.id, pid: p.pid, exitStatus: exit.exitStatus, exitedAt, id: req.execId || c.id });
    return { pid: p.pid, exitStatus: exit.exitStatus, exitedAt };
  }

  async Exec(req: taskv2.ExecProcessRequest): Reply<Empty> {
    const c = this.get(req.id);
    if (!req.execId) throw new VesselError('INVALID_ARGUMENT', 'exec_id must not be empty');
    let spec: unknown;
    try {
      spec = JSON.parse(Buffer.from(req.spec?.value ?? []).toString('utf8'));
    } catch {
      throw new VesselError('INVALID_ARGUMENT', 'Exec.spec is not a JSON OCI process');
    }
    const process = parseProcess(spec);
    c.addExec(
      req.execId,
      spec as Record<string, unknown>,
      { ...process, terminal: req.terminal },
      { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, terminal: req.terminal },
    );
    this.o.events.publish('TaskExecAdded', { containerId: c.id, execId: req.execId });
    return {};
  }

  async Pids(req: taskv2.PidsRequest): Reply<taskv2.PidsResponse> {
    const c = this.get(req.id);
    return { processes: (await c.pids()).map((pid) => ({ pid })) };
  }

  async ResizePty(req: taskv2.ResizePtyRequest): Reply<Empty> {
    const c = this.get(req.id);
    const p = c.process(req.execId);
    if (!p.stdio.terminal) throw new VesselError('INVALID_ARGUMENT', `process ${req.execId || 'init'} has no terminal`);
    if (p.status === 'running') await p.resize(req.height, req.width);
    return {};
  }

  async CloseIO(req: taskv2.CloseIORequest): Reply<Empty> {
    const c = this.get(req.id);
    if (req.stdin) await c.process(req.execId).closeStdin();
    return {};
  }

  async Pause(req: taskv2.PauseRequest): Reply<Empty> {
    const c = this.get(req.id);
    await c.pause();
    this.o.events.publish('TaskPaused', { containerId: c.id });
    return {};
  }

  async Resume(req: taskv2.ResumeRequest): Reply<Empty> {
    const c = this.get(req.id);
    await c.resume();
    this.o.events.publish('TaskResumed', { containerId: c.id });
    return {};
  }

  /** The pod's VM and the containers left in it (their processes are gone with the VM). */
  private async destroyPod(): Promise<void> {
    for (const other of this.containers.values()) {
      await other.destroy({ vmGone: true }).catch((err) => this.o.logger.warn({ err, id: other.id }, 'container teardown failed'));
    }
    this.containers.clear();
    const pod = this.pod;
    this.pod = undefined;
    await pod?.destroy();
  }

  async Connect(req: taskv2.ConnectRequest): Reply<taskv2.ConnectResponse> {
    return { shimPid: process.pid, taskPid: this.containers.get(req.id)?.init.pid ?? 0, version: '2' };
  }

  async Shutdown(req: taskv2.ShutdownRequest): Reply<Empty> {
    if (this.containers.size > 0 && !req.now) return {}; // tasks still exist: keep serving them (as containerd's runc shim does)
    this.o.onShutdown();
    return {};
  }

  /** The container's memory and CPU (its cgroup in the guest) as cgroups v1 Metrics. */
  async Stats(req: taskv2.StatsRequest): Reply<taskv2.StatsResponse> {
    const c = this.get(req.id);
    const [stats, vm] = await Promise.all([c.stats(), c.pod.info()]);
    return { stats: metricsAny(containerMetrics(stats, vm)) };
  }

  async Update(): Reply<Empty> {
    return unimplemented('Update (resource limits of a running VM)');
  }

  async Checkpoint(): Reply<Empty> {
    return unimplemented('Checkpoint');
  }
}
