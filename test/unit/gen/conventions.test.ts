// The generated types (src/gen) describe what the runtime decoders really produce: each
// expected value below is typed by its generated type, so it must list every field in the
// generated shape (compile time), and the decoded message must equal it exactly, with no
// other keys and the same runtime types: bigint, Buffer, null, absent oneof members (run time).
import { describe, expect, it } from 'vitest';
import { vmPackageDefinition } from '../../../src/api/proto.js';
import type { agentv1, cgroupsv1, eventsv1, vmv1 } from '../../../src/gen/index.js';
import { taskv2 } from '../../../src/gen/index.js';
import { decodeMessage, encodeMessage, loadProtos, type DeepPartial } from '../../../src/ttrpc/index.js';

describe('protobufjs convention (src/ttrpc): src/gen/protobufjs', () => {
  const root = loadProtos([
    'vessel/agent/v1/agent.proto',
    'containerd/runtime/v2/task/shim.proto',
    'containerd/services/events/ttrpc/v1/events.proto',
    'containerd/cgroups/stats/v1/metrics.proto',
  ]);
  function roundTrip<T>(typeName: string, value: DeepPartial<T>): T {
    const t = root.lookupType(typeName);
    return decodeMessage<T>(t, encodeMessage<T>(t, value));
  }

  it('every field present with its default, 64-bit integers bigint, repeated and nested messages', () => {
    const expected: agentv1.InfoResponse = {
      kernelRelease: '',
      kernelVersion: '',
      hostname: 'g',
      uptimeSeconds: 0,
      cpus: 0,
      memoryTotalBytes: 2n ** 40n,
      memoryAvailableBytes: 0n,
      agentVersion: '',
      bootTimeline: [{ name: 'ready', atNs: 5n }],
      cpuUserNs: 0n,
      cpuSystemNs: 0n,
      cpuBusyNs: [1n, 2n],
    };
    const got = roundTrip<agentv1.InfoResponse>('vessel.agent.v1.InfoResponse', {
      hostname: 'g',
      memoryTotalBytes: 2 ** 40, // encoders take numbers too
      bootTimeline: [{ name: 'ready', atNs: 5n }],
      cpuBusyNs: [1n, 2n],
    });
    expect(got).toStrictEqual(expected);
  });

  it('an unset message field is null; Timestamp seconds are bigint', () => {
    const unset: taskv2.DeleteResponse = { pid: 3, exitStatus: 0, exitedAt: null };
    expect(roundTrip<taskv2.DeleteResponse>('containerd.task.v2.DeleteResponse', { pid: 3 })).toStrictEqual(unset);
    const set: taskv2.DeleteResponse = { pid: 0, exitStatus: 137, exitedAt: { seconds: 1700000000n, nanos: 5 } };
    expect(roundTrip<taskv2.DeleteResponse>('containerd.task.v2.DeleteResponse', set)).toStrictEqual(set);
  });

  it('an unset oneof member is absent, the set one present', () => {
    const expected: agentv1.MountRequest = { blockId: 'data', target: '/mnt', fstype: 'ext4', readOnly: false, options: [] };
    const got = roundTrip<agentv1.MountRequest>('vessel.agent.v1.MountRequest', { blockId: 'data', target: '/mnt', fstype: 'ext4' });
    expect(got).toStrictEqual(expected);
    expect('virtiofsTag' in got).toBe(false);
  });

  it('enums are numbers (the generated const object), maps plain objects', () => {
    const state = roundTrip<taskv2.StateResponse>('containerd.task.v2.StateResponse', { status: taskv2.Status.PAUSED });
    expect(state.status).toBe(4);
    const update: taskv2.UpdateTaskRequest = { id: 'c', resources: null, annotations: { a: 'b' } };
    expect(roundTrip<taskv2.UpdateTaskRequest>('containerd.task.v2.UpdateTaskRequest', update)).toStrictEqual(update);
  });

  it('google.protobuf.Any keeps type_url (protobufjs bundled definition), bytes are Buffer', () => {
    const value = encodeMessage<cgroupsv1.Metrics>(root.lookupType('io.containerd.cgroups.v1.Metrics'), { memory: { usage: { usage: 1n } } });
    const expected: eventsv1.ForwardRequest = {
      envelope: { timestamp: null, namespace: 'default', topic: '/x', event: { type_url: 'io.containerd.cgroups.v1.Metrics', value: Buffer.from(value) } },
    };
    const got = roundTrip<eventsv1.ForwardRequest>('containerd.services.events.ttrpc.v1.ForwardRequest', {
      envelope: { namespace: 'default', topic: '/x', event: { type_url: 'io.containerd.cgroups.v1.Metrics', value } },
    });
    expect(got).toStrictEqual(expected);
  });
});

describe('proto-loader convention (src/api, the CLI): src/gen/proto-loader', () => {
  const def = vmPackageDefinition();
  const instance = def['vessel.vm.v1.Instance'] as Record<string, { responseSerialize(v: unknown): Buffer; responseDeserialize(b: Buffer): unknown }>;
  const manager = def['vessel.vm.v1.Manager'] as typeof instance;

  it('X__Output: defaults filled, 64-bit integers decimal strings, enums names, unset messages null', () => {
    const sent: vmv1.InstanceInfo = { id: 'a', state: 'STATE_RUNNING', timings: { createdAtUnixNano: '1700000000000000001', vmmSpawnedMs: 1.5 } };
    const expected: vmv1.InstanceInfo__Output = {
      id: 'a',
      state: 'STATE_RUNNING',
      config: null,
      accelerator: '',
      timings: { createdAtUnixNano: '1700000000000000001', startedAtUnixNano: '0', vmmSpawnedMs: 1.5, agentReadyMs: 0, configuredMs: 0 },
      error: null,
      deviceFailures: [],
    };
    const m = manager.GetInstance!;
    expect(m.responseDeserialize(m.responseSerialize(sent))).toStrictEqual(expected);
  });

  it('a oneof is named by its virtual field; only the set member is present', () => {
    const m = instance.Exec!;
    const sent: vmv1.ExecResponse = { stdout: Buffer.from('hi') };
    const expected: vmv1.ExecResponse__Output = { stdout: Buffer.from('hi'), msg: 'stdout' };
    expect(m.responseDeserialize(m.responseSerialize(sent))).toStrictEqual(expected);
    const exit: vmv1.ExecResponse__Output = { exit: { exitCode: 3, signal: 0, exitedAtUnixNano: '0', oomKilled: false }, msg: 'exit' };
    expect(m.responseDeserialize(m.responseSerialize({ exit: { exitCode: 3 } } satisfies vmv1.ExecResponse))).toStrictEqual(exit);
  });
});
