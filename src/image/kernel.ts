// Contract: where the guest kernel comes from. `KernelSource.resolve()` names the exact
// package (name, version, .deb sha256) without downloading; `fetch()` returns a local .deb
// whose sha256 matches, downloading it into `<home>/downloads/` at most once (temp file +
// rename, verified on every use); `unpackKernel()` extracts a .deb into a directory and finds
// vmlinuz and the module tree. The default source is Debian's apt: the current package is
// resolved through the meta package `linux-image-cloud-amd64`. Nothing is installed into /boot.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { VesselError } from '../errors/index.js';
import { run, runText } from './tools.js';

export interface KernelRef {
  package: string;
  version: string;
  debSha256: string;
  /** Size of the .deb in bytes, when the source knows it (for progress). */
  debSize?: number;
  /** File name the .deb is stored under in `<home>/downloads/`. */
  debFileName: string;
}

export interface KernelSource {
  resolve(): Promise<KernelRef>;
  /** Ensures `<home>/downloads/<debFileName>` exists with the right sha256 and returns its path. */
  fetch(home: string, ref: KernelRef, onBytes?: (done: number, total?: number) => void): Promise<string>;
}

export const KERNEL_META_PACKAGE = 'linux-image-cloud-amd64';

const APT_ENV = { ...process.env, LC_ALL: 'C', LANG: 'C' };

