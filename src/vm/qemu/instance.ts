// QemuInstance: one microVM on QEMU, following the lifecycle contract (../lifecycle.ts).
// start() acquires everything into a VmResources (staged disks → virtiofsd per share →
// passt per managed NIC → QEMU with QMP → agent connection → mounts and NIC setup), and
// any failure, or the VMM dying later, releases all of it. shutdown() is bounded
// (deadlines.ts); a guest kernel panic fails the instance with GUEST_PANICKED (guest-panic.ts);
// a share's or NIC's backend dying is a device fault the VM runs on through (device-faults.ts).
// With live restore (env.liveRestore) the VM's processes outlive this process, and a later
// owner attach()es the running VM from what its state dir holds (attach.ts). snapshot()
// saves the running VM into a dir (snapshot.ts), and a start with a RestorePlan starts the
// VM from one instead of booting (restore.ts).
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { AgentClient, TOOLS_BLOCK_ID } from '../../agent/index.js';
import { VesselError, isVesselError } from '../../errors/index.js';
import { processRunning } from '../../host/index.js';
import type { GuestImage } from '../../image/index.js';
import { connectUnixSocket } from '../../transport/index.js';
import { VmConfig } from '../config.js';
import { Lifecycle, type StateChange } from '../lifecycle.js';
import { passtHostDefaults } from '../net/host-defaults.js';
import { netnsDefaults } from '../net/netns-defaults.js';
import { startPasst } from '../net/passt.js';
import { reapOrphans } from '../helpers/orphans.js';
import { SupervisedHelper, type HelperProcess } from '../helpers/supervised.js';
import type { DeviceHealth, ManagedNetworking, Pausable, Snapshottable } from '../extras.js';
import type {
  DeviceFailure,
  DiskOptions,
  FSOptions,
  IPConfig,
  Instance,
  InstanceDescription,
  InstanceState,
  NICOptions,
  NetworkMode,
  StartOptions,
  StartResult,
  StreamOptions,
} from '../types.js';
import { validateHostname, validateInitArgs } from '../validate.js';
import type { Accelerator } from './accelerator.js';
import { QEMU, VHOST_DEVICE_VSOCK, VIRTIOFSD, requireTool, toolVersion } from './binaries.js';
import { kernelCommandLine, netdevId, qemuArgs, type MachineType, type PlannedNic, type PlannedShare } from './command-line.js';
import { ConsoleLog } from './console-log.js';
import { AGENT_SHUTDOWN_MS, ORPHAN_REAP_MS, QMP_QUIT_MS, VMM_OUTPUT_DRAIN_MS, within } from './deadlines.js';
import { DeviceFaults } from './device-faults.js';
import { stageDisk } from './disks.js';
import { hostTscKhz } from './host-tsc.js';
import { OutputTail } from './output-tail.js';
import { PanicWatch } from './guest-panic.js';
import { LivenessMonitor, validateLiveness } from './liveness.js';
import { QmpClient } from './qmp.js';
import { VmResources, vmmOutputClosed } from './resources.js';
import { startVirtiofsd } from './virtiofsd.js';
import { startVsockBackend } from './vsock-backend.js';
import { adoptVmProcesses, ATTACH_CONNECT_MS, configFromSaved, savedVmOf } from './attach.js';
import { saveVm, savedVmPath, type SavedVm } from './saved-vm.js';
import { individualize, loadAndRun, type RestorePlan } from './restore.js';
import { checkSnapshottable, takeSnapshot, type SnapshotOptions, type SnapshotResult } from './snapshot.js';

export interface InstanceEnvironment {
  image: () => Promise<GuestImage>;
  accelerator: Accelerator;
  machine: MachineType;
  cpuModel: string | undefined;
  /** The manager's liveness default (StartOptions.liveness overrides it). */
  liveness?: { intervalMs?: number; unresponsiveAfterMs?: number } | false;
  /** The VM's processes outlive this process, and its state dir says how to attach it. */
  liveRestore?: boolean;
  logger: Logger;
}

const AGENT_SOCKET = 'agent.sock';
const QMP_SOCKET = 'qmp.sock';
const CONSOLE_SOCKET = 'console.sock';
/** The vsock backend's vhost-user socket (QEMU's end) and its hybrid vsock socket (the host's end). */
const VSOCK_VHOST_SOCKET = 'vsock-vhost.sock';
const VSOCK_UDS = 'vsock.sock';

function hostnameFor(stateDir: string): string {
  const name = path
    .basename(stateDir)
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  return name || 'vessel';
}

/** How long the agent may take to fence the guest off a failed device. */
const FENCE_MS = 5_000;

/** How long a restored guest may take for AfterRestore. */
const AFTER_RESTORE_MS = 10_000;

export class QemuInstance implements Instance, Pausable, ManagedNetworking, DeviceHealth, Snapshottable {
  readonly stateDir: string;
  private readonly env: InstanceEnvironment;
  private readonly config = new VmConfig();
  private readonly lifecycle = new Lifecycle();
  private readonly resources: VmResources;
  private readonly panics = new PanicWatch();
  private readonly faults: DeviceFaults;
  /** Pings the running guest (liveness.ts); stopped once the instance leaves `running`. */
  private liveness: LivenessMonitor | undefined;
  /** QMP stop by pause(): the agent cannot answer, and liveness does not count it. */
  private vmPaused = false;
  private readonly startAbort = new AbortController();
  private startPromise: Promise<StartResult> | undefined;
  private shutdownPromise: Promise<void> | undefined;
  private vmmExitHandled: Promise<void> | undefined;
  private readonly consoleWaiters = new Set<() => void>();
  private readonly hurry = new AbortController();
  private releasing = false;
  /** What QEMU was started with that a snapshot records (set at launch). */
  private launched: { imageId: string; qemuBinary: string; cmdline: string; sharedRam: boolean } | undefined;
  private snapshotting = false;
  /** The reason of QMP's last SHUTDOWN event (QEMU is about to exit; an adopted QEMU's status is unknown otherwise). */
  private shutdownReason: string | undefined;
  /** enableVsock(): the VM gets a vsock device (vsock-backend.ts). */
  private vsock = false;

