// Where the host programs the QEMU backend runs are, with what to install when one is missing.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { VesselError } from '../../errors/index.js';
import { repoPath } from '../../image/repo.js';

export interface HostTool {
  name: string;
  /** Debian package that provides it. */
  package: string;
  /** How to get it when no Debian package provides it (replaces "install the Debian package"). */
  install?: string;
  /** Environment variable that overrides the lookup. */
  env: string;
  candidates: string[];
  /** Whether $PATH is searched (default true); false when only a build of ours will do. */
  onPath?: boolean;
}

export const QEMU: HostTool = { name: 'qemu-system-x86_64', package: 'qemu-system-x86', env: 'VESSEL_QEMU', candidates: [] };
export const VIRTIOFSD: HostTool = {
  name: 'virtiofsd',
  package: 'qemu-system-common (Debian 12) or virtiofsd (Debian 13+)',
  env: 'VESSEL_VIRTIOFSD',
  candidates: ['/usr/lib/qemu/virtiofsd', '/usr/libexec/virtiofsd', '/usr/lib/virtiofsd'],
};
/** The vsock device's backend: built from the pinned crate with the repo's fix, never from a package. */
export const VHOST_DEVICE_VSOCK: HostTool = {
  name: 'vhost-device-vsock',
  package: 'none (built from source)',
  install: 'build it with scripts/build-vhost-device-vsock.sh (run by scripts/install-deps.sh)',
  env: 'VESSEL_VHOST_DEVICE_VSOCK',
  // A stock build on $PATH (`cargo install`) deadlocks under bidirectional traffic: not searched.
  onPath: false,
  candidates: [repoPath('.interop-bin', 'vhost-device-vsock')].filter((p): p is string => p !== undefined),
};
export const PASST: HostTool = { name: 'passt', package: 'passt', env: 'VESSEL_PASST', candidates: [] };

function executable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The tool's path, or undefined. */
export function findTool(tool: HostTool): string | undefined {
  const override = process.env[tool.env];
  if (override) return executable(override) ? override : undefined;
  for (const dir of tool.onPath === false ? [] : (process.env.PATH ?? '').split(':').filter(Boolean)) {
    const p = path.join(dir, tool.name);
    if (executable(p)) return p;
  }
  return tool.candidates.find(executable);
}

export function requireTool(tool: HostTool): string {
  const p = findTool(tool);
  if (!p) {
    const override = process.env[tool.env];
    throw new VesselError(
      'TOOL_MISSING',
      override
        ? `${tool.env}=${override} is not an executable file`
        : `${tool.name} not found: ${tool.install ?? `install the Debian package ${tool.package}`} (or set ${tool.env})`,
    );
  }
  return p;
}

const versions = new Map<string, string>();

/** The first line of `<binary> --version` (e.g. `QEMU emulator version 7.2.22 (Debian …)`), read once per binary and mtime. */
export function toolVersion(binary: string): string {
  const key = `${binary}@${fs.statSync(binary).mtimeMs}`;
  let v = versions.get(key);
  if (v === undefined) {
    v = execFileSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 }).split('\n')[0]!.trim();
    versions.set(key, v);
  }
  return v;
}
