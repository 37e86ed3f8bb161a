// containerd.task.v2.Task for one container (one shim per container, one VM per shim).
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
import { guestMetrics, metricsAny } from './metrics.js';
import { parseProcess } from './oci.js';
import type { ShimProcess } from './process.js';
import { timestamp } from './protos.js';

const STATUS = {
  created: taskv2.Status.CREATED,
  running: taskv2.Status.RUNNING,
  stopped: taskv2.Status.STOPPED,
  paused: taskv2.Status.PAUSED,
} as const;

type Reply<T> = Promise<DeepPartial<T>>;

export interface TaskServiceOptions {
  namespace: string;
  id: string;
  logger: Logger;
  events: EventSink;
  /** The VM backend (one VM per container). */
  manager: Manager;
  /** Called after Shutdown answered: stop serving and exit. */
  onShutdown: () => void;
}

function unimplemented(what: string): never {
  throw new VesselError('UNIMPLEMENTED', `${what} is not supported by containerd-shim-vessel-v2`);
}

export class TaskService implements UnaryServer<taskv2.Task> {
  private container: Container | undefined;
  private creating: Promise<unknown> | undefined;
  private readonly o: TaskServiceOptions;

  constructor(o: TaskServiceOptions) {
    this.o = o;
  }

  private get(id: string): Container {
    if (id !== this.o.id) throw new VesselError('NOT_FOUND', `this shim serves container ${this.o.id}, not ${JSON.stringify(id)}`);
    if (!this.container) throw new VesselError('NOT_FOUND', `container ${id} does not exist`);
    return this.container;
  }

  /** Tears the VM down (on Shutdown{now} or a fatal signal). */
  async close(): Promise<void> {
    await this.creating?.catch(() => undefined);
    const c = this.container;
    this.container = undefined;
    await c?.destroy();
  }

  async Create(req: taskv2.CreateTaskRequest): Reply<taskv2.CreateTaskResponse> {
    if (req.id !== this.o.id) throw new VesselError('INVALID_ARGUMENT', `this shim serves container ${this.o.id}, not ${JSON.stringify(req.id)}`);
    if (this.container || this.creating) throw new VesselError('ALREADY_EXISTS', `container ${req.id} already exists`);
    if (req.checkpoint) unimplemented('Create from a checkpoint');
    const stdio = { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, terminal: req.terminal };
    const creating = Container.create({
      id: req.id,
      namespace: this.o.namespace,
      bundle: req.bundle,
      rootfs: req.rootfs,
      stdio,
      manager: this.o.manager,
      logger: this.o.logger,
    });
    this.creating = creating;
    try {
      this.container = await creating;
    } finally {
      this.creating = undefined;
    }
    this.o.events.publish('TaskCreate', {
      containerId: req.id,
      bundle: req.bundle,
      rootfs: req.rootfs,
      io: { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, terminal: req.terminal },
      pid: 0,
    });
    return { pid: 0 };
  }

  async Start(req: taskv2.StartRequest): Reply<taskv2.StartResponse> {
    const c = this.get(req.id);
    const p = c.process(req.execId);
    const pid = await p.start(c.guest, (done) => this.exited(c, done));
    if (req.execId) this.o.events.publish('TaskExecStarted', { containerId: c.id, execId: req.execId, pid });
    else this.o.events.publish('TaskStart', { containerId: c.id, pid });
    return { pid };
  }

  private exited(c: Container, p: ShimProcess): void {
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
      await c.signalAll(req.signal);
      return {};
    }
    if (p.status === 'stopped') throw new VesselError('NOT_FOUND', `process ${req.execId || 'init'} already finished`);
    await p.signal(req.signal, !req.execId);
    return {};
  }

  async Delete(req: taskv2.DeleteRequest): Reply<taskv2.DeleteResponse> {
    const c = this.get(req.id);
    const p = c.process(req.execId);
    if (p.status === 'running') throw new VesselError('NOT_STARTED', `process ${req.execId || 'init'} is still running; kill it first`);
    const exit = p.exit ?? { exitStatus: 0, exitedAt: new Date() };
    if (req.execId) {
      c.execs.delete(req.execId);
    } else {
      this.container = undefined;
      await c.destroy();
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
    c.addExec(req.execId, { ...process, terminal: req.terminal }, { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, terminal: req.terminal });
    this.o.events.publish('TaskExecAdded', { containerId: c.id, execId: req.execId });
    return {};
  }

  async Pids(req: taskv2.PidsRequest): Reply<taskv2.PidsResponse> {
    const c = this.get(req.id);
    const running = [c.init, ...c.execs.values()].filter((p) => p.status === 'running');
    return { processes: running.map((p) => ({ pid: p.pid })) };
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

  async Connect(req: taskv2.ConnectRequest): Reply<taskv2.ConnectResponse> {
    return { shimPid: process.pid, taskPid: req.id === this.o.id ? (this.container?.init.pid ?? 0) : 0, version: '2' };
  }

  async Shutdown(req: taskv2.ShutdownRequest): Reply<Empty> {
    if (this.container && !req.now) return {}; // a task still exists: keep serving it (as containerd's runc shim does)
    this.o.onShutdown();
    return {};
  }

  /** The guest's memory and CPU (one VM per container) as cgroups v1 Metrics. */
  async Stats(req: taskv2.StatsRequest): Reply<taskv2.StatsResponse> {
    const c = this.get(req.id);
    return { stats: metricsAny(guestMetrics(await c.info())) };
  }

  async Update(): Reply<Empty> {
    return unimplemented('Update (resource limits of a running VM)');
  }

  async Checkpoint(): Reply<Empty> {
    return unimplemented('Checkpoint');
  }
}