export async function sha256File(file: string): Promise<string> {
  const h = crypto.createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Fields of the first stanza of `apt-cache show` output. */
function stanza(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n\n')[0]!.split('\n')) {
    const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

const NO_LISTS_HINT = 'apt has no candidate for it: run `apt-get update` (scripts/install-deps.sh does this on a fresh machine)';

/** Files whose state determines what apt-cache answers (lists, sources, pinning, installed). */
async function aptFingerprint(): Promise<string> {
  const h = crypto.createHash('sha256');
  const dirs = ['/var/lib/apt/lists', '/etc/apt/sources.list.d', '/etc/apt/preferences.d', '/etc/apt/apt.conf.d'];
  const files = ['/etc/apt/sources.list', '/etc/apt/preferences', '/var/lib/dpkg/status'];
  for (const d of dirs) {
    for (const f of (await fs.readdir(d).catch(() => [] as string[])).sort()) files.push(path.join(d, f));
  }
  for (const f of files) {
    const st = await fs.stat(f).catch(() => undefined);
    h.update(`${f}\0${st ? `${st.size}:${st.mtimeMs}:${st.ino}` : '-'}\n`);
  }
  return h.digest('hex');
}

export class AptKernelSource implements KernelSource {
  /**
   * `cacheFile`: where the last resolution is remembered together with a fingerprint of
   * apt's lists and configuration (apt-cache takes ~0.6 s per call here); a changed
   * fingerprint resolves again.
   */
  constructor(
    private readonly metaPackage = KERNEL_META_PACKAGE,
    private readonly cacheFile?: string,
  ) {}

  async resolve(): Promise<KernelRef> {
    if (this.cacheFile === undefined) return this.resolveWithApt();
    const fp = await aptFingerprint();
    try {
      const c = JSON.parse(await fs.readFile(this.cacheFile, 'utf8')) as { meta: string; fingerprint: string; ref: KernelRef };
      if (c.meta === this.metaPackage && c.fingerprint === fp && typeof c.ref?.package === 'string' && /^[0-9a-f]{64}$/.test(c.ref.debSha256)) return c.ref;
    } catch {
      /* no usable cache: resolve with apt */
    }
    const ref = await this.resolveWithApt();
    await fs.mkdir(path.dirname(this.cacheFile), { recursive: true });
    const tmp = `${this.cacheFile}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
    await fs.writeFile(tmp, JSON.stringify({ meta: this.metaPackage, fingerprint: fp, ref }));
    await fs.rename(tmp, this.cacheFile);
    return ref;
  }

  private async resolveWithApt(): Promise<KernelRef> {
    const policy = await runText('apt-cache', ['policy', this.metaPackage], { env: APT_ENV });
    const cand = /^\s*Candidate:\s*(\S+)/m.exec(policy)?.[1];
    if (cand === undefined || cand === '(none)') {
      throw new VesselError('IMAGE_BUILD_FAILED', `cannot resolve the guest kernel: ${this.metaPackage}: ${NO_LISTS_HINT}`);
    }
    const meta = stanza(await runText('apt-cache', ['show', `${this.metaPackage}=${cand}`], { env: APT_ENV }));
    const dep = /(linux-image-[A-Za-z0-9.+-]+)\s*(?:\(=\s*([^)\s]+)\s*\))?/.exec(meta.get('Depends') ?? '');
    if (!dep) throw new VesselError('IMAGE_BUILD_FAILED', `${this.metaPackage} ${cand} has no linux-image dependency`);
    const pkg = dep[1]!;
    const version = dep[2] ?? cand;
    const info = stanza(await runText('apt-cache', ['show', `${pkg}=${version}`], { env: APT_ENV }));
    const sha = info.get('SHA256');
    if (sha === undefined || !/^[0-9a-f]{64}$/.test(sha)) throw new VesselError('IMAGE_BUILD_FAILED', `apt-cache show ${pkg}=${version}: no SHA256 field`);
    const size = Number(info.get('Size'));
    const filename = path.posix.basename(info.get('Filename') ?? `${pkg}_${version}_amd64.deb`);
    return {
      package: pkg,
      version,
      debSha256: sha,
      debSize: Number.isFinite(size) ? size : undefined,
      debFileName: filename.replace(/%3a/gi, '_').replace(/:/g, '_'),
    };
  }

  async fetch(home: string, ref: KernelRef, onBytes?: (done: number, total?: number) => void): Promise<string> {
    const dir = path.join(home, 'downloads');
    const dest = path.join(dir, ref.debFileName);
    if (await hasSha(dest, ref.debSha256)) return dest;
    await fs.mkdir(dir, { recursive: true });
    const tmp = await fs.mkdtemp(path.join(dir, `.tmp-${process.pid}-`));
    const poll =
      onBytes === undefined
        ? undefined
        : setInterval(
            () =>
              void dirBytes(tmp).then(
                (n) => onBytes(n, ref.debSize),
                () => {},
              ),
            250,
          );
    try {
      const args = ['download', `${ref.package}=${ref.version}`];
      // apt drops to user _apt for downloads, which cannot write into a root-owned cache dir.
      if (process.getuid?.() === 0) args.unshift('-o', 'APT::Sandbox::User=root');
      await run('apt-get', args, { cwd: tmp, env: APT_ENV });
      const got = (await fs.readdir(tmp)).filter((f) => f.endsWith('.deb'));
      if (got.length !== 1) throw new VesselError('IMAGE_BUILD_FAILED', `apt-get download ${ref.package}=${ref.version} left ${got.length} .deb files`);
      const file = path.join(tmp, got[0]!);
      const sha = await sha256File(file);
      if (sha !== ref.debSha256) throw new VesselError('IMAGE_BUILD_FAILED', `downloaded ${got[0]} has sha256 ${sha}, apt expects ${ref.debSha256}`);
      onBytes?.((await fs.stat(file)).size, ref.debSize);
      await fs.rename(file, dest);
      return dest;
    } finally {
      if (poll) clearInterval(poll);
      await fs.rm(tmp, { recursive: true, force: true });
    }
  }
}

async function hasSha(file: string, sha: string): Promise<boolean> {
  try {
    return (await sha256File(file)) === sha;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

async function dirBytes(dir: string): Promise<number> {
  let n = 0;
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) n += (await fs.stat(path.join(e.parentPath, e.name)).catch(() => ({ size: 0 }))).size;
  }
  return n;
}

export interface UnpackedKernel {
  root: string;
  release: string;
  vmlinuz: string;
}

/** Extracts the .deb into `dest` (dpkg-deb -x, no maintainer scripts) and locates the kernel. */
export async function unpackKernel(deb: string, dest: string): Promise<UnpackedKernel> {
  await fs.mkdir(dest, { recursive: true });
  await run('dpkg-deb', ['-x', deb, dest]);
  return locateKernel(dest);
}

/** Finds `boot/vmlinuz-<release>` and checks `lib/modules/<release>` exists. */
export async function locateKernel(root: string): Promise<UnpackedKernel> {
  const boot = await fs.readdir(path.join(root, 'boot')).catch(() => [] as string[]);
  const kernels = boot.filter((f) => f.startsWith('vmlinuz-'));
  if (kernels.length !== 1) throw new VesselError('IMAGE_BUILD_FAILED', `kernel package has ${kernels.length} boot/vmlinuz-* files, expected 1`);
  const release = kernels[0]!.slice('vmlinuz-'.length);
  try {
    await fs.access(path.join(root, 'lib', 'modules', release));
  } catch {
    throw new VesselError('IMAGE_BUILD_FAILED', `kernel package has no lib/modules/${release}`);
  }
  return { root, release, vmlinuz: path.join(root, 'boot', kernels[0]!) };
}
