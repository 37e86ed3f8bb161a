// The Anys the shim hands containerd carry their type url (protobufjs's bundled Any names
// the field `type_url`; a `typeUrl` key was once dropped silently and containerd could
// decode neither events nor metrics), and the metrics decode with containerd/cgroups'
// stats/v1 field numbers, written out independently here.
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import type { eventsv1, taskEvents, taskv2 } from '../../src/gen/index.js';
import { decodeMessage, encodeMessage } from '../../src/ttrpc/index.js';
import { containerMetrics, metricsAny, METRICS_TYPE } from '../../src/shim/metrics.js';
import { packAny, shimProtos } from '../../src/shim/protos.js';

const reference = protobuf
  .parse(
    `syntax = "proto3";
package ref;
message Metrics { CPUStat cpu = 3; MemoryStat memory = 4; }
message CPUStat { CPUUsage usage = 1; }
message CPUUsage { uint64 total = 1; uint64 kernel = 2; uint64 user = 3; repeated uint64 per_cpu = 4; }
message MemoryStat { uint64 total_cache = 18; MemoryEntry usage = 33; }
message MemoryEntry { uint64 limit = 1; uint64 usage = 2; uint64 max = 3; uint64 failcnt = 4; }
`,
  )
  .root.lookupType('ref.Metrics');

describe('Anys for containerd', () => {
  it('a StatsResponse carries io.containerd.cgroups.v1.Metrics with the container memory and CPU', () => {
    // a cgroup without a memory limit below the VM's: the limit reported is the VM's memory
    const stats = {
      memory: { usage: { usage: 600, limit: 9_223_372_036_854_771_712 } },
      cpu: { usage: { total: 100, kernel: 30, user: 70, percpu: [60, 40] } },
    };
    const vm = { memoryTotalBytes: 1000n, cpus: 2 };
    const t = shimProtos().type('containerd.task.v2.StatsResponse');
    const res = decodeMessage<taskv2.StatsResponse>(t, encodeMessage<taskv2.StatsResponse>(t, { stats: metricsAny(containerMetrics(stats, vm)) }));
    expect(res.stats?.type_url).toBe(METRICS_TYPE);
    const m = reference.toObject(reference.decode(res.stats!.value), { longs: String });
    expect(m).toEqual({
      memory: { usage: { limit: '1000', usage: '600' } },
      cpu: { usage: { total: '100', kernel: '30', user: '70', perCpu: ['60', '40'] } },
    });
  });

  it('an event envelope carries the event type url', () => {
    const t = shimProtos().type('containerd.services.events.ttrpc.v1.ForwardRequest');
    const event = packAny<taskEvents.TaskStart>('containerd.events.TaskStart', 'containerd.events.TaskStart', { containerId: 'c1', pid: 7 });
    const req = decodeMessage<eventsv1.ForwardRequest>(
      t,
      encodeMessage<eventsv1.ForwardRequest>(t, { envelope: { namespace: 'default', topic: '/tasks/start', event } }),
    );
    expect(req.envelope?.event?.type_url).toBe('containerd.events.TaskStart');
    expect(decodeMessage(shimProtos().type('containerd.events.TaskStart'), req.envelope!.event!.value)).toMatchObject({ containerId: 'c1', pid: 7 });
  });
});