  constructor(stateDir: string, env: InstanceEnvironment) {
    this.stateDir = stateDir;
    this.env = env;
    this.resources = new VmResources(env.logger.child({ stateDir }));
    this.faults = new DeviceFaults(env.logger.child({ stateDir }));
  }

  state(): InstanceState {
    return this.lifecycle.state;
  }

  failure(): Error | undefined {
    return this.lifecycle.failure;
  }

  onStateChange(listener: (change: StateChange) => void): () => void {
    this.lifecycle.on('state', listener);
    return () => this.lifecycle.off('state', listener);
  }

  whenStopped(): Promise<void> {
    return this.lifecycle.whenSettled();
  }

  /** Devices whose backend died while the VM ran on (DEVICE_FAILED each); see device-faults.ts. */
  deviceFailures(): DeviceFailure[] {
    return this.faults.list();
  }

  onDeviceFailure(listener: (failure: DeviceFailure) => void): () => void {
    return this.faults.onFailure(listener);
  }

  /** The accelerator this instance boots with. */
  get accelerator(): Accelerator {
    return this.env.accelerator;
  }

  /** Where the guest console is logged (rotated to `.1` at 4 MiB). */
  get consoleLogPath(): string {
    return path.join(this.stateDir, 'console.log');
  }

  /** Live console output from now on (nothing before start); returns the unsubscribe. */
  onConsole(listener: (chunk: Buffer) => void): () => void {
    const unsubscribe: Array<() => void> = [];
    const attach = () => {
      if (this.resources.console) unsubscribe.push(this.resources.console.subscribe(listener));
    };
    if (this.resources.console) attach();
    else this.consoleWaiters.add(attach);
    return () => {
      this.consoleWaiters.delete(attach);
      for (const u of unsubscribe) u();
    };
  }

  describe(): InstanceDescription {
    return {
      accelerator: this.env.accelerator,
      cpus: this.config.cpus,
      ramMiB: this.config.ramMiB,
      shares: this.config.shares.map((s) => ({ ...s })),
      disks: this.config.disks.map((d) => ({ ...d })),
      nics: [
        ...this.config.nics.map((n) => ({ endpoint: n.endpoint, mac: n.mac, mode: n.mode, features: n.features ?? 0, managed: false })),
        ...this.config.passtNics.map((n) => ({ endpoint: '', mac: n.mac, mode: 'unixstream' as const, features: 0, managed: true })),
      ],
    };
  }

  setCPUAndMemory(cpus: number, ramMiB: number): void {
    this.lifecycle.assertConfigurable('setCPUAndMemory');
    this.config.setCPUAndMemory(cpus, ramMiB);
  }

  addFS(tag: string, hostPath: string, opts?: FSOptions): void {
    this.lifecycle.assertConfigurable('addFS');
    this.config.addFS(tag, hostPath, opts);
  }

  addDisk(blockId: string, hostPath: string, opts?: DiskOptions): void {
    this.lifecycle.assertConfigurable('addDisk');
    this.config.addDisk(blockId, hostPath, opts);
  }

  addNIC(endpoint: string, mac: string, mode: NetworkMode, opts?: NICOptions): void {
    this.lifecycle.assertConfigurable('addNIC');
    this.config.addNIC(endpoint, mac, mode, opts);
  }

  /**
   * Gives the guest a vsock device (AF_VSOCK, CID 3) backed by a vhost-device-vsock that
   * vessel starts and supervises (vsock-backend.ts); the host reaches it through
   * `vsockUdsPath` (hybrid vsock: src/transport). Not the agent's transport (yet). The
   * backend dying fails the instance (DEVICE_FAILED): QEMU cannot re-attach the device.
   * Not with live restore, and QEMU cannot save a VM that has it.
   */
  enableVsock(): void {
    this.lifecycle.assertConfigurable('enableVsock');
    this.vsock = true;
  }

  /** The hybrid vsock socket for host connections (guest-initiated ones arrive on `<it>_<port>`); undefined without enableVsock(). */
  get vsockUdsPath(): string | undefined {
    return this.vsock ? path.join(this.stateDir, VSOCK_UDS) : undefined;
  }

  /**
   * A NIC backed by a passt that vessel starts, supervises and connects to QEMU through a
   * socketpair (net/passt.ts). The guest gets passt's default addresses (or `ip`).
   */
  addPasstNIC(mac: string, opts: { ip?: IPConfig; netns?: string } = {}): void {
    this.lifecycle.assertConfigurable('addPasstNIC');
    this.config.addPasstNIC(mac, opts.ip ?? (opts.netns !== undefined ? netnsDefaults(opts.netns) : passtHostDefaults()), opts.netns);
  }

  // async: a guard that throws becomes a rejection; the guard itself runs synchronously,
  // so of two concurrent start() calls exactly one proceeds.
  async start(opts: StartOptions = {}): Promise<StartResult> {
    return this.begin(opts, undefined);
  }

  /** start(), from a snapshot instead of a boot (QemuManager.restore plans it; restore.ts). */
  async startFromSnapshot(plan: RestorePlan, opts: StartOptions = {}): Promise<StartResult> {
    return this.begin(opts, plan);
  }

