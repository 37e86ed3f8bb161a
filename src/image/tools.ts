// Contract: running the host tools the image builder needs (apt-get, apt-cache, dpkg-deb,
// dpkg-query, go, xz, zstd, busybox, mke2fs, debugfs). A missing tool is a VesselError TOOL_MISSING naming what to install;
// a failing tool is IMAGE_BUILD_FAILED carrying the tail of its stderr.
import { execFile } from 'node:child_process';
import { VesselError } from '../errors/index.js';

/** Debian package that provides each tool (for the TOOL_MISSING hint). */
const PROVIDERS: Record<string, string> = {
  'apt-get': 'apt',
  'apt-cache': 'apt',
  'dpkg-deb': 'dpkg',
  go: 'a Go toolchain (see agent/go.mod)',
  xz: 'xz-utils',
  zstd: 'zstd',
  busybox: 'busybox-static',
  mke2fs: 'e2fsprogs',
  debugfs: 'e2fsprogs',
  'dpkg-query': 'dpkg',
};

export function toolMissing(tool: string, extra = ''): VesselError {
  const pkg = PROVIDERS[tool] ?? tool;
  return new VesselError('TOOL_MISSING', `${tool} not found: install ${pkg} (scripts/install-deps.sh installs everything vessel needs)${extra}`);
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Largest stdout accepted, bytes (default 64 MiB). */
  maxBuffer?: number;
}

/** Runs a tool to completion and returns its stdout. */
export function run(tool: string, args: string[], opts: RunOptions = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(tool, args, { cwd: opts.cwd, env: opts.env ?? process.env, encoding: 'buffer', maxBuffer: opts.maxBuffer ?? 64 << 20 }, (err, stdout, stderr) => {
      if (err === null) return resolve(stdout);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return reject(toolMissing(tool));
      const tail = stderr.toString('utf8').trim().split('\n').slice(-15).join('\n');
      reject(
        new VesselError('IMAGE_BUILD_FAILED', `${tool} ${args.join(' ')} failed: ${err.message.split('\n')[0]}${tail ? `\n${tail}` : ''}`, { cause: err }),
      );
    });
  });
}

export async function runText(tool: string, args: string[], opts: RunOptions = {}): Promise<string> {
  return (await run(tool, args, opts)).toString('utf8');
}
