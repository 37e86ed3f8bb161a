// Stats of a container as a cgroups v1 Metrics message (io.containerd.cgroups.v1.Metrics,
// the type `ctr task metrics` decodes). containerMetrics: from the container's cgroup in the
// guest (runc events --stats): memory usage, its limit (the VM's memory when the cgroup has
// none below it), CPU time in ns (per CPU when cgroup v2 gives no split: all on the one CPU
// of a 1-vCPU VM, else none).
import type { ContainerStats } from '../agent/index.js';
import type { cgroupsv1 } from '../gen/index.js';
import { packAny, type AnyMessage } from './protos.js';

export const METRICS_TYPE = 'io.containerd.cgroups.v1.Metrics';

export interface ContainerMetrics {
  memory: { usage: bigint; limit: bigint };
  cpu: { total: bigint; kernel: bigint; user: bigint; perCpu: bigint[] };
}

const big = (n: number | undefined): bigint => (typeof n === 'number' && Number.isFinite(n) && n >= 0 ? BigInt(Math.round(n)) : 0n);

export function containerMetrics(stats: ContainerStats, vm: { memoryTotalBytes: bigint; cpus: number }): ContainerMetrics {
  const cgroupLimit = big(stats.memory?.usage?.limit);
  const total = big(stats.cpu?.usage?.total);
  const percpu = (stats.cpu?.usage?.percpu ?? []).map(big);
  return {
    memory: {
      usage: big(stats.memory?.usage?.usage),
      limit: cgroupLimit > 0n && cgroupLimit < vm.memoryTotalBytes ? cgroupLimit : vm.memoryTotalBytes,
    },
    cpu: {
      total,
      kernel: big(stats.cpu?.usage?.kernel),
      user: big(stats.cpu?.usage?.user),
      perCpu: percpu.length > 0 ? percpu : vm.cpus === 1 ? [total] : [],
    },
  };
}

/** The StatsResponse.stats Any. */
export function metricsAny(m: ContainerMetrics): AnyMessage {
  return packAny<cgroupsv1.Metrics>(METRICS_TYPE, METRICS_TYPE, {
    memory: { usage: { usage: m.memory.usage, limit: m.memory.limit } },
    cpu: { usage: m.cpu },
  });
}
