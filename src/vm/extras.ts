// Optional extras a backend may offer beyond Instance (nerdbox's small-interface pattern,
// like its diskReserver): a face checks for one where it needs it and answers
// UNIMPLEMENTED when the backend lacks it, so a second backend needs no edit in the faces.
import { VesselError } from '../errors/index.js';
import type { DeviceFailure, IPConfig, Instance, Manager, StartOptions } from './types.js';

/** Freezing and thawing the guest's vCPUs (the agent does not answer while paused). */
export interface Pausable {
  pause(): Promise<void>;
  resume(): Promise<void>;
}

/**
 * A NIC backed by a network helper (passt) the backend starts and supervises itself; with
 * `netns` (a network namespace's nsfs path, e.g. a pod's from CNI) the helper runs there,
 * the guest takes that namespace's address and every port there is forwarded to the guest.
 */
export interface ManagedNetworking {
  addPasstNIC(mac: string, opts?: { ip?: IPConfig; netns?: string }): void;
}

/**
 * A manager whose VMs can outlive their owner (live restore) and be taken over by a later
 * one. attach(stateDir) adopts the running VM a dead owner left there: it resolves with the
 * instance running (or failed with why, when its VMM runs but the guest does not answer,
 * the VM then released), and rejects when there is nothing to attach (no VM saved there,
 * or its VMM is gone: what was left is ended first) or a live owner holds the dir.
 */
export interface Attachable {
  attach(stateDir: string): Promise<Instance>;
}

/**
 * Devices whose host backend died while the VM runs on (a share's virtiofsd, a NIC's
 * passt): each is recorded once with a DEVICE_FAILED error naming it, and the guest is
 * fenced off it (its accesses fail instead of waiting forever).
 */
export interface DeviceHealth {
  deviceFailures(): DeviceFailure[];
  /** Each failure once the guest was fenced off it (or that failed); returns the unsubscribe. */
  onDeviceFailure(listener: (failure: DeviceFailure) => void): () => void;
}

/** What a snapshot() may be asked (QEMU: snapshot.ts). */
export interface SnapshotOptions {
  /** Let the VM run on after the snapshot (default: it is shut down once saved). */
  leaveRunning?: boolean;
  /** `mapped`: RAM in its own file, mapped by restored VMs; `stream`: RAM in the state stream. Default: `mapped` where the backend can. */
  ram?: 'mapped' | 'stream';
}

export interface SnapshotResult {
  dir: string;
  ram: 'mapped' | 'stream';
  /** How long the guest stood still. */
  pausedMs: number;
  /** Bytes written into the dir (allocated). */
  bytes: number;
}

/**
 * A VM that can be saved into a self-describing snapshot dir (device and RAM state, disks,
 * a manifest with sha256s): it runs on (leaveRunning) or is shut down once saved.
 */
export interface Snapshottable {
  snapshot(dir: string, opts?: SnapshotOptions): Promise<SnapshotResult>;
}

/** What a restored VM is given instead of what it had. */
export interface RestoreOverrides {
  /** Default: from the new state dir's name, as a cold start would. */
  hostname?: string;
}

/**
 * A manager that starts VMs from snapshots: restore(dir, stateDir) resolves with the
 * instance running in the saved guest state (SNAPSHOT_MISMATCH: made for another image,
 * VMM or machine; SNAPSHOT_CORRUPT: a file fails its checksum).
 */
export interface SnapshotRestorer {
  restore(dir: string, stateDir: string, overrides?: RestoreOverrides & { start?: StartOptions }): Promise<Instance>;
}

function has<K extends string>(inst: object, ...methods: K[]): boolean {
  return methods.every((m) => typeof (inst as unknown as Record<string, unknown>)[m] === 'function');
}

/** `manager` as Attachable, or undefined when the backend cannot re-attach VMs. */
export function attachable(manager: Manager): (Manager & Attachable) | undefined {
  return has(manager, 'attach') ? (manager as Manager & Attachable) : undefined;
}

/** `inst` as Pausable, or UNIMPLEMENTED naming `what` needed it. */
export function pausable(inst: Instance, what: string): Instance & Pausable {
  if (!has(inst, 'pause', 'resume')) throw new VesselError('UNIMPLEMENTED', `${what}: this VM backend cannot pause a guest`);
  return inst as Instance & Pausable;
}

/** `inst` with ManagedNetworking, or UNIMPLEMENTED naming `what` needed it. */
export function managedNetworking(inst: Instance, what: string): Instance & ManagedNetworking {
  if (!has(inst, 'addPasstNIC')) throw new VesselError('UNIMPLEMENTED', `${what}: this VM backend cannot run a network helper for the guest`);
  return inst as Instance & ManagedNetworking;
}

/** `inst`'s DeviceHealth, or undefined when the backend keeps no such record. */
export function deviceHealth(inst: Instance): (Instance & DeviceHealth) | undefined {
  return has(inst, 'deviceFailures', 'onDeviceFailure') ? (inst as Instance & DeviceHealth) : undefined;
}

/** `inst` as Snapshottable, or UNIMPLEMENTED naming `what` needed it. */
export function snapshottable(inst: Instance, what: string): Instance & Snapshottable {
  if (!has(inst, 'snapshot')) throw new VesselError('UNIMPLEMENTED', `${what}: this VM backend cannot save a VM`);
  return inst as Instance & Snapshottable;
}

/** `manager` as SnapshotRestorer, or UNIMPLEMENTED naming `what` needed it. */
export function snapshotRestorer(manager: Manager, what: string): Manager & SnapshotRestorer {
  if (!has(manager, 'restore')) throw new VesselError('UNIMPLEMENTED', `${what}: this VM backend cannot start a VM from a snapshot`);
  return manager as Manager & SnapshotRestorer;
}
