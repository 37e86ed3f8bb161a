// Contract: QemuManager is the seed's Manager on QEMU. newInstance(stateDir) takes an
// existing directory (made 0700; every socket, log, staged disk and process record of the
// VM lives there), refuses one a live vessel process is using (STATE_DIR_IN_USE), and
// first ends what a crashed previous owner left running there. Instances boot the guest
// image (the default one, built on first use, unless one is given) with KVM where real
// hardware virtualization exists and TCG elsewhere (or as configured), on microvm by
// default (q35 selectable). An instance's shutdown() settles within SHUTDOWN_BOUND_MS
// whatever its guest does (deadlines.ts); a guest kernel panic fails it with GUEST_PANICKED.
import fs from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { VesselError } from '../../errors/index.js';
import { ensureDefaultImage, type GuestImage, type ImageOptions } from '../../image/index.js';
import type { Manager } from '../types.js';
import { liveForeignOwner, reapOrphans } from '../helpers/orphans.js';
import { chooseAccelerator, type Accelerator } from './accelerator.js';
import type { MachineType } from './command-line.js';
import { QemuInstance } from './instance.js';

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
  logger?: Logger;
}

export class QemuManager implements Manager {
  private readonly opts: QemuManagerOptions;
  private readonly logger: Logger;
  private imagePromise: Promise<GuestImage> | undefined;

  constructor(opts: QemuManagerOptions = {}) {
    this.opts = opts;
    this.logger = opts.logger ?? pino({ level: 'silent' });
  }

  async newInstance(stateDir: string): Promise<QemuInstance> {
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
    await reapOrphans(dir);
    const accel = chooseAccelerator(this.opts.accelerator ?? 'auto');
    return new QemuInstance(dir, {
      image: () => this.image(),
      accelerator: accel.accelerator,
      machine: this.opts.machine ?? 'microvm',
      cpuModel: this.opts.cpuModel,
      liveness: this.opts.liveness,
      logger: this.logger,
    });
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