  private async begin(opts: StartOptions, plan: RestorePlan | undefined): Promise<StartResult> {
    this.lifecycle.beginStart();
    try {
      validateInitArgs(opts.initArgs ?? []);
      if (opts.hostname !== undefined) validateHostname(opts.hostname);
      const liveness = opts.liveness ?? this.env.liveness;
      if (liveness) validateLiveness(liveness);
    } catch (err) {
      this.lifecycle.fail(err as Error);
      this.lifecycle.stopped();
      throw err;
    }
    this.startPromise = this.boot(opts, plan);
    this.startPromise.catch(() => undefined);
    return this.startPromise;
  }

  client(): AgentClient {
    const err = this.lifecycle.notRunningError('guest agent');
    if (err) throw err;
    return this.resources.agent!;
  }

  async startStream(id: string, opts: StreamOptions = {}): Promise<Duplex> {
    const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
    if (this.lifecycle.state === 'created') throw this.lifecycle.notRunningError(`stream ${JSON.stringify(id)}`)!;
    if (this.lifecycle.state === 'starting') {
      // The transport is still coming up: wait for start() (bounded by the deadline).
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.startPromise!.catch(() => undefined),
        new Promise((resolve) => {
          timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        }),
      ]);
      clearTimeout(timer);
      if (this.lifecycle.state === 'starting')
        throw new VesselError('UNAVAILABLE', `startStream(${JSON.stringify(id)}): the instance did not finish starting in time`);
    }
    const err = this.lifecycle.notRunningError(`stream ${JSON.stringify(id)}`);
    if (err) throw err.code === 'NOT_STARTED' ? err : new VesselError('UNAVAILABLE', err.message, { cause: err.cause });
    try {
      return await this.resources.agent!.openStream(id);
    } catch (e) {
      if (isVesselError(e) && (e.code === 'ALREADY_EXISTS' || e.code === 'RESOURCE_EXHAUSTED' || e.code === 'STREAM_REFUSED' || e.code === 'INVALID_ARGUMENT'))
        throw e;
      throw new VesselError('UNAVAILABLE', `startStream(${JSON.stringify(id)}): ${(e as Error).message}`, { cause: e });
    }
  }

  /**
   * Graceful by default (the agent syncs, unmounts and powers off; then QMP quit; then
   * SIGKILL), each step with its deadline (deadlines.ts): settles within SHUTDOWN_BOUND_MS
   * whatever the guest does. `now`: skip to SIGKILL, also when a graceful shutdown is under way.
   */
  shutdown(opts: { now?: boolean } = {}): Promise<void> {
    if (opts.now) this.hurry.abort();
    this.shutdownPromise ??= this.doShutdown();
    return this.shutdownPromise;
  }

  /** Freezes the guest's vCPUs (QMP stop); the agent does not answer until resume(). */
  async pause(): Promise<void> {
    const err = this.lifecycle.notRunningError('pause()');
    if (err) throw err;
    this.vmPaused = true;
    try {
      await this.resources.qmp!.execute('stop');
    } catch (e) {
      this.vmPaused = (await this.vmmStatus().catch(() => 'unknown')) === 'paused';
      throw e;
    }
  }

  async resume(): Promise<void> {
    const err = this.lifecycle.notRunningError('resume()');
    if (err) throw err;
    await this.resources.qmp!.execute('cont');
    this.vmPaused = false;
  }

  /**
   * Saves the running VM into `dir` (snapshot.ts): the guest stands still meanwhile, and
   * afterwards runs on (leaveRunning, with a new agent session: the previous client() is
   * closed) or is shut down. FAILED_PRECONDITION for a VM with shares or NICs, or while
   * another snapshot is under way.
   */
  async snapshot(dir: string, opts: SnapshotOptions = {}): Promise<SnapshotResult> {
    checkSnapshottable(this.config);
    const err = this.lifecycle.notRunningError('snapshot()');
    if (err) throw err;
    if (this.snapshotting || this.vmPaused) throw new VesselError('FAILED_PRECONDITION', 'snapshot(): the VM is paused or being saved already');
    const r = this.resources;
    const launched = this.launched!;
    this.snapshotting = true;
    this.vmPaused = true; // liveness does not count the pause
    let result: SnapshotResult;
    try {
      result = await takeSnapshot(
        {
          qemuPid: r.qemu!.pid,
          qmp: r.qmp!,
          config: this.config,
          stagedDisks: r.disks,
          imageId: launched.imageId,
          qemuVersion: toolVersion(launched.qemuBinary),
          machine: this.env.machine,
          accelerator: this.env.accelerator,
          cpuModel: this.env.cpuModel,
          cmdline: launched.cmdline,
          sharedRam: launched.sharedRam,
          detachAgent: async () => {
            await r.agent!.detach({ timeoutMs: AGENT_SHUTDOWN_MS });
            // nothing more may reach the guest from this session: the transport goes first
            r.agentTransport?.destroy();
            r.agent!.close();
          },
          reconnectAgent: async () => {
            const deadline = Date.now() + ATTACH_CONNECT_MS;
            const qemu = r.qemu!;
            await this.connectAgent({ deadline, alive: () => !qemu.hasExited, log: this.env.logger });
            await r.agent!.ping({ timeoutMs: ATTACH_CONNECT_MS });
          },
        },
        dir,
        opts,
      );
    } finally {
      this.snapshotting = false;
      this.vmPaused = false;
    }
    if (!opts.leaveRunning) await this.shutdown({ now: true });
    return result;
  }

  /** Pings the agent while running; a guest silent too long fails with GUEST_UNRESPONSIVE and is released. */
  private watchLiveness(o: { intervalMs: number; unresponsiveAfterMs: number }, log: Logger): void {
    this.liveness = new LivenessMonitor(
      {
        // (the current session: a snapshot left running replaces it)
        ping: async (timeoutMs) => void (await this.resources.agent!.ping({ timeoutMs })),
        paused: () => this.vmPaused,
        onUnresponsive: (err) => {
          log.error({ stateDir: this.stateDir, err: err.message }, 'the guest is unresponsive');
          if (!this.lifecycle.fail(err)) return;
          void this.releaseAll().finally(() => this.lifecycle.stopped());
        },
      },
      o,
    );
    const off = this.onStateChange((c) => {
      if (c.state === 'running') return;
      this.liveness?.stop();
      off();
    });
  }

  /** QEMU's run state (QMP query-status), e.g. `running` or `paused`. */
  async vmmStatus(): Promise<string> {
    const err = this.lifecycle.notRunningError('vmmStatus()');
    if (err) throw err;
    const r = await this.resources.qmp!.execute<{ status: string }>('query-status');
    return r.status;
  }

  private async doShutdown(): Promise<void> {
    const wasRunning = this.lifecycle.state === 'running';
    const wasStarting = this.lifecycle.state === 'starting';
    this.lifecycle.stopping();
    if (wasStarting) {
      this.startAbort.abort(new VesselError('UNAVAILABLE', 'shutdown() was called during start()'));
      await this.startPromise?.catch(() => undefined);
    }
    const qemu = this.resources.qemu;
    if (wasRunning && qemu && !qemu.hasExited && !this.hurry.signal.aborted) {
      // Graceful: the agent syncs, unmounts and powers off (one deadline for the call and
      // QEMU's exit); then QMP quit; then release() SIGKILLs.
      const deadline = Date.now() + AGENT_SHUTDOWN_MS;
      try {
        await this.hurried(this.resources.agent!.shutdown({ timeoutMs: AGENT_SHUTDOWN_MS }));
        await this.waitExit(qemu, deadline - Date.now());
      } catch (err) {
        this.env.logger.warn({ err: (err as Error).message }, 'agent shutdown failed; quitting QEMU');
      }
      if (!qemu.hasExited && !this.hurry.signal.aborted) {
        this.env.logger.warn({ stateDir: this.stateDir }, `the guest did not power off within ${AGENT_SHUTDOWN_MS} ms; quitting QEMU`);
        // A frozen or wedged QEMU may never answer: the quit gets a bounded wait too.
        void this.resources.qmp?.execute('quit').catch(() => undefined);
        await this.waitExit(qemu, QMP_QUIT_MS);
      }
    }
    await this.releaseAll();
    // (onVmmExit waits for QEMU's output at most VMM_OUTPUT_DRAIN_MS, which release() already spent)
    await this.vmmExitHandled;
    // Anything a previous owner of this state dir left behind (it crashed).
    await reapOrphans(this.stateDir, { timeoutMs: ORPHAN_REAP_MS });
    this.lifecycle.stopped();
  }

  /** Waits for the process to exit, at most `ms` (less if shutdown({now}) is called). */
  private async waitExit(proc: HelperProcess, ms: number): Promise<boolean> {
    const exited = await this.hurried(within(proc.exited, Math.max(0, ms))).catch(() => false);
    return exited ?? false;
  }

  /** `p`, or a rejection as soon as shutdown({now}) is called. */
  private hurried<T>(p: Promise<T> | undefined): Promise<T | undefined> {
    if (this.hurry.signal.aborted) return Promise.reject(new VesselError('UNAVAILABLE', 'shutdown now'));
    return new Promise<T | undefined>((resolve, reject) => {
      const onHurry = () => reject(new VesselError('UNAVAILABLE', 'shutdown now'));
      this.hurry.signal.addEventListener('abort', onHurry, { once: true });
      Promise.resolve(p)
        .then(resolve, reject)
        .finally(() => this.hurry.signal.removeEventListener('abort', onHurry));
    });
  }

  /** Frees every host resource; from here on a VMM exit is one vessel caused. */
  private releaseAll(): Promise<void> {
    this.releasing = true;
    return this.resources.release();
  }

  /**
   * Boots in named steps, each adding what it acquires to `this.resources` at once (so a
   * failure at any point releases exactly what exists): image → stage disks → start the
   * helpers (virtiofsd, passt) → launch the VMM → connect the guest → configure it.
   */
  private async boot(opts: StartOptions, plan: RestorePlan | undefined): Promise<StartResult> {
    const t0 = performance.now();
    const log = this.env.logger.child({ stateDir: this.stateDir });
    const timeoutMs = opts.timeoutMs ?? (this.env.accelerator === 'kvm' ? 30_000 : 120_000);
    const deadlineAbort = new AbortController();
    const signal = AbortSignal.any([this.startAbort.signal, deadlineAbort.signal, ...(opts.signal ? [opts.signal] : [])]);
    const qemuTail = new OutputTail(8 * 1024);
    let deadlineTimer: NodeJS.Timeout | undefined;
    try {
      const qemuBinary = requireTool(QEMU);
      const virtiofsd = this.config.shares.length ? requireTool(VIRTIOFSD) : '';
      const vsockBackend = this.vsock ? requireTool(VHOST_DEVICE_VSOCK) : '';
      if (this.vsock && this.env.liveRestore)
        throw new VesselError('INVALID_ARGUMENT', 'vsock cannot be used with live restore yet: its backend would die with this process');
      const image = await this.race(this.env.image(), undefined, signal);
      // The boot deadline starts once the image is there (building it on first use takes longer).
      const deadline = Date.now() + timeoutMs;
      deadlineTimer = setTimeout(() => deadlineAbort.abort(new VesselError('DEADLINE_EXCEEDED', `the guest was not ready within ${timeoutMs} ms`)), timeoutMs);
      signal.throwIfAborted();

      await this.stageDisks(signal);
      const shares = await this.startVirtiofsds(virtiofsd, deadline, log);
      const vsockSocket = this.vsock ? await this.startVsock(vsockBackend, deadline, log) : undefined;
      signal.throwIfAborted();
      const network = await this.startNetwork(log);
      const qemu = await this.launchVmm({ binary: qemuBinary, image, shares, vsockSocket, network, opts, qemuTail, log, plan });
      const vmmSpawnedMs = performance.now() - t0;
      await this.connectGuest(qemu, deadline, signal, log, plan);
      const agentReadyMs = performance.now() - t0;
      if (plan) {
        // The guest is configured already (it was when saved); it becomes a machine of its own.
        const hostname = opts.hostname ?? hostnameFor(this.stateDir);
        await this.race(individualize(this.resources.agent!, hostname, AFTER_RESTORE_MS), qemu, signal);
      } else await this.race(this.configureGuest(), qemu, signal);
      const configuredMs = performance.now() - t0;
      signal.throwIfAborted();
      const liveness = opts.liveness ?? this.env.liveness;
      const livenessOptions = liveness === false ? false : validateLiveness(liveness ?? {});
      const result: StartResult = { timings: { vmmSpawnedMs, agentReadyMs, configuredMs }, accelerator: this.env.accelerator };
      if (this.env.liveRestore) this.save(livenessOptions, result);
      this.lifecycle.running();
      this.faults.arm({
        running: () => this.lifecycle.state === 'running' && !this.releasing && !qemu.hasExited && processRunning(qemu.pid),
        fenceInGuest: (device) => this.resources.agent!.fenceDevice(device, { timeoutMs: FENCE_MS }),
        linkDown: async (id) => void (await this.resources.qmp!.execute('set_link', { name: id, up: false })),
      });
      if (livenessOptions) this.watchLiveness(livenessOptions, log);
      log.info({ agentReadyMs: Math.round(agentReadyMs), accelerator: this.env.accelerator }, 'instance started');
      return result;
    } catch (err) {
      // A VMM that exited on its own says why in its last output (a guest panic, say).
      if (this.resources.qemu?.hasExited) await within(vmmOutputClosed(this.resources), VMM_OUTPUT_DRAIN_MS);
      const failure = this.startFailure(signal.aborted && signal.reason instanceof Error ? signal.reason : err, qemuTail);
      this.lifecycle.fail(failure);
      await this.releaseAll();
      if (this.lifecycle.state === 'failed') this.lifecycle.stopped();
      throw failure;
    } finally {
      clearTimeout(deadlineTimer);
    }
  }

  /** Writable disks are staged into the state dir (the source is never touched). */
  private async stageDisks(signal: AbortSignal): Promise<void> {
    for (const d of this.config.disks) {
      this.resources.disks.push(await stageDisk(this.stateDir, d));
      signal.throwIfAborted();
    }
  }

  /** One virtiofsd per share, ready on its socket. */
  private startVirtiofsds(binary: string, deadline: number, log: Logger): Promise<PlannedShare[]> {
    const r = this.resources;
    return Promise.all(
      this.config.shares.map(async (s, i) => {
        const socketPath = path.join(this.stateDir, `fs-${i}.sock`);
        r.sockets.push(socketPath);
        const { process } = await startVirtiofsd({
          binary,
          stateDir: this.stateDir,
          tag: s.tag,
          index: i,
          hostPath: s.hostPath,
          readOnly: s.readOnly,
          socketPath,
          deadline,
          detached: this.env.liveRestore,
          logger: log,
        });
        r.helpers.push(process);
        this.faults.add({ kind: 'share', id: s.tag, helper: process });
        return { tag: s.tag, socketPath };
      }),
    );
  }

  /** Starts the vsock backend, ready on its vhost-user socket; its death from now on ends the instance. */
  private async startVsock(binary: string, deadline: number, log: Logger): Promise<string> {
    const r = this.resources;
    const socketPath = path.join(this.stateDir, VSOCK_VHOST_SOCKET);
    const udsPath = path.join(this.stateDir, VSOCK_UDS);
    r.sockets.push(socketPath, udsPath);
    const { process, tail } = await startVsockBackend({ binary, stateDir: this.stateDir, socketPath, udsPath, deadline, logger: log });
    r.helpers.push(process);
    void process.exited.then((exit) => this.onVsockBackendExit(process.pid, exit, tail.text().trim(), log));
    return socketPath;
  }

  /** The vsock backend is gone: unless vessel ended it, the instance fails (or its start does). */
  private async onVsockBackendExit(pid: number, exit: { code: number | null; signal: NodeJS.Signals | null }, output: string, log: Logger): Promise<void> {
    if (this.releasing) return;
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    const err = new VesselError(
      'DEVICE_FAILED',
      `the vsock backend (vhost-device-vsock, pid ${pid}) ${how}: the guest's vsock is gone for good (QEMU cannot re-attach it)${output ? `; it said: ${output.slice(-500)}` : ''}`,
    );
    if (this.lifecycle.state === 'starting') return void this.startAbort.abort(err);
    if (this.lifecycle.state !== 'running') return;
    log.error({ stateDir: this.stateDir, pid, ...exit }, 'the vsock backend died; stopping the instance');
    if (!this.lifecycle.fail(err)) return;
    await this.releaseAll();
    this.lifecycle.stopped();
  }

  /** The NICs QEMU gets: the caller's endpoints, and a passt started per managed NIC (QEMU's end of each socketpair is passed as fd 3, 4, ...). */
  private async startNetwork(log: Logger): Promise<{ nics: PlannedNic[]; qemuEnds: Duplex[] }> {
    const r = this.resources;
    const nics: PlannedNic[] = this.config.nics.map((n, i) => {
      if (n.mode === 'unixstream') return { mac: n.mac, mode: 'unixstream', endpoint: n.endpoint, features: n.features };
      const localPath = path.join(this.stateDir, `net-${i}.sock`);
      r.sockets.push(localPath);
      return { mac: n.mac, mode: 'unixgram', endpoint: n.endpoint, localPath, features: n.features };
    });
    const passts = await Promise.all(
      this.config.passtNics.map((n, i) =>
        startPasst({ stateDir: this.stateDir, index: i, ip: n.ip, netns: n.netns, detached: this.env.liveRestore, logger: log }),
      ),
    );
    for (const p of passts) r.helpers.push(p.process);
    passts.forEach((p, i) =>
      this.faults.add({ kind: 'nic', id: this.config.passtNics[i]!.mac, helper: p.process, netdevId: netdevId(this.config.nics.length + i) }),
    );
    this.config.passtNics.forEach((n, i) => nics.push({ mac: n.mac, mode: 'unixstream', fd: 3 + i, features: undefined }));
    return { nics, qemuEnds: passts.map((p) => p.qemuEnd) };
  }

  /** Spawns QEMU (supervised) with the console attached; its exit is watched from here on. */
  private async launchVmm(o: {
    binary: string;
    image: GuestImage;
    shares: PlannedShare[];
    vsockSocket: string | undefined;
    network: { nics: PlannedNic[]; qemuEnds: Duplex[] };
    opts: StartOptions;
    qemuTail: OutputTail;
    log: Logger;
    plan: RestorePlan | undefined;
  }): Promise<HelperProcess> {
    const r = this.resources;
    const agentSocket = path.join(this.stateDir, AGENT_SOCKET);
    const qmpSocket = path.join(this.stateDir, QMP_SOCKET);
    const consoleSocket = path.join(this.stateDir, CONSOLE_SOCKET);
    r.sockets.push(agentSocket, qmpSocket, consoleSocket);
    const cmdline =
      o.plan?.cmdline ??
      kernelCommandLine({
        machine: this.env.machine,
        tscKhz: hostTscKhz(),
        hostname: o.opts.hostname ?? hostnameFor(this.stateDir),
        initArgs: o.opts.initArgs ?? [],
      });
    this.launched = { imageId: o.image.id, qemuBinary: o.binary, cmdline, sharedRam: o.plan?.ramFile === undefined };
    const args = qemuArgs({
      machine: this.env.machine,
      accelerator: this.env.accelerator,
      cpuModel: this.env.cpuModel,
      cpus: this.config.cpus,
      ramMiB: this.config.ramMiB,
      kernelPath: o.image.kernelPath,
      initrdPath: o.image.initrdPath,
      cmdline,
      agentSocket,
      qmpSocket,
      consoleSocket,
      shares: o.shares,
      // The image's tools disk (runc) last, so the caller's disks keep their order.
      disks:
        o.image.toolsDiskPath === undefined ? r.disks : [...r.disks, { blockId: TOOLS_BLOCK_ID, path: o.image.toolsDiskPath, format: 'raw', readOnly: true }],
      nics: o.network.nics,
      ramFile: o.plan?.ramFile,
      incoming: o.plan !== undefined,
      vsockSocket: o.vsockSocket,
    });
    r.console = new ConsoleLog(this.consoleLogPath, o.opts.consoleWriter);
    for (const attach of this.consoleWaiters) attach();
    this.consoleWaiters.clear();
    o.log.debug({ args }, 'starting QEMU');
    const qemu = await SupervisedHelper.spawn({
      name: 'qemu',
      command: o.binary,
      args,
      stateDir: this.stateDir,
      stdio: ['ignore', 'ignore', 'pipe', ...o.network.qemuEnds],
      detached: this.env.liveRestore,
      logger: o.log,
    });
    r.qemu = qemu;
    for (const end of o.network.qemuEnds) end.destroy(); // QEMU holds its own copy now
    qemu.child.stderr?.on('data', (c: Buffer) => {
      o.qemuTail.push(c);
      o.log.warn({ qemu: c.toString('utf8').trim() }, 'qemu');
    });
    this.vmmExitHandled = qemu.exited.then((info) => this.onVmmExit(info, o.qemuTail));
    return qemu;
  }

  /** Connects the serial console (QEMU serves it) and feeds the console log from it. */
  private async connectConsole(o: { deadline: number; alive: () => boolean; signal?: AbortSignal }): Promise<void> {
    const r = this.resources;
    const sock = await connectUnixSocket(path.join(this.stateDir, CONSOLE_SOCKET), { ...o, what: 'the console socket' });
    r.consoleSocket = sock;
    sock.on('error', () => undefined); // it ends with QEMU: 'close' follows
    sock.on('data', (c: Buffer) => r.console?.write(c));
  }

  /** Connects QMP and watches what it reports: a guest panic, and why QEMU is about to exit. */
  private async connectQmp(o: { deadline: number; alive: () => boolean; signal?: AbortSignal }): Promise<QmpClient> {
    const r = this.resources;
    const sock = await connectUnixSocket(path.join(this.stateDir, QMP_SOCKET), { ...o, what: 'the QMP socket' });
    sock.on('error', () => undefined); // until QmpClient takes it over (errors end the greeting wait)
    r.qmpSocket = sock;
    r.qmp = await QmpClient.open(sock);
    this.panics.watch(r.qmp);
    r.qmp.on('event', (e) => {
      if (e.event === 'SHUTDOWN') this.shutdownReason = typeof e.data?.reason === 'string' ? e.data.reason : 'unknown';
    });
    return r.qmp;
  }

  /**
   * Connects the console, QMP and the agent (src/agent owns the session), lets the vCPUs run
   * once the console is read (QEMU starts stopped: -S), then waits for the agent's Ping.
   */
  private async connectGuest(qemu: HelperProcess, deadline: number, signal: AbortSignal, log: Logger, plan?: RestorePlan): Promise<void> {
    const r = this.resources;
    const alive = () => !qemu.hasExited;
    // Each socket gets its owner (and so its error handling) the moment it connects, and
    // is recorded for release() before anything else can fail.
    await Promise.all([
      Promise.all([this.connectConsole({ deadline, alive, signal }), this.connectQmp({ deadline, alive, signal })]).then(([, qmp]) =>
        // a restore loads the saved state first (restore.ts), and runs it once verified
        this.race(plan ? loadAndRun(qmp, plan) : qmp.execute('cont'), qemu, signal),
      ),
      this.connectAgent({ deadline, alive, signal, log }),
    ]);
    await this.race(r.agent!.ping({ timeoutMs: Math.max(1, deadline - Date.now()) }), qemu, signal);
  }

  /** Connects the agent port and runs a new yamux session over it (the agent accepts one per host connection). */
  private async connectAgent(o: { deadline: number; alive: () => boolean; signal?: AbortSignal; log: Logger }): Promise<AgentClient> {
    const r = this.resources;
    const sock = await connectUnixSocket(path.join(this.stateDir, AGENT_SOCKET), { ...o, what: 'the agent port' });
    r.agentTransport = sock;
    r.agent = await AgentClient.overTransport(sock, { logger: o.log });
    return r.agent;
  }

  /** Mounts the shares and configures the NICs the config asks for. */
  private async configureGuest(): Promise<void> {
    const agent = this.resources.agent!;
    const work: Promise<unknown>[] = [];
    for (const s of this.config.shares) {
      if (s.mountPoint !== null) work.push(agent.mount({ virtiofsTag: s.tag, target: s.mountPoint, readOnly: s.readOnly }));
    }
    for (const n of this.config.nics) {
      if (n.ip === null) continue;
      const ip = n.ip ?? (n.mode === 'unixstream' ? passtHostDefaults() : { addresses: [] });
      work.push(agent.configureInterface({ mac: n.mac, ...ip }));
    }
    for (const n of this.config.passtNics) work.push(agent.configureInterface({ mac: n.mac, ...n.ip }));
    await Promise.all(work);
  }

  /** Resolves with `p`, or rejects as soon as QEMU exits or the start is aborted. */
  private race<T>(p: Promise<T>, qemu: HelperProcess | undefined, signal: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new VesselError('UNAVAILABLE', 'start aborted'));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      void qemu?.exited.then((info) => reject(new VesselError('VM_EXITED', `QEMU exited (${info.signal ?? `code ${info.code}`}) before the guest was ready`)));
      p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  private startFailure(err: unknown, qemuTail: OutputTail): VesselError {
    const consoleTail = this.resources.console?.text().trim().split('\n').slice(-15).join('\n') ?? '';
    const qemuErr = this.qemuOutput(qemuTail);
    const base = err instanceof Error ? err.message : String(err);
    const details = [qemuErr && `QEMU said:\n${qemuErr}`, consoleTail && `guest console (last lines):\n${consoleTail}`].filter(Boolean).join('\n');
    if (
      isVesselError(err) &&
      (err.code === 'TOOL_MISSING' || err.code === 'INVALID_ARGUMENT' || err.code === 'RESOURCE_EXHAUSTED' || /^(IMAGE|SNAPSHOT)_/.test(err.code))
    )
      return err;
    const panic = this.resources.qemu?.hasExited ? this.panics.failure(this.resources.console?.text() ?? '') : undefined;
    if (panic)
      return new VesselError('GUEST_PANICKED', `start failed: ${panic.message}${consoleTail ? `\nguest console (last lines):\n${consoleTail}` : ''}`, {
        cause: err,
      });
    const code = isVesselError(err, 'DEADLINE_EXCEEDED') ? 'DEADLINE_EXCEEDED' : 'START_FAILED';
    return new VesselError(code, `start failed: ${base}${details ? `\n${details}` : ''}`, { cause: err });
  }

  private async onVmmExit(exit: { code: number | null; signal: NodeJS.Signals | null }, qemuTail: OutputTail): Promise<void> {
    let info = exit;
    const killedByUs = this.releasing; // release() SIGKILLs QEMU: from then on an exit is vessel's doing
    // Why QEMU exited is in what it wrote last: the console and QMP's events (a panic).
    await within(Promise.all([vmmOutputClosed(this.resources), this.resources.qmp?.whenClosed()]), VMM_OUTPUT_DRAIN_MS);
    // An adopted QEMU is not our child: its status is unknown, but QMP said why it was exiting.
    if (info.code === null && info.signal === null && this.shutdownReason !== undefined && this.shutdownReason !== 'guest-panic')
      info = { code: 0, signal: null };
    // QEMU exits 0 when the guest powers off or on QMP quit; a signal vessel did not send,
    // or a non-zero code, is a VMM that died — also if a shutdown() raced to begin first.
    // A guest panic is a death of its own, whatever the exit (pvpanic: 1; a reboot: 0).
    const panic = killedByUs ? undefined : this.panics.failure(this.resources.console?.text() ?? '');
    const died = panic !== undefined || (info.signal !== null ? !killedByUs : info.code !== 0);
    if (this.lifecycle.state === 'stopping' && died) {
      this.lifecycle.fail(panic ?? this.vmmDiedError(info, qemuTail), { evenWhileStopping: true });
      return; // shutdown() releases and settles
    }
    if (this.lifecycle.state !== 'running') return; // start() and shutdown() handle their own exits
    if (panic) {
      this.env.logger.error({ stateDir: this.stateDir, panic: panic.message }, 'the guest kernel panicked');
      this.lifecycle.fail(panic);
      await this.releaseAll();
      this.lifecycle.stopped();
      return;
    }
    if (info.code === 0) {
      // The guest powered itself off: a stop, not a failure.
      this.env.logger.info({ stateDir: this.stateDir }, 'the guest powered off');
      this.lifecycle.stopping();
      await this.releaseAll();
      this.lifecycle.stopped();
      return;
    }
    this.env.logger.error({ stateDir: this.stateDir, code: info.code, signal: info.signal }, 'VMM exited unexpectedly');
    this.lifecycle.fail(this.vmmDiedError(info, qemuTail));
    await this.releaseAll();
    this.lifecycle.stopped();
  }

  private vmmDiedError(info: { code: number | null; signal: NodeJS.Signals | null }, qemuTail: OutputTail): VesselError {
    const why = info.signal
      ? `killed by ${info.signal}`
      : info.code === null
        ? 'exited (status unknown: adopted after live restore)'
        : `exited with code ${info.code}`;
    const detail = this.qemuOutput(qemuTail);
    return new VesselError('VM_EXITED', `the VMM ${why} while the instance was running${detail ? `: ${detail}` : ''}`);
  }

  /** What QEMU wrote to stderr last: the pipe's tail, or its log file's (live restore). */
  private qemuOutput(qemuTail: OutputTail): string {
    return (qemuTail.text() || this.resources.qemu?.loggedOutput() || '').trim();
  }

  /** Persists what a later owner needs to attach this running VM (live restore). */
  private save(liveness: SavedVm['liveness'], startResult: StartResult): void {
    this.resources.savedVm = savedVmPath(this.stateDir);
    saveVm(
      this.stateDir,
      savedVmOf({ accelerator: this.env.accelerator, machine: this.env.machine, config: this.config, resources: this.resources, liveness, startResult }),
    );
  }

  /**
   * Takes over the running VM a previous owner (dead) left in the state dir for live
   * restore, as start() would have left it: its processes adopted, the console, QMP and a
   * new agent session connected (each bounded by ATTACH_CONNECT_MS), liveness restarted.
   * Rejects (VM_EXITED, having released what was left) when QEMU is gone or is not running
   * the guest; resolves with the instance failed (GUEST_UNRESPONSIVE, the VM released) when
   * QEMU runs but its agent does not answer; otherwise with the instance running.
   */
  async attach(saved: SavedVm): Promise<StartResult> {
    this.lifecycle.beginStart();
    const log = this.env.logger.child({ stateDir: this.stateDir });
    const r = this.resources;
    configFromSaved(this.config, saved);
    let adopted: ReturnType<typeof adoptVmProcesses>;
    try {
      adopted = adoptVmProcesses(this.stateDir, saved);
    } catch (err) {
      // (another live owner: nothing here is ours to release)
      this.lifecycle.fail(err as Error);
      this.lifecycle.stopped();
      throw err;
    }
    const { qemu, helpers, sockets } = adopted;
    r.helpers.push(...helpers);
    r.disks.push(...saved.stagedDisks);
    r.sockets.push(...[AGENT_SOCKET, QMP_SOCKET, CONSOLE_SOCKET].map((s) => path.join(this.stateDir, s)), ...sockets);
    r.savedVm = savedVmPath(this.stateDir);
    const qemuTail = new OutputTail(8 * 1024);
    // One deadline for the connections: a QEMU that accepts but never answers (SIGSTOPped) cannot hold the attach.
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new VesselError('DEADLINE_EXCEEDED', `QEMU did not answer on its console, QMP and agent sockets within ${ATTACH_CONNECT_MS} ms`)),
      ATTACH_CONNECT_MS,
    );
    const signal = AbortSignal.any([this.startAbort.signal, timeout.signal]);
    try {
      if (!qemu) throw new VesselError('VM_EXITED', 'its QEMU is gone (it exited while no vessel process was attached)');
      r.qemu = qemu;
      this.vmmExitHandled = qemu.exited.then((info) => this.onVmmExit(info, qemuTail));
      const deadline = Date.now() + ATTACH_CONNECT_MS;
      const alive = () => !qemu.hasExited;
      r.console = new ConsoleLog(this.consoleLogPath, undefined, { append: true });
      for (const attachConsole of this.consoleWaiters) attachConsole();
      this.consoleWaiters.clear();
      const connected = async () => {
        await this.connectConsole({ deadline, alive, signal });
        const qmp = await this.connectQmp({ deadline, alive, signal });
        qmp.once('close', () => qemu.checkSoon());
        const { status } = await qmp.execute<{ status: string }>('query-status');
        if (status !== 'running' && status !== 'paused') throw new VesselError('VM_EXITED', `QEMU is ${status}, not running the guest`);
        this.vmPaused = status === 'paused';
        await this.connectAgent({ deadline, alive, signal, log });
      };
      await this.race(connected(), qemu, signal);
    } catch (err) {
      const failure = isVesselError(err) ? err : new VesselError('VM_EXITED', (err as Error).message, { cause: err });
      this.lifecycle.fail(failure);
      await this.releaseAll();
      this.lifecycle.stopped();
      throw failure;
    } finally {
      clearTimeout(timer);
    }
    // A paused guest cannot answer: it is not asked now, and liveness does not count the pause.
    if (!this.vmPaused) {
      try {
        await this.race(r.agent!.ping({ timeoutMs: ATTACH_CONNECT_MS }), r.qemu, this.startAbort.signal);
      } catch (err) {
        const failure = new VesselError('GUEST_UNRESPONSIVE', `re-attached after live restore, but the guest agent did not answer: ${(err as Error).message}`, {
          cause: err,
        });
        log.error({ err: failure.message }, 'the re-attached guest is unresponsive; releasing it');
        this.lifecycle.fail(failure);
        await this.releaseAll();
        this.lifecycle.stopped();
        return saved.startResult;
      }
    }
    this.lifecycle.running();
    if (saved.liveness) this.watchLiveness(saved.liveness, log);
    log.info({ paused: this.vmPaused, helpers: r.helpers.map((h) => h.name) }, 'instance re-attached');
    return saved.startResult;
  }
}
