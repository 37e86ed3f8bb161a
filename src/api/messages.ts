// vessel.vm.v1 message shapes built from instances (InstanceInfo, events).
import type { ManagedInstance } from './registry.js';
import type { InstanceState } from '../vm/index.js';
import { isVesselError } from '../errors/index.js';

export function stateName(s: InstanceState): string {
  return `STATE_${s.toUpperCase()}`;
}

export function errorMessage(err: Error | undefined): { code: string; message: string } | null {
  if (!err) return null;
  return { code: isVesselError(err) ? err.code : 'UNKNOWN', message: err.message };
}

export function instanceInfo(m: ManagedInstance): Record<string, unknown> {
  const c = m.instance.describe();
  const t = m.startResult?.timings;
  return {
    id: m.id,
    state: stateName(m.instance.state()),
    config: {
      cpu: c.cpus,
      ramMib: c.ramMiB,
      shares: c.shares.map((s) => ({ tag: s.tag, hostPath: s.hostPath, readOnly: s.readOnly, mountPoint: s.mountPoint ?? '' })),
      disks: c.disks.map((d) => ({ blockId: d.blockId, hostPath: d.hostPath, readOnly: d.readOnly, vmdk: d.format === 'vmdk' })),
      nics: c.nics.map((n) => ({ endpoint: n.endpoint, mac: n.mac, mode: n.mode === 'unixgram' ? 'NETWORK_MODE_UNIXGRAM' : 'NETWORK_MODE_UNIXSTREAM', features: n.features, flags: 0 })),
    },
    accelerator: c.accelerator,
    timings: {
      createdAtUnixNano: m.createdAtNs.toString(),
      startedAtUnixNano: (m.startedAtNs ?? 0n).toString(),
      vmmSpawnedMs: t?.vmmSpawnedMs ?? 0,
      agentReadyMs: t?.agentReadyMs ?? 0,
      configuredMs: t?.configuredMs ?? 0,
    },
    error: errorMessage(m.instance.failure()),
  };
}
