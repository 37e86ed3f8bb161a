// TypeScript shapes of vessel.agent.v1 messages (proto/vessel/agent/v1/agent.proto) as the
// ttrpc layer decodes them: lowerCamelCase fields, 64-bit integers as bigint.

export interface BootEvent { name: string; atNs: bigint }

export interface AgentInfo {
  kernelRelease: string;
  kernelVersion: string;
  hostname: string;
  uptimeSeconds: number;
  cpus: number;
  memoryTotalBytes: bigint;
  memoryAvailableBytes: bigint;
  agentVersion: string;
  bootTimeline: BootEvent[];
  /** CPU time since boot (/proc/stat), ns over all CPUs: user + nice. */
  cpuUserNs: bigint;
  /** system + irq + softirq, ns. */
  cpuSystemNs: bigint;
  /** Each CPU's busy (user + system) time, ns, cpu0 first. */
  cpuBusyNs: bigint[];
}

export interface ExecSpec {
  execId: string;
  args: string[];
  env?: string[];
  cwd?: string;
  uid?: number;
  gid?: number;
  additionalGids?: number[];
  terminal?: boolean;
  rows?: number;
  cols?: number;
  stdinStream?: string;
  stdoutStream?: string;
  stderrStream?: string;
  streamWaitMs?: number;
  /** Guest directory to run the process chrooted into, in its own mount namespace (proc, sys, dev, tmp mounted by the agent). */
  rootfs?: string;
}

export interface ExitStatus {
  exitCode: number;
  /** Non-zero: the process was killed by this signal. */
  signal: number;
  exitedAtUnixNano: bigint;
}

export interface MountSpec {
  virtiofsTag?: string;
  blockId?: string;
  target: string;
  fstype?: string;
  readOnly?: boolean;
  options?: string[];
}

export interface InterfaceSpec {
  mac: string;
  addresses: string[];
  gateway?: string;
  mtu?: number;
  dns?: string[];
}
