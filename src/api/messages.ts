// vessel.vm.v1 messages built from instances (InstanceInfo, events), typed by the generated
// vm.v1 types (src/gen vmv1: what proto-loader encodes). Every function and callback that
// returns an object literal declares its message type: TypeScript checks the literal's field
// names only against a declared type (a renamed proto field then fails tsc here).
import type { ManagedInstance } from './registry.js';
import { deviceHealth, type DeviceFailure, type InstanceState } from '../vm/index.js';
import { isVesselError } from '../errors/index.js';
import type { vmv1 } from '../gen/index.js';

/** The State enum name of an instance state: each of vessel's states has one (checked at compile time). */
export function stateName(s: InstanceState): vmv1.State__Output {
  return `STATE_${s.toUpperCase() as Uppercase<InstanceState>}`;
}

export function errorMessage(err: Error | undefined): vmv1.Error | null {
  if (!err) return null;
  return { code: isVesselError(err) ? err.code : 'UNKNOWN', message: err.message };
}

export function instanceInfo(m: ManagedInstance): vmv1.InstanceInfo {
  const c = m.instance.describe();
  const t = m.startResult?.timings;
  return {
    id: m.id,
    state: stateName(m.instance.state()),
    config: {
      cpu: c.cpus,
      ramMib: c.ramMiB,
      shares: c.shares.map((s): vmv1.Share => ({ tag: s.tag, hostPath: s.hostPath, readOnly: s.readOnly, mountPoint: s.mountPoint ?? '' })),
      disks: c.disks.map((d): vmv1.Disk => ({ blockId: d.blockId, hostPath: d.hostPath, readOnly: d.readOnly, vmdk: d.format === 'vmdk' })),
      nics: c.nics.map((n): vmv1.Nic => ({
        endpoint: n.endpoint,
        mac: n.mac,
        mode: n.mode === 'unixgram' ? 'NETWORK_MODE_UNIXGRAM' : 'NETWORK_MODE_UNIXSTREAM',
        features: n.features,
        flags: 0,
      })),
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
    deviceFailures: (deviceHealth(m.instance)?.deviceFailures() ?? []).map(deviceFailure),
  };
}

export function deviceFailure(f: DeviceFailure): vmv1.DeviceFailure {
  return {
    kind: f.kind,
    id: f.id,
    error: errorMessage(f.error),
    atUnixNano: (BigInt(f.at.getTime()) * 1_000_000n).toString(),
    fenced: f.fenced && 'targets' in f.fenced ? f.fenced.targets : [],
  };
}
