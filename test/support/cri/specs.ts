// CRI PodSandboxConfig and ContainerConfig documents for crictl (JSON, the field names of
// cri-api v1), from the few options the tests vary; `extra` merges anything else in.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { TEST_IMAGE } from './images.js';

export interface PortMapping {
  containerPort: number;
  /** 0 or absent: none (only declared). */
  hostPort?: number;
  hostIp?: string;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}

export interface PodOptions {
  name: string;
  /** The runtime handler (`runc`, `vessel`); absent: containerd's default (runc). */
  handler?: string;
  hostname?: string;
  dns?: { servers?: string[]; searches?: string[]; options?: string[] };
  ports?: PortMapping[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Merged into the config last (e.g. `{ linux: { ... } }`). */
  extra?: Record<string, unknown>;
}

export interface ContainerOptions {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: Record<string, string>;
  workingDir?: string;
  tty?: boolean;
  stdin?: boolean;
  /** Host path → container path. */
  mounts?: Array<{ hostPath: string; containerPath: string; readonly?: boolean }>;
  memoryLimitBytes?: number;
  readonlyRootfs?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  /** `RuntimeDefault`, `Unconfined`, or `localhost/<path>`. */
  seccomp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  extra?: Record<string, unknown>;
}

const PROTOCOL = { TCP: 0, UDP: 1, SCTP: 2 } as const;

export function podConfig(o: PodOptions, logDirectory: string): Record<string, unknown> {
  return {
    metadata: { name: o.name, namespace: 'vessel-cri', uid: crypto.randomUUID(), attempt: 0 },
    ...(o.hostname !== undefined ? { hostname: o.hostname } : {}),
    log_directory: logDirectory,
    ...(o.dns ? { dns_config: { servers: o.dns.servers ?? [], searches: o.dns.searches ?? [], options: o.dns.options ?? [] } } : {}),
    ...(o.ports
      ? {
          port_mappings: o.ports.map((p) => ({
            protocol: PROTOCOL[p.protocol ?? 'TCP'],
            container_port: p.containerPort,
            host_port: p.hostPort ?? 0,
            host_ip: p.hostIp ?? '',
          })),
        }
      : {}),
    labels: o.labels ?? {},
    annotations: o.annotations ?? {},
    linux: {},
    ...o.extra,
  };
}

function seccompProfile(s: string): Record<string, unknown> {
  if (s === 'RuntimeDefault') return { profile_type: 0 };
  if (s === 'Unconfined') return { profile_type: 1 };
  if (s.startsWith('localhost/')) return { profile_type: 2, localhost_ref: s.slice('localhost/'.length) };
  throw new Error(`unknown seccomp profile ${s}`);
}

export function containerConfig(o: ContainerOptions): Record<string, unknown> {
  const security: Record<string, unknown> = {
    ...(o.readonlyRootfs ? { readonly_rootfs: true } : {}),
    ...(o.capabilities ? { capabilities: { add_capabilities: o.capabilities.add ?? [], drop_capabilities: o.capabilities.drop ?? [] } } : {}),
    ...(o.seccomp ? { seccomp: seccompProfile(o.seccomp) } : {}),
  };
  return {
    metadata: { name: o.name, attempt: 0 },
    image: { image: o.image ?? TEST_IMAGE },
    ...(o.command ? { command: o.command } : {}),
    ...(o.args ? { args: o.args } : {}),
    ...(o.workingDir ? { working_dir: o.workingDir } : {}),
    envs: Object.entries(o.env ?? {}).map(([key, value]) => ({ key, value })),
    mounts: (o.mounts ?? []).map((m) => ({ host_path: m.hostPath, container_path: m.containerPath, readonly: m.readonly ?? false })),
    log_path: `${o.name}.log`,
    tty: o.tty ?? false,
    stdin: o.stdin ?? false,
    labels: o.labels ?? {},
    annotations: o.annotations ?? {},
    linux: {
      resources: o.memoryLimitBytes !== undefined ? { memory_limit_in_bytes: o.memoryLimitBytes } : {},
      security_context: security,
    },
    ...o.extra,
  };
}

/** Writes a seccomp profile that allows everything but `denied` (EPERM) and returns its `localhost/…` reference. */
export function seccompDenying(file: string, denied: string[]): string {
  fs.writeFileSync(
    file,
    JSON.stringify({
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      syscalls: [{ names: denied, action: 'SCMP_ACT_ERRNO' }],
    }),
  );
  return `localhost/${file}`;
}
