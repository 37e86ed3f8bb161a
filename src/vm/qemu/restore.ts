// Starting a VM from a snapshot (QemuManager.restore → QemuInstance's start with a
// RestorePlan): the manifest is read and checked against what this manager runs (the guest
// image, QEMU, accelerator, machine, CPU model: SNAPSHOT_MISMATCH) and every file against
// its sha256 (SNAPSHOT_CORRUPT, checked while QEMU loads, before the vCPUs run); QEMU starts
// with the same command line plus `-incoming defer` (and the RAM mapped privately from the
// snapshot's file when it was saved `mapped`), loads the state with QMP migrate-incoming,
// and runs it (cont). The guest's agent, detached when the snapshot was taken, serves the new
// host session; AfterRestore then makes the copy a machine of its own: its RNG reseeded from
// host entropy, its clock stepped to the host's, its hostname set.
import crypto from 'node:crypto';
import path from 'node:path';
import { VesselError } from '../../errors/index.js';
import type { AgentClient } from '../../agent/index.js';
import type { Instance } from '../types.js';
import { migrationSettled } from './snapshot.js';
import type { QmpClient } from './qmp.js';
import { RAM_FILE, STATE_FILE, verifyFiles, type SnapshotManifest } from './snapshot-manifest.js';

/** How long loading the state may take (TCG: ~0.4 s for a 256 MiB stream). */
const INCOMING_MS = 120_000;
/** Bytes of host entropy each restored guest gets (agent.proto AfterRestore: 32..512). */
const ENTROPY_BYTES = 64;

/** What QemuInstance needs to start from a snapshot instead of booting. */
export interface RestorePlan {
  dir: string;
  manifest: SnapshotManifest;
  /** The RAM file QEMU maps privately (`mapped` RAM), or undefined (`stream`). */
  ramFile: string | undefined;
  /** The kernel command line the snapshot's VM booted with (QEMU is given the same). */
  cmdline: string;
  /** Resolves once every file matches its sha256 (started before QEMU, awaited before cont). */
  verified: Promise<void>;
}

export function planRestore(dir: string, manifest: SnapshotManifest): RestorePlan {
  const verified = verifyFiles(dir, manifest);
  verified.catch(() => undefined);
  return { dir, manifest, ramFile: manifest.ram.capture === 'mapped' ? path.join(dir, RAM_FILE) : undefined, cmdline: manifest.vm.cmdline, verified };
}

/** Configures a new instance as the manifest says: writable disks start from the snapshot's copies (staged again, so the snapshot is never written). */
export function configureFromManifest(inst: Instance, dir: string, m: SnapshotManifest): void {
  inst.setCPUAndMemory(m.vm.cpus, m.vm.ramMiB);
  for (const d of m.disks) {
    if (d.capture === 'copied') inst.addDisk(d.blockId, path.join(dir, d.file), { readOnly: false, vmdk: d.format === 'vmdk', ephemeral: true });
    else inst.addDisk(d.blockId, d.path, { readOnly: true, vmdk: d.format === 'vmdk' });
  }
}

/**
 * Loads the snapshot's state into a QEMU started with `-incoming defer` and runs it: the
 * same migration capabilities as when it was saved, migrate-incoming from the state file,
 * the files verified meanwhile, then cont.
 */
export async function loadAndRun(qmp: QmpClient, plan: RestorePlan): Promise<void> {
  await qmp.execute('migrate-set-capabilities', {
    capabilities: [
      { capability: 'x-ignore-shared', state: plan.manifest.ram.capture === 'mapped' },
      { capability: 'events', state: true },
    ],
  });
  const settled = migrationSettled(qmp, INCOMING_MS);
  const file = path.join(plan.dir, STATE_FILE);
  await qmp.execute('migrate-incoming', { uri: `exec:cat '${file.replaceAll("'", `'\\''`)}'` });
  // A corrupted file is reported as such, whatever QEMU made of it.
  const [loaded] = await Promise.allSettled([settled.done, plan.verified]);
  await plan.verified;
  if (loaded.status === 'rejected') throw loaded.reason;
  const { status } = await qmp.execute<{ status: string }>('query-status');
  if (status !== 'paused') throw new VesselError('START_FAILED', `QEMU is ${status} after loading the snapshot, not paused`);
  await qmp.execute('cont');
}

/** Makes the restored guest its own machine (agent.proto AfterRestore). */
export async function individualize(agent: AgentClient, hostname: string, timeoutMs: number): Promise<void> {
  await agent.afterRestore({ entropy: crypto.randomBytes(ENTROPY_BYTES), hostname }, { timeoutMs });
}
