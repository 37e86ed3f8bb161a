// InstanceInfo carries an instance's device failures (the DeviceHealth extra) as GetInstance
// sends them: DEVICE_FAILED with the device, when, and what the guest was fenced off by; a
// backend without DeviceHealth reports none.
import { describe, expect, it } from 'vitest';
import { vmPackageDefinition } from '../../../src/api/proto.js';
import { instanceInfo } from '../../../src/api/messages.js';
import type { ManagedInstance } from '../../../src/api/registry.js';
import { VesselError } from '../../../src/errors/index.js';
import type { vmv1 } from '../../../src/gen/index.js';
import type { DeviceFailure, Instance } from '../../../src/vm/index.js';

function fakeInstance(failures?: DeviceFailure[]): Instance {
  const base = {
    stateDir: '/x',
    consoleLogPath: '/x/console.log',
    state: () => 'running',
    failure: () => undefined,
    describe: () => ({ cpus: 1, ramMiB: 256, shares: [], disks: [], nics: [], accelerator: 'tcg' }),
  };
  return (failures ? { ...base, deviceFailures: () => failures, onDeviceFailure: () => () => undefined } : base) as unknown as Instance;
}

function managed(instance: Instance): ManagedInstance {
  return { id: 'vm1', instance, createdAtNs: 1n };
}

describe('InstanceInfo device failures', () => {
  it('each failure with its code, device, time and fenced targets, as GetInstance encodes it', () => {
    const at = new Date(1_700_000_000_123);
    const failures: DeviceFailure[] = [
      { kind: 'share', id: 'data', error: new VesselError('DEVICE_FAILED', 'share "data": gone'), at, fenced: { targets: ['/mnt/data'] } },
      { kind: 'nic', id: '52:54:00:aa:00:01', error: new VesselError('DEVICE_FAILED', 'NIC: gone'), at, fenced: { error: 'agent gone' } },
    ];
    const info = instanceInfo(managed(fakeInstance(failures)));
    const m = vmPackageDefinition()['vessel.vm.v1.Manager'] as Record<
      string,
      { responseSerialize(v: unknown): Buffer; responseDeserialize(b: Buffer): unknown }
    >;
    const got = m.GetInstance!.responseDeserialize(m.GetInstance!.responseSerialize(info)) as vmv1.InstanceInfo__Output;
    expect(got.deviceFailures).toStrictEqual([
      { kind: 'share', id: 'data', error: { code: 'DEVICE_FAILED', message: 'share "data": gone' }, atUnixNano: '1700000000123000000', fenced: ['/mnt/data'] },
      { kind: 'nic', id: '52:54:00:aa:00:01', error: { code: 'DEVICE_FAILED', message: 'NIC: gone' }, atUnixNano: '1700000000123000000', fenced: [] },
    ]);
  });

  it('none from a backend without DeviceHealth', () => {
    expect(instanceInfo(managed(fakeInstance())).deviceFailures).toEqual([]);
  });
});
