// Stats of a container = its whole guest (one VM per container): a cgroups v1 Metrics
// message (io.containerd.cgroups.v1.Metrics, the type `ctr task metrics` decodes) filled
// from the agent's Info. memory.usage = MemTotal - MemAvailable with limit = MemTotal;
// cpuacct.usage = the guest's busy CPU time (user + system) in ns, with its per-CPU split.
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

/** The StatsResponse.stats Any. */
export function metricsAny(m: GuestMetrics): AnyMessage {
  return packAny<cgroupsv1.Metrics>(METRICS_TYPE, METRICS_TYPE, {
    memory: { usage: { usage: m.memory.usage, limit: m.memory.limit } },
    cpu: { usage: m.cpu },
  });
}
