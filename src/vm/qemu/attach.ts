// Live restore, the QEMU side: what a VM started with env.liveRestore saves (saved-vm.ts)
// and how a later owner takes its processes back (helpers/adopted.ts). QemuInstance.attach()
// runs the steps; this file holds the pure parts: the saved form of a running VM, the
// configuration it restores, and the adopted processes with the sockets their config implies.
import path from 'node:path';
import { AdoptedHelper, adoptRecords } from '../helpers/adopted.js';
import type { VmConfig } from '../config.js';
import type { StartResult } from '../types.js';
import type { Accelerator } from './accelerator.js';
import type { MachineType } from './command-line.js';
import type { VmResources } from './resources.js';
import { SAVED_VM_VERSION, type SavedVm } from './saved-vm.js';

/** Each connection of attach (console, QMP, agent, its first Ping) is bounded by this. */
export const ATTACH_CONNECT_MS = 10_000;

export function savedVmOf(o: {
  accelerator: Accelerator;
  machine: MachineType;
  config: VmConfig;
  resources: VmResources;
  liveness: SavedVm['liveness'];
  startResult: StartResult;
}): SavedVm {
  const c = o.config;
  return {
    version: SAVED_VM_VERSION,
    accelerator: o.accelerator,
    machine: o.machine,
    config: { cpus: c.cpus, ramMiB: c.ramMiB, shares: c.shares, disks: c.disks, nics: c.nics, passtNics: c.passtNics },
    stagedDisks: o.resources.disks,
    liveness: o.liveness,
    startResult: o.startResult,
  };
}

/** Fills a fresh VmConfig with the saved one (validated when it was first set). */
export function configFromSaved(config: VmConfig, saved: SavedVm): void {
  config.cpus = saved.config.cpus;
  config.ramMiB = saved.config.ramMiB;
  config.shares.push(...saved.config.shares);
  config.disks.push(...saved.config.disks);
  config.nics.push(...saved.config.nics);
  config.passtNics.push(...saved.config.passtNics);
}

/**
 * Adopts the VM's processes (adoptRecords: STATE_DIR_IN_USE if a live owner holds them):
 * QEMU, if it still runs, and its other helpers that still run; plus the sockets its
 * virtiofsd shares and datagram NICs use (named as start() names them).
 */
export function adoptVmProcesses(stateDir: string, saved: SavedVm): { qemu: AdoptedHelper | undefined; helpers: AdoptedHelper[]; sockets: string[] } {
  const { adopted } = adoptRecords(stateDir);
  const processes = adopted.map((r) => new AdoptedHelper(stateDir, r));
  const sockets = [
    ...saved.config.shares.map((_, i) => path.join(stateDir, `fs-${i}.sock`)),
    ...saved.config.nics.flatMap((n, i) => (n.mode === 'unixgram' ? [path.join(stateDir, `net-${i}.sock`)] : [])),
  ];
  return { qemu: processes.find((p) => p.name === 'qemu'), helpers: processes.filter((p) => p.name !== 'qemu'), sockets };
}
