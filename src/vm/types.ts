// The seed interface (nerdbox pkg/vm) in TypeScript: what every backend implements, and
// the optional extras a backend may add (checked where used, see ./extras.ts).
import type { Duplex, Writable } from 'node:stream';
import type { Logger } from 'pino';
import type { AgentClient } from '../agent/index.js';
import type { GuestImage } from '../image/index.js';
import type { StateChange } from './lifecycle.js';

export type NetworkMode = 'unixstream' | 'unixgram';

export type InstanceState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface FSOptions {
  readOnly?: boolean;
  /** Guest mount point; default `/mnt/<tag>`. `null`: attach the share but do not mount it. */
  mountPoint?: string | null;
}

export interface DiskOptions {
  readOnly?: boolean;
  /** The file is a VMDK image (else raw). */
  vmdk?: boolean;
  /**
   * Writable disks are staged (reflinked or copied) into the state dir, so the source is
   * never modified. `true` (default): the staged copy is deleted at shutdown and after a
   * failed start. `false`: it is kept in the state dir and reused by the next instance
   * that adds the same block id there (a persistent disk).
   */
  ephemeral?: boolean;
}

/** Static IP configuration the agent applies to a NIC (found in the guest by MAC). */
export interface IPConfig {
  /** CIDR, e.g. `192.0.2.2/24`. */
  addresses: string[];
  gateway?: string;
  mtu?: number;
  dns?: string[];
}

export interface NICOptions {
  /**
   * virtio-net feature bits (libkrun's NET_FEATURE_* values, which are the virtio-net
   * feature bit numbers). When given, each mapped feature is switched on or off
   * explicitly; see FEATURE_PROPERTIES in nic-features.ts. Default: QEMU's defaults.
   */
  features?: number;
  /** libkrun's NET_FLAG_* bits; none is supported by the QEMU backend, so only 0 is accepted. */
  flags?: number;
  /**
   * Interface configuration the agent applies at start. Default for `unixstream`: the
   * addresses passt hands out by default (the host's own, see net/host-defaults.ts);
   * for `unixgram`: the link is only brought up. `null`: leave the interface alone.
   */
  ip?: IPConfig | null;
}

export interface StartOptions {
  /** The guest's hostname (validateHostname's rule); default: from the state dir's name. */
  hostname?: string;
  /** Extra kernel command-line arguments for the guest (e.g. `vessel.debug=1`). */
  initArgs?: string[];
  /** Receives the guest console (it also goes to `<stateDir>/console.log`). */
  consoleWriter?: Writable;
  /** Boot deadline: QEMU start → agent answers (default 120 s under TCG, 30 s under KVM). */
  timeoutMs?: number;
  /**
   * Liveness once running: the agent is pinged every `intervalMs` (5 s), and a guest silent
   * for `unresponsiveAfterMs` (60 s) fails the instance with GUEST_UNRESPONSIVE and the VM
   * is released; `false` turns it off.
   */
  liveness?: { intervalMs?: number; unresponsiveAfterMs?: number } | false;
  signal?: AbortSignal;
}

export interface StartResult {
  /** Milliseconds from `start()` until each point. */
  timings: {
    vmmSpawnedMs: number;
    agentReadyMs: number;
    configuredMs: number;
  };
  accelerator: 'kvm' | 'tcg';
}

export interface StreamOptions {
  /** How long to retry while the transport comes up (default 10 s). */
  timeoutMs?: number;
}

/** What an instance was configured with and runs on (for status reporting). */
export interface InstanceDescription {
  cpus: number;
  ramMiB: number;
  shares: Array<{ tag: string; hostPath: string; readOnly: boolean; mountPoint: string | null }>;
  disks: Array<{ blockId: string; hostPath: string; readOnly: boolean; format: 'raw' | 'vmdk'; ephemeral: boolean }>;
  /** `managed`: a NIC whose network helper the backend runs itself (e.g. passt). */
  nics: Array<{ endpoint: string; mac: string; mode: NetworkMode; features: number; managed: boolean }>;
  /** How the guest's CPU runs, e.g. `kvm` or `tcg`. */
  accelerator: string;
}

/**
 * A device whose host backend died while the VM ran on (a share's virtiofsd, a NIC's
 * passt): see DeviceHealth (extras.ts).
 */
export interface DeviceFailure {
  kind: 'share' | 'nic';
  /** The share's tag or the NIC's MAC. */
  id: string;
  /** DEVICE_FAILED, naming the device and how its backend ended. */
  error: Error;
  at: Date;
  /** How the guest was fenced off it (set once tried): the mount points or the interface, or why not. */
  fenced?: { targets: string[] } | { error: string };
}

export interface Instance {
  readonly stateDir: string;
  state(): InstanceState;
  /** Why the instance failed, if it did. */
  failure(): Error | undefined;
  /** State changes from now on; returns the unsubscribe. */
  onStateChange(listener: (change: StateChange) => void): () => void;
  /** Live guest console output from now on (nothing before start); returns the unsubscribe. */
  onConsole(listener: (chunk: Buffer) => void): () => void;
  /** Where the guest console is logged. */
  readonly consoleLogPath: string;
  describe(): InstanceDescription;

  setCPUAndMemory(cpus: number, ramMiB: number): void;
  addFS(tag: string, hostPath: string, opts?: FSOptions): void;
  addDisk(blockId: string, hostPath: string, opts?: DiskOptions): void;
  addNIC(endpoint: string, mac: string, mode: NetworkMode, opts?: NICOptions): void;

  start(opts?: StartOptions): Promise<StartResult>;
  client(): AgentClient;
  startStream(id: string, opts?: StreamOptions): Promise<Duplex>;
  /**
   * Graceful unless `now` (then at once, also while a graceful shutdown is under way);
   * bounded whatever the guest does (QEMU: SHUTDOWN_BOUND_MS).
   */
  shutdown(opts?: { now?: boolean }): Promise<void>;
  /** Resolves when the instance reaches `stopped` or `failed`. */
  whenStopped(): Promise<void>;
}

export interface Manager {
  newInstance(stateDir: string): Promise<Instance>;
}

/** What an entry point hands the faces (api, shim, cli) to build their one Manager with. */
export interface ManagerOptions {
  logger?: Logger;
  /** The guest image to boot; default: the default image (built on first use). */
  image?: GuestImage;
  /**
   * Live restore: the VMs this manager starts outlive the process (no parent-death signal;
   * console and helper output not tied to it), and a later manager with liveRestore can
   * attach them (the Attachable extra). Default off: VMs die with their owner.
   */
  liveRestore?: boolean;
}

export type NewManager = (opts: ManagerOptions) => Manager;
