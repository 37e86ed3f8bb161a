// Optional extras a backend may offer beyond Instance (nerdbox's small-interface pattern,
// like its diskReserver): a face checks for one where it needs it and answers
// UNIMPLEMENTED when the backend lacks it, so a second backend needs no edit in the faces.
import { VesselError } from '../errors/index.js';
import type { IPConfig, Instance } from './types.js';

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

function has<K extends string>(inst: Instance, ...methods: K[]): boolean {
  return methods.every((m) => typeof (inst as unknown as Record<string, unknown>)[m] === 'function');
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
