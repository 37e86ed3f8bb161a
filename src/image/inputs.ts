// The inputs of an image and the id derived from them: `<id>` is a short sha256 of the
// canonical JSON of the inputs (kernel package+version+.deb sha256, agent tree hash + Go
// version, busybox sha256, runc's module version and sum + Go version + build tags + the
// versions of the Debian -dev packages linked in, wanted modules, compression, builder
// version), so changing any of them gives a new image.
import crypto from 'node:crypto';
import path from 'node:path';
import { vesselHome } from '../host/index.js';
import { VesselError } from '../errors/index.js';
import { goVersion, hashAgentTree } from './agent.js';
import { findBusybox, BUSYBOX_CANDIDATES, type Busybox } from './busybox.js';
import { AptKernelSource, KERNEL_META_PACKAGE, type KernelSource } from './kernel.js';
import { AGENT_MODULES } from './modules.js';
import { defaultAgentDir } from './repo.js';
import { GoModuleRuncSource, type RuncSource } from './runc.js';
import type { ImageInputs, ImageOptions, ImageSourceOverrides } from './types.js';

/** Bump when the image layout or the way it is built changes (it is part of every id). */
export const BUILDER_VERSION = 'vessel-image/2';

/** JSON with object keys sorted recursively: the form hashed into an image id. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function imageIdOf(inputs: ImageInputs): string {
  return crypto.createHash('sha256').update(canonicalJson(inputs)).digest('hex').slice(0, 16);
}

/** Everything a build needs: the inputs, their id, and the sources they were resolved from. */
export interface ResolvedInputs {
  home: string;
  agentDir: string;
  inputs: ImageInputs;
  id: string;
  kernelSource: KernelSource;
  kernelRef: Awaited<ReturnType<KernelSource['resolve']>>;
  busybox: Busybox;
  runcSource: RuncSource;
}

export async function resolveInputs(opts: ImageOptions & ImageSourceOverrides): Promise<ResolvedInputs> {
  const home = opts.home ?? vesselHome();
  const agentDir = path.resolve(opts.agentDir ?? defaultAgentDir());
  const compression = opts.compression ?? 'none';
  if (compression !== 'none' && compression !== 'gzip')
    throw new VesselError('INVALID_ARGUMENT', `unknown compression ${JSON.stringify(compression)} (none or gzip)`);
  const kernelSource = opts.kernelSource ?? new AptKernelSource(KERNEL_META_PACKAGE, path.join(home, 'apt-kernel.json'));
  const runcSource = opts.runcSource ?? new GoModuleRuncSource();
  const [kernelRef, treeSha256, go, busybox, runc] = await Promise.all([
    kernelSource.resolve(),
    hashAgentTree(agentDir),
    goVersion(),
    findBusybox(opts.busyboxCandidates ?? BUSYBOX_CANDIDATES),
    runcSource.resolve(),
  ]);
  const inputs: ImageInputs = {
    builder: BUILDER_VERSION,
    kernel: { package: kernelRef.package, version: kernelRef.version, debSha256: kernelRef.debSha256 },
    agent: { treeSha256, goVersion: go },
    busybox: { sha256: busybox.sha256 },
    runc,
    modules: [...(opts.modules ?? AGENT_MODULES)].sort(),
    compression,
  };
  return { home, agentDir, inputs, id: imageIdOf(inputs), kernelSource, kernelRef, busybox, runcSource };
}

/** Ids of images built from the current default inputs (any compression); undefined if they cannot be resolved. */
export async function currentIds(
  home: string,
  overrides: ImageSourceOverrides & { agentDir?: string } = {},
): Promise<{ defaultId: string; keep: Set<string> } | undefined> {
  try {
    const r = await resolveInputs({ ...overrides, home });
    const gz = imageIdOf({ ...r.inputs, compression: 'gzip' });
    return { defaultId: r.id, keep: new Set([r.id, gz]) };
  } catch {
    return undefined;
  }
}
