// Where the host programs the QEMU backend runs are, with what to install when one is missing.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { VesselError } from '../../errors/index.js';

export interface HostTool {
  name: string;
  /** Debian package that provides it. */
  package: string;
  /** Environment variable that overrides the lookup. */
  env: string;
  candidates: string[];
}

export const QEMU: HostTool = { name: 'qemu-system-x86_64', package: 'qemu-system-x86', env: 'VESSEL_QEMU', candidates: [] };
export const VIRTIOFSD: HostTool = {
  name: 'virtiofsd',
  package: 'qemu-system-common (Debian 12) or virtiofsd (Debian 13+)',
  env: 'VESSEL_VIRTIOFSD',
  candidates: ['/usr/lib/qemu/virtiofsd', '/usr/libexec/virtiofsd', '/usr/lib/virtiofsd'],
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
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) {
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
        : `${tool.name} not found: install the Debian package ${tool.package} (or set ${tool.env})`,
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
