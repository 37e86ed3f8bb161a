// The VM of one `vessel run`: an instance on a fresh state dir, configured from the
// RunSpec (CPUs, memory, virtio-fs volumes, disks mounted by the agent, a passt NIC).
import type { Writable } from 'node:stream';
import { DEFAULT_CPUS, DEFAULT_RAM_MIB, managedNetworking, randomMac, type Instance, type Manager } from '../../vm/index.js';
import type { RunSpec } from './args.js';
import { diskFsType } from './disk.js';

export interface PlannedMount {
  blockId: string;
  target: string;
  fstype: string;
  readOnly: boolean;
}

/** Creates and configures the instance (nothing runs yet); returns the disk mounts to do after start. */
export async function configureInstance(spec: RunSpec, stateDir: string, manager: Manager): Promise<{ instance: Instance; mounts: PlannedMount[] }> {
  const instance = await manager.newInstance(stateDir);
  instance.setCPUAndMemory(spec.cpus ?? DEFAULT_CPUS, spec.memoryMiB ?? DEFAULT_RAM_MIB);
  spec.volumes.forEach((v, i) => instance.addFS(`vol${i}`, v.host, { readOnly: v.readOnly, mountPoint: v.guest }));
  const mounts: PlannedMount[] = [];
  for (const [i, d] of spec.disks.entries()) {
    const blockId = `disk${i}`;
    const fstype = d.mountPoint !== undefined ? await diskFsType(d.host, d.vmdk) : undefined;
    instance.addDisk(blockId, d.host, { readOnly: d.readOnly, vmdk: d.vmdk });
    if (d.mountPoint !== undefined) mounts.push({ blockId, target: d.mountPoint, fstype: fstype!, readOnly: d.readOnly });
  }
  if (spec.net) managedNetworking(instance, '--net').addPasstNIC(randomMac());
  return { instance, mounts };
}

export async function startInstance(instance: Instance, mounts: PlannedMount[], opts: { console: Writable | undefined; signal: AbortSignal }): Promise<void> {
  await instance.start({ consoleWriter: opts.console, signal: opts.signal });
  const agent = instance.client();
  // Sequential: a later mount point may lie inside an earlier one.
  for (const m of mounts) {
    await agent.mount({ blockId: m.blockId, target: m.target, fstype: m.fstype, readOnly: m.readOnly });
  }
}
