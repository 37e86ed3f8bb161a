// A container's cgroup stats as containerd's Metrics: its own limit when it has one below the
// VM's memory, else the VM's; CPU time per CPU from cgroup v2, which gives no split.
import { describe, expect, it } from 'vitest';
import { containerMetrics } from '../../../src/shim/metrics.js';

describe('containerMetrics', () => {
  const vm = { memoryTotalBytes: 256n << 20n, cpus: 1 };

  it("reports the cgroup's limit when it is below the VM's memory", () => {
    const m = containerMetrics({ memory: { usage: { usage: 1 << 20, limit: 32 << 20 } }, cpu: { usage: { total: 500, kernel: 200, user: 300 } } }, vm);
    expect(m).toEqual({ memory: { usage: 1n << 20n, limit: 32n << 20n }, cpu: { total: 500n, kernel: 200n, user: 300n, perCpu: [500n] } });
  });

  it("reports the VM's memory for a cgroup without a lower limit, and no per-CPU split on several vCPUs", () => {
    const m = containerMetrics({ memory: { usage: { usage: 10, limit: 0 } }, cpu: { usage: { total: 7 } } }, { ...vm, cpus: 2 });
    expect(m.memory.limit).toBe(256n << 20n);
    expect(m.cpu.perCpu).toEqual([]);
    expect(containerMetrics({}, vm)).toEqual({ memory: { usage: 0n, limit: 256n << 20n }, cpu: { total: 0n, kernel: 0n, user: 0n, perCpu: [0n] } });
  });
});
