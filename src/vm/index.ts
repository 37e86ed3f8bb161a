// Contract: the seed's Manager/Instance interface (nerdbox pkg/vm) and its lifecycle
// (architecture.md): configuration (setCPUAndMemory, addFS, addDisk, addNIC) only before
// start, validated at the call with typed errors (INVALID_ARGUMENT, ALREADY_EXISTS,
// CONFIG_AFTER_START); start() returns once the agent answers, or fails and releases
// everything; client()/startStream() only after a successful start (NOT_STARTED before,
// UNAVAILABLE once stopped or failed; startStream waits while the start is in progress);
// shutdown() is idempotent, safe after a failed start, frees every host resource, and the
// instance cannot be reused. What every backend offers is Instance (state watch, console,
// describe); optional extras (pause, managed NICs, re-attaching a live-restore VM, saving a
// VM into a snapshot and starting VMs from one, which fork() combines) are
// small interfaces in ./extras.ts, checked where used. The QEMU backend is in ./qemu; the
// supervision of host helper processes (qemu, virtiofsd, passt: nothing outlives its
// owner unless started for live restore, then adopted by the next; orphans found from the
// state dir) in ./helpers. Words: a "helper" is a host process vessel supervises, an
// "exec" a process of a container (src/shim), a "process" one in the guest (the agent's).
export type {
  Manager,
  ManagerOptions,
  NewManager,
  Instance,
  InstanceDescription,
  InstanceState,
  NetworkMode,
  FSOptions,
  DiskOptions,
  NICOptions,
  IPConfig,
  StartOptions,
  StartResult,
  StreamOptions,
  DeviceFailure,
} from './types.js';
export {
  pausable,
  managedNetworking,
  attachable,
  deviceHealth,
  snapshottable,
  snapshotRestorer,
  type Pausable,
  type ManagedNetworking,
  type Attachable,
  type DeviceHealth,
  type Snapshottable,
  type SnapshotRestorer,
  type SnapshotOptions,
  type SnapshotResult,
  type RestoreOverrides,
} from './extras.js';
export { fork, type ForkOptions } from './fork.js';
export type { StateChange } from './lifecycle.js';
export { MIN_RAM_MIB, MAX_CPUS } from './validate.js';
export { DEFAULT_CPUS, DEFAULT_RAM_MIB, MAX_DEVICES } from './config.js';
export { FEATURE_PROPERTIES } from './nic-features.js';
export { QemuManager, QemuInstance, SHUTDOWN_BOUND_MS, within, type QemuManagerOptions } from './qemu/index.js';
export { reapOrphans, liveForeignOwner, type OrphanReport } from './helpers/orphans.js';
export { passtHostDefaults } from './net/host-defaults.js';
export { randomMac } from './mac.js';
