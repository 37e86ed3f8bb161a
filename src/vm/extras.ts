// Optional extras a backend may offer beyond Instance (nerdbox's small-interface pattern,
// like its diskReserver): a face checks for one where it needs it and answers
// UNIMPLEMENTED when the backend lacks it, so a second backend needs no edit in the faces.
import { VesselError } from '../errors/index.js';
import type { DeviceFailure, IPConfig, Instance, Manager } from './types.js';

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
