// Contract: QemuManager is the seed's Manager on QEMU. newInstance(stateDir) takes an
// existing directory (made 0700; every socket, log, staged disk and process record of the
// VM lives there), refuses one a live vessel process is using (STATE_DIR_IN_USE), and
// first ends what a crashed previous owner left running there. Instances boot the guest
// image (the default one, built on first use, unless one is given) with KVM where real
// hardware virtualization exists and TCG elsewhere (or as configured), on microvm by
// default (q35 selectable). An instance's shutdown() settles within SHUTDOWN_BOUND_MS
// whatever its guest does (deadlines.ts); a guest kernel panic fails it with GUEST_PANICKED.
// With liveRestore, VMs outlive the manager's process, and attach(stateDir) (the Attachable
// extra) takes over the running VM a dead owner left in a state dir (attach.ts).
// restore(dir, stateDir) (the SnapshotRestorer extra) starts an instance from a snapshot
// that QemuInstance.snapshot() saved (restore.ts), when it was made for this manager's image,
// QEMU, accelerator, machine and CPU model (else SNAPSHOT_MISMATCH).
import fs from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { VesselError } from '../../errors/index.js';
import { ensureDefaultImage, type GuestImage, type ImageOptions } from '../../image/index.js';
import type { Attachable, RestoreOverrides, SnapshotRestorer } from '../extras.js';
import type { Manager, StartOptions } from '../types.js';
import { liveForeignOwner, reapOrphans } from '../helpers/orphans.js';
import { chooseAccelerator, type Accelerator } from './accelerator.js';
import type { MachineType } from './command-line.js';
import { QemuInstance } from './instance.js';
import { loadSavedVm } from './saved-vm.js';
import { QEMU, requireTool, toolVersion } from './binaries.js';
import { configureFromManifest, planRestore } from './restore.js';
import { checkCompatible, readManifest } from './snapshot-manifest.js';

export interface QemuManagerOptions {
  /** The guest image, or how to get it; default: the default image (built on first use). */
  image?: GuestImage | (() => Promise<GuestImage>);
  /** Options for building the default image on first use (e.g. onProgress). */
  imageOptions?: ImageOptions;
  accelerator?: Accelerator | 'auto';
  machine?: MachineType;
  /** QEMU -cpu model; default `host` under KVM, TCG_CPU_MODEL (max without ERMS/FSRM) under TCG. */
  cpuModel?: string;
  /** Liveness for instances whose start() does not say (StartOptions.liveness); default on, 5 s / 60 s. */
  liveness?: { intervalMs?: number; unresponsiveAfterMs?: number } | false;
  /** VMs outlive this process and can be attached by a later manager (ManagerOptions.liveRestore). */
  liveRestore?: boolean;
  logger?: Logger;
}

export class QemuManager implements Manager, Attachable, SnapshotRestorer {
  private readonly opts: QemuManagerOptions;
  private readonly logger: Logger;
  private imagePromise: Promise<GuestImage> | undefined;

  constructor(opts: QemuManagerOptions = {}) {
    this.opts = opts;
    this.logger = opts.logger ?? pino({ level: 'silent' });
  }

  async newInstance(stateDir: string): Promise<QemuInstance> {
    const dir = await this.usableStateDir(stateDir);
    await reapOrphans(dir);
    const accel = chooseAccelerator(this.opts.accelerator ?? 'auto');
    return new QemuInstance(dir, this.environment(accel.accelerator, this.opts.machine ?? 'microvm'));
  }

  /**
   * Attaches the running VM a dead owner with live restore left in `stateDir` (Attachable):
   * it then runs on the accelerator and machine it was started with. When there is none to
   * attach, whatever that owner left running there is ended and the call rejects
   * (NOT_FOUND: nothing saved; VM_EXITED: its QEMU is gone).
   */
  async attach(stateDir: string): Promise<QemuInstance> {
    const dir = await this.usableStateDir(stateDir);
    const saved = loadSavedVm(dir);
    if ('missing' in saved) {
      await reapOrphans(dir);
      throw new VesselError('NOT_FOUND', `nothing to attach in ${dir}: ${saved.missing}`);
    }
    const instance = new QemuInstance(dir, this.environment(saved.accelerator, saved.machine));
    try {
      await instance.attach(saved);
    } finally {
      await reapOrphans(dir); // anything not adopted (a record its owner did not mean to be adopted)
    }
    return instance;
  }

