// Contract: runc, the OCI runtime the guest runs containers with, as an image input. It is
// built from the Go module github.com/opencontainers/runc at a pinned version whose module
// sum is pinned too (the Go module proxy serves it; `go` also checks it against the
// checksum database), with cgo against Debian's static libseccomp (libseccomp-dev) and
// glibc (libc6-dev): a static, non-PIE binary with the `seccomp` build tag, so the guest
// needs no shared library. Non-PIE because a static PIE relocates itself at every start:
// under TCG a trivial `runc run` took ~0.85 s with it and ~0.4–0.6 s without (measured in
// the guest). `resolve()` names every input (module version and sum, Go version, build tags,
// the Debian packages linked in) without building; `build()` downloads the module into Go's
// module cache (once) and builds it there. Failures: TOOL_MISSING (go, or a -dev package
// not installed), IMAGE_BUILD_FAILED.
import fs from 'node:fs/promises';
import { VesselError } from '../errors/index.js';
import { goVersion } from './agent.js';
import { isStaticElf } from './elf.js';
import { run, runText } from './tools.js';

export const RUNC_MODULE = 'github.com/opencontainers/runc';
export const RUNC_VERSION = 'v1.5.3';
/** The module's go.sum hash (h1:) for RUNC_VERSION: a module proxy answering anything else is refused. */
export const RUNC_MODULE_SUM = 'h1:y3GUIW7J0Gxd+tCFfWR6L1YDnhHiNR1BGRx1J50+VnA=';
/** runc's Makefile tags for `make static`, without libpathrs (a Rust library Debian 12 lacks). */
export const RUNC_BUILD_TAGS = ['seccomp', 'urfave_cli_no_docs', 'netgo', 'osusergo'];
/** Debian packages whose static libraries end up in the binary. */
export const RUNC_LINKED_PACKAGES = ['libseccomp-dev', 'libc6-dev'];

export interface RuncRef {
  module: string;
  version: string;
  sum: string;
  goVersion: string;
  buildTags: string[];
  /** Debian package → installed version, for RUNC_LINKED_PACKAGES. */
  linked: Record<string, string>;
}

export interface RuncSource {
  resolve(): Promise<RuncRef>;
  /** Builds runc for `ref` into the file `out` and returns its bytes (a static ELF). */
  build(ref: RuncRef, out: string): Promise<Buffer>;
}

/** Installed versions of Debian packages; TOOL_MISSING names the ones not installed. */
export async function installedVersions(packages: readonly string[]): Promise<Record<string, string>> {
  const env = { ...process.env, LC_ALL: 'C' };
  const versions = await Promise.all(
    packages.map(async (p) => {
      // dpkg-query exits 1 for a package it does not know.
      const text = await runText('dpkg-query', ['-W', '-f', '${Version} ${Status}', p], { env }).catch((err: unknown) => {
        if (err instanceof VesselError && err.code === 'IMAGE_BUILD_FAILED') return '';
        throw err;
      });
      const [version, ...status] = text.trim().split(' ');
      return version !== undefined && version !== '' && status.join(' ') === 'install ok installed' ? version : undefined;
    }),
  );
  const missing = packages.filter((_, i) => versions[i] === undefined);
  if (missing.length > 0)
    throw new VesselError(
      'TOOL_MISSING',
      `${missing.join(', ')} not installed: install ${missing.join(' ')} (scripts/install-deps.sh installs everything vessel needs; runc links their static libraries)`,
    );
  return Object.fromEntries(packages.map((p, i) => [p, versions[i]!]));
}

export class GoModuleRuncSource implements RuncSource {
  async resolve(): Promise<RuncRef> {
    const [go, linked] = await Promise.all([goVersion(), installedVersions(RUNC_LINKED_PACKAGES)]);
    return { module: RUNC_MODULE, version: RUNC_VERSION, sum: RUNC_MODULE_SUM, goVersion: go, buildTags: [...RUNC_BUILD_TAGS], linked };
  }

  async build(ref: RuncRef, out: string): Promise<Buffer> {
    const env = { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly -buildvcs=false' };
    const dl = JSON.parse(await runText('go', ['mod', 'download', '-json', `${ref.module}@${ref.version}`], { env })) as {
      Dir?: string;
      Sum?: string;
      Error?: string;
    };
    if (dl.Error !== undefined || dl.Dir === undefined)
      throw new VesselError('IMAGE_BUILD_FAILED', `go mod download ${ref.module}@${ref.version}: ${dl.Error ?? 'no directory'}`);
    if (dl.Sum !== ref.sum) throw new VesselError('IMAGE_BUILD_FAILED', `${ref.module}@${ref.version} has sum ${dl.Sum}, expected ${ref.sum}`);
    const ldflags = `-s -w -X main.gitCommit=${ref.version} -extldflags -static`;
    await run('go', ['build', '-trimpath', '-tags', ref.buildTags.join(' '), '-ldflags', ldflags, '-o', out, '.'], {
      cwd: dl.Dir,
      env: { ...env, CGO_ENABLED: '1', GOOS: 'linux', GOARCH: 'amd64' },
    });
    const bin = await fs.readFile(out);
    let ok: boolean;
    try {
      ok = isStaticElf(bin);
    } catch (err) {
      throw new VesselError('IMAGE_BUILD_FAILED', `go build of runc produced no ELF binary: ${(err as Error).message}`);
    }
    if (!ok) throw new VesselError('IMAGE_BUILD_FAILED', 'the runc binary is dynamically linked (the guest has no shared libraries)');
    return bin;
  }
}
