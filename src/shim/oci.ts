// The parts of an OCI runtime spec (config.json, or an Exec's Process JSON) the shim uses.
import fs from 'node:fs';
import path from 'node:path';
import { VesselError } from '../errors/index.js';

export interface OciProcess {
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  terminal: boolean;
  rows: number;
  cols: number;
}

/** `o[key]` when `o` is a JSON object, else undefined. */
function member(o: unknown, key: string): unknown {
  return o !== null && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>)[key] : undefined;
}

function isString(v: unknown): v is string {
  return typeof v === 'string';
}

/** A non-negative integer, else 0. */
function count(v: unknown): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0;
}

/** The OCI `process` object (parsed JSON, untrusted shape). */
export function parseProcess(p: unknown): OciProcess {
  if (p === null || typeof p !== 'object' || Array.isArray(p)) throw new VesselError('INVALID_ARGUMENT', 'OCI spec has no process');
  const args = member(p, 'args');
  if (!Array.isArray(args) || args.length === 0 || !args.every(isString)) {
    throw new VesselError('INVALID_ARGUMENT', 'OCI process.args must be a non-empty list of strings');
  }
  const env = member(p, 'env');
  const cwd = member(p, 'cwd');
  const user = member(p, 'user');
  const additionalGids = member(user, 'additionalGids');
  const consoleSize = member(p, 'consoleSize');
  return {
    args,
    env: Array.isArray(env) ? env.filter(isString) : [],
    cwd: isString(cwd) && cwd !== '' ? cwd : '/',
    uid: count(member(user, 'uid')),
    gid: count(member(user, 'gid')),
    additionalGids: Array.isArray(additionalGids) ? additionalGids.map(count) : [],
    terminal: member(p, 'terminal') === true,
    rows: count(member(consoleSize, 'height')),
    cols: count(member(consoleSize, 'width')),
  };
}

export interface OciBundleSpec {
  process: OciProcess;
  hostname: string;
  rootPath: string;
  /** The spec's annotations with string values (e.g. the CRI's io.kubernetes.cri.*). */
  annotations: Record<string, string>;
  /**
   * The network namespace in linux.namespaces: `{ path }` to join (a CRI pod's, from CNI),
   * `{}` for a new one, undefined for none (the host's network: a CRI hostNetwork pod).
   */
  network: { path?: string } | undefined;
}

/** Annotations sizing a pod's VM (a CRI runtime passes pod annotations listed in its `pod_annotations`). */
export const VM_CPUS = 'io.vessel.vm.cpus';
export const VM_MEMORY_MIB = 'io.vessel.vm.memory-mib';

/** A pod VM's size (the VM layer checks the ranges). */
export interface VmSize {
  cpus?: number;
  memoryMiB?: number;
}

/** `v`'s sizes, each absent or a positive integer (else INVALID_ARGUMENT naming `where`). */
export function checkVmSize(v: { cpus?: unknown; memoryMiB?: unknown }, where: string): VmSize {
  const out: VmSize = {};
  for (const k of ['cpus', 'memoryMiB'] as const) {
    const n = v[k];
    if (n === undefined) continue;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 9_999_999)
      throw new VesselError('INVALID_ARGUMENT', `${where}: ${k} must be a positive integer, got ${JSON.stringify(n)}`);
    out[k] = n;
  }
  return out;
}

/** The VM size a pod's annotations ask for (positive integers; the VM layer checks the ranges). */
export function vmSize(annotations: Record<string, string>): VmSize {
  const read = (key: string): number | undefined => {
    const v = annotations[key];
    if (v === undefined) return undefined;
    if (!/^[1-9][0-9]{0,6}$/.test(v)) throw new VesselError('INVALID_ARGUMENT', `annotation ${key} must be a positive integer, got ${JSON.stringify(v)}`);
    return Number(v);
  };
  return checkVmSize({ cpus: read(VM_CPUS), memoryMiB: read(VM_MEMORY_MIB) }, 'annotations');
}

/** CRI annotations that group a pod's containers (containerd's pkg/cri/annotations). */
export const CONTAINER_TYPE = 'io.kubernetes.cri.container-type';
export const SANDBOX_ID = 'io.kubernetes.cri.sandbox-id';

export interface PodRole {
  /** The pod the container belongs to: the sandbox's id, or its own when it is not a CRI container. */
  podId: string;
  /** `sandbox`: the CRI's pod sandbox; `container`: a container of a pod; `lone`: no CRI annotations (ctr run). */
  kind: 'sandbox' | 'container' | 'lone';
}

export function podRole(id: string, annotations: Record<string, string>): PodRole {
  const type = annotations[CONTAINER_TYPE];
  const sandboxId = annotations[SANDBOX_ID];
  if (type === 'container') {
    if (!sandboxId) throw new VesselError('INVALID_ARGUMENT', `container ${id} is a CRI container without ${SANDBOX_ID}`);
    return { podId: sandboxId, kind: 'container' };
  }
  if (type === 'sandbox') return { podId: id, kind: 'sandbox' };
  if (type !== undefined) throw new VesselError('INVALID_ARGUMENT', `unknown ${CONTAINER_TYPE} ${JSON.stringify(type)}`);
  return { podId: id, kind: 'lone' };
}

export function readBundleSpec(bundle: string): OciBundleSpec {
  let spec: unknown;
  try {
    spec = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
  } catch (err) {
    throw new VesselError('INVALID_ARGUMENT', `cannot read ${bundle}/config.json: ${(err as Error).message}`);
  }
  const hostname = member(spec, 'hostname');
  const rootPath = member(member(spec, 'root'), 'path');
  const annotations = member(spec, 'annotations');
  const namespaces = member(member(spec, 'linux'), 'namespaces');
  const network = Array.isArray(namespaces) ? namespaces.find((n) => member(n, 'type') === 'network') : undefined;
  const networkPath = member(network, 'path');
  return {
    process: parseProcess(member(spec, 'process')),
    hostname: isString(hostname) ? hostname : '',
    rootPath: path.resolve(bundle, isString(rootPath) ? rootPath : 'rootfs'),
    annotations:
      annotations !== null && typeof annotations === 'object' && !Array.isArray(annotations)
        ? Object.fromEntries(Object.entries(annotations).filter((e): e is [string, string] => isString(e[1])))
        : {},
    network: network === undefined ? undefined : isString(networkPath) && networkPath !== '' ? { path: networkPath } : {},
  };
}