  /**
   * A new instance in `stateDir`, started from the snapshot in `dir` (SnapshotRestorer):
   * resolves once its agent answers in the saved guest state, reseeded and with its own
   * hostname (`overrides.hostname`, else from the state dir's name); `overrides.start` are
   * the StartOptions (timeout, liveness, console). Rejects with SNAPSHOT_MISMATCH (another
   * image, QEMU, accelerator, machine, CPU model, or a referenced disk that changed),
   * SNAPSHOT_CORRUPT (a file fails its checksum) or the start's error, nothing left running.
   */
  async restore(dir: string, stateDir: string, overrides: RestoreOverrides & { start?: StartOptions } = {}): Promise<QemuInstance> {
    const snapshotDir = path.resolve(dir);
    const manifest = readManifest(snapshotDir);
    const accelerator = chooseAccelerator(this.opts.accelerator ?? 'auto').accelerator;
    const image = await this.image();
    checkCompatible(snapshotDir, manifest, {
      imageId: image.id,
      qemuVersion: toolVersion(requireTool(QEMU)),
      accelerator,
      machine: this.opts.machine ?? 'microvm',
      cpuModel: this.opts.cpuModel,
    });
    const instance = await this.newInstance(stateDir);
    configureFromManifest(instance, snapshotDir, manifest);
    await instance.startFromSnapshot(planRestore(snapshotDir, manifest), { ...overrides.start, hostname: overrides.hostname ?? overrides.start?.hostname });
    return instance;
  }

  private environment(accelerator: Accelerator, machine: MachineType): ConstructorParameters<typeof QemuInstance>[1] {
    return {
      image: () => this.image(),
      accelerator,
      machine,
      cpuModel: this.opts.cpuModel,
      liveness: this.opts.liveness,
      liveRestore: this.opts.liveRestore === true,
      logger: this.logger,
    };
  }

  /** The resolved state dir, checked as the contract says (exists, a writable dir, made 0700, no live foreign owner). */
  private async usableStateDir(stateDir: string): Promise<string> {
    if (typeof stateDir !== 'string' || stateDir === '') throw new VesselError('INVALID_ARGUMENT', 'state dir must be a non-empty path');
    const dir = path.resolve(stateDir);
    let st: fs.Stats;
    try {
      st = await fs.promises.stat(dir);
    } catch {
      throw new VesselError('INVALID_ARGUMENT', `state dir ${dir} does not exist; create it first`);
    }
    if (!st.isDirectory()) throw new VesselError('INVALID_ARGUMENT', `state dir ${dir} is not a directory`);
    try {
      await fs.promises.access(dir, fs.constants.W_OK | fs.constants.X_OK);
      await fs.promises.chmod(dir, 0o700);
    } catch (err) {
      throw new VesselError('INVALID_ARGUMENT', `state dir ${dir} is not writable: ${(err as Error).message}`);
    }
    const owner = liveForeignOwner(dir);
    if (owner) throw new VesselError('STATE_DIR_IN_USE', `state dir ${dir} is in use by vessel process ${owner.pid}`);
    return dir;
  }

  private image(): Promise<GuestImage> {
    const given = this.opts.image;
    if (given && typeof given !== 'function') return Promise.resolve(given);
    if (!this.imagePromise) {
      this.imagePromise = given ? given() : ensureDefaultImage({ logger: this.logger, ...this.opts.imageOptions });
      this.imagePromise.catch(() => {
        this.imagePromise = undefined;
      });
    }
    return this.imagePromise;
  }
}

export { QemuInstance } from './instance.js';
export { SHUTDOWN_BOUND_MS, within } from './deadlines.js';
export { chooseAccelerator, probeAccelerator, type Accelerator, type AcceleratorProbe } from './accelerator.js';
export { qemuArgs, kernelCommandLine, TCG_CPU_MODEL, type LaunchPlan, type MachineType } from './command-line.js';
export { findTool, requireTool, QEMU, VIRTIOFSD, PASST, type HostTool } from './binaries.js';
