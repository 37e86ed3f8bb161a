// DeviceFaults: which backend exits are faults (only while the VM runs, only once armed),
// what is recorded (DEVICE_FAILED naming the device and how its backend ended), and how the
// guest is fenced (a NIC's link down first, then the agent; a failed fence is recorded too).
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { isVesselError } from '../../../src/errors/index.js';
import type { ExitInfo, SupervisedHelper } from '../../../src/vm/helpers/supervised.js';
import { DeviceFaults, type FaultTarget } from '../../../src/vm/qemu/device-faults.js';
import type { DeviceFailure } from '../../../src/vm/types.js';

function fakeHelper(pid: number): { helper: SupervisedHelper; exit: (info: ExitInfo) => void } {
  let exit!: (info: ExitInfo) => void;
  const exited = new Promise<ExitInfo>((resolve) => {
    exit = resolve;
  });
  return { helper: { pid, exited } as unknown as SupervisedHelper, exit };
}

function target(o: { running?: () => boolean; fenceError?: Error } = {}): FaultTarget & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    running: o.running ?? (() => true),
    fenceInGuest: async (d) => {
      calls.push(`fence ${JSON.stringify(d)}`);
      if (o.fenceError) throw o.fenceError;
      return 'virtiofsTag' in d ? [`/mnt/${d.virtiofsTag}`] : ['eth0'];
    },
    linkDown: async (id) => void calls.push(`link down ${id}`),
  };
}

function next(faults: DeviceFaults): Promise<DeviceFailure> {
  return new Promise((resolve) => {
    const off = faults.onFailure((f) => {
      off();
      resolve(f);
    });
  });
}

const logger = pino({ level: 'silent' });

describe('DeviceFaults', () => {
  it('a share whose virtiofsd dies while the VM runs: DEVICE_FAILED naming the tag, then the agent fences it', async () => {
    const faults = new DeviceFaults(logger);
    const fs0 = fakeHelper(101);
    faults.add({ kind: 'share', id: 'data', helper: fs0.helper });
    const t = target();
    faults.arm(t);
    const failed = next(faults);
    fs0.exit({ code: null, signal: 'SIGKILL' });
    const f = await failed;
    expect(f).toMatchObject({ kind: 'share', id: 'data', fenced: { targets: ['/mnt/data'] } });
    expect(f.error).toSatisfy((e: unknown) => isVesselError(e, 'DEVICE_FAILED'));
    expect(f.error.message).toMatch(/^share "data": its virtiofsd \(pid 101\) was killed by SIGKILL while the VM ran; the guest sees I\/O errors/);
    expect(t.calls).toEqual(['fence {"virtiofsTag":"data"}']);
    expect(faults.list()).toEqual([f]);
  });

  it('a NIC whose passt exits: its link goes down first, then the agent sets the interface down', async () => {
    const faults = new DeviceFaults(logger);
    const passt = fakeHelper(202);
    faults.add({ kind: 'nic', id: '52:54:00:aa:00:01', helper: passt.helper, netdevId: 'net1' });
    const t = target();
    faults.arm(t);
    const failed = next(faults);
    passt.exit({ code: 1, signal: null });
    const f = await failed;
    expect(f.error.message).toMatch(/^NIC 52:54:00:aa:00:01: its passt \(pid 202\) exited with code 1 while the VM ran; the guest sees network errors/);
    expect(f.fenced).toEqual({ targets: ['eth0'] });
    expect(t.calls).toEqual(['link down net1', 'fence {"mac":"52:54:00:aa:00:01"}']);
  });

  it('a fence that fails is recorded with the failure', async () => {
    const faults = new DeviceFaults(logger);
    const fs0 = fakeHelper(303);
    faults.add({ kind: 'share', id: 'data', helper: fs0.helper });
    faults.arm(target({ fenceError: new Error('agent gone') }));
    const failed = next(faults);
    fs0.exit({ code: 0, signal: null });
    expect((await failed).fenced).toEqual({ error: 'agent gone' });
    expect(faults.list()[0]!.fenced).toEqual({ error: 'agent gone' });
  });

  it('an exit while the VM does not run (a teardown, QEMU gone) is no fault', async () => {
    const faults = new DeviceFaults(logger);
    const fs0 = fakeHelper(404);
    faults.add({ kind: 'share', id: 'data', helper: fs0.helper });
    const t = target({ running: () => false });
    faults.arm(t);
    fs0.exit({ code: 0, signal: null });
    await fs0.helper.exited; // (arm's handler, registered first, has run and returned)
    expect(faults.list()).toEqual([]);
    expect(t.calls).toEqual([]);
  });

  it('before arm() no exit is watched; a backend that died before is a fault once armed', async () => {
    const faults = new DeviceFaults(logger);
    const fs0 = fakeHelper(505);
    faults.add({ kind: 'share', id: 'early', helper: fs0.helper });
    fs0.exit({ code: 1, signal: null });
    await fs0.helper.exited;
    expect(faults.list()).toEqual([]);
    const failed = next(faults);
    faults.arm(target());
    expect((await failed).id).toBe('early');
  });
});
