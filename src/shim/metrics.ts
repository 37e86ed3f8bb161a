// Stats of a container as a cgroups v1 Metrics message (io.containerd.cgroups.v1.Metrics,
// the type `ctr task metrics` decodes). containerMetrics: from the container's cgroup in the
// guest (runc events --stats): memory usage, its limit (the VM's memory when the cgroup has
// none below it), CPU time in ns (per CPU when cgroup v2 gives no split: all on the one CPU
// of a 1-vCPU VM, else none). guestMetrics: the whole guest from the agent's Info
// (memory.usage = MemTotal - MemAvailable, limit = MemTotal; busy CPU time and its split).
import type { ContainerStats } from '../agent/index.js';
import type { agentv1, cgroupsv1 } from '../gen/index.js';
import { packAny, type AnyMessage } from './protos.js';

export const METRICS_TYPE = 'io.containerd.cgroups.v1.Metrics';

export interface GuestMetrics {
  memory: { usage: bigint; limit: bigint };
  cpu: { total: bigint; kernel: bigint; user: bigint; perCpu: bigint[] };
}

/** The fields of the agent's Info the metrics come from. */
export type MetricsSource = Pick<agentv1.InfoResponse, 'memoryTotalBytes' | 'memoryAvailableBytes' | 'cpuUserNs' | 'cpuSystemNs' | 'cpuBusyNs'>;

export function guestMetrics(info: MetricsSource): GuestMetrics {
  const total = info.memoryTotalBytes;
  const available = info.memoryAvailableBytes;
  return {
    memory: { usage: total > available ? total - available : 0n, limit: total },
    cpu: { total: info.cpuUserNs + info.cpuSystemNs, kernel: info.cpuSystemNs, user: info.cpuUserNs, perCpu: info.cpuBusyNs },
  };
}

const big = (n: number | undefined): bigint => (typeof n === 'number' && Number.isFinite(n) && n >= 0 ? BigInt(Math.round(n)) : 0n);

export function containerMetrics(stats: ContainerStats, vm: { memoryTotalBytes: bigint; cpus: number }): GuestMetrics {
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
export function metricsAny(m: GuestMetrics): AnyMessage {
  return packAny<cgroupsv1.Metrics>(METRICS_TYPE, METRICS_TYPE, {
    memory: { usage: { usage: m.memory.usage, limit: m.memory.limit } },
    cpu: { usage: m.cpu },
  });
}
