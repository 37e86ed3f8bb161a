// Contract: the image cache. An image lives in `<home>/images/<id>/` with `vmlinuz`,
// `initramfs.cpio[.gz]` and `manifest.json`; `<id>` is a short sha256 of the canonical
// inputs (kernel package+version+.deb sha256, agent tree hash + Go version, busybox sha256,
// wanted modules, compression, builder version). An image directory is only ever created by
// renaming a fully written temp directory (`<home>/images/.tmp-*`) into place, so a crash
// never leaves a half image under a valid name. Builds of one id are serialized across
// processes by `<home>/images/.lock-<id>` (O_EXCL, holder pid inside; a dead holder's lock is
// broken). Reuse always re-verifies every artifact's size and sha256 against the manifest; a
// mismatch or missing file is logged and the image is rebuilt, never returned.
import crypto from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import zlib from 'node:zlib';
import type { Logger } from 'pino';
import { VesselError, isVesselError } from '../errors/index.js';
import { vesselHome } from '../host/index.js';
import { buildAgent, goVersion, hashAgentTree } from './agent.js';
import { busyboxApplets, findBusybox, BUSYBOX_CANDIDATES, type Busybox } from './busybox.js';
import { initramfsWriter } from './initramfs.js';
import { AptKernelSource, KERNEL_META_PACKAGE, sha256File, unpackKernel, type KernelSource } from './kernel.js';
import { AGENT_MODULES, collectModules } from './modules.js';

/** Bump when the image layout or the way it is built changes (it is part of every id). */
export const BUILDER_VERSION = 'vessel-image/1';

export type Compression = 'none' | 'gzip';

export interface BuildProgress {
  phase: string;
  done?: number;
  total?: number;
  message?: string;
}

export interface ImageOptions {
  home?: string;
  agentDir?: string;
  compression?: Compression;
  onProgress?: (p: BuildProgress) => void;
  logger?: Logger;
  force?: boolean;
}

/** Test seams (not part of the public contract): where the kernel, busybox and modules come from. */
export interface ImageSourceOverrides {
  kernelSource?: KernelSource;
  busyboxCandidates?: readonly string[];
  modules?: readonly string[];
}

export interface ImageInputs {
  builder: string;
  kernel: { package: string; version: string; debSha256: string };
  agent: { treeSha256: string; goVersion: string };
  busybox: { sha256: string };
  modules: string[];
  compression: Compression;
}

export interface ArtifactRecord {
  path: string;
  size: number;
  sha256: string;
}

export interface ImageManifest {
  schemaVersion: 1;
  id: string;
  createdAt: string;
  kernelRelease: string;
  inputs: ImageInputs;
  artifacts: { kernel: ArtifactRecord; initrd: ArtifactRecord };
  contents: {
    agent: { version: string; size: number; sha256: string };
    busybox: { source: string; applets: number };
    /** Modules in load order (guest paths), as written to /etc/vessel/modules.list. */
    modules: Array<{ name: string; path: string; sha256: string }>;
    /** Wanted modules the kernel has built in (not shipped). */
    builtinModules: string[];
    initramfsEntries: number;
    initramfsUncompressedSize: number;
  };
}

export interface GuestImage {
  id: string;
  dir: string;
  kernelPath: string;
  initrdPath: string;
  kernelRelease: string;
  manifest: ImageManifest;
}

export interface ImageListEntry {
  id: string;
  dir: string;
  createdAt: string;
  sizeBytes: number;
  kernelRelease: string;
  isDefault: boolean;
}

function findRepoRoot(start: string): string | undefined {
  let dir = start;
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'agent', 'go.mod'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

const repoRoot = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));

/** The repository's agent/ module (found from this file's location, in src/ or dist/). */
export function defaultAgentDir(): string {
  if (repoRoot === undefined) throw new VesselError('IMAGE_BUILD_FAILED', 'the vessel repository (with agent/go.mod) was not found: pass agentDir');
  return path.join(repoRoot, 'agent');
}

function vesselVersion(): string {
  try {
    if (repoRoot !== undefined) return (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    /* fall through */
  }
  return '0.0.0';
}

/** JSON with object keys sorted recursively: the form hashed into an image id. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

export function imageIdOf(inputs: ImageInputs): string {
  return crypto.createHash('sha256').update(canonicalJson(inputs)).digest('hex').slice(0, 16);
}

interface Resolved {
  home: string;
  agentDir: string;
  inputs: ImageInputs;
  id: string;
  kernelSource: KernelSource;
  kernelRef: Awaited<ReturnType<KernelSource['resolve']>>;
  busybox: Busybox;
}

async function resolveInputs(opts: ImageOptions & ImageSourceOverrides): Promise<Resolved> {
  const home = opts.home ?? vesselHome();
  const agentDir = path.resolve(opts.agentDir ?? defaultAgentDir());
  const compression = opts.compression ?? 'none';
  if (compression !== 'none' && compression !== 'gzip') throw new VesselError('INVALID_ARGUMENT', `unknown compression ${JSON.stringify(compression)} (none or gzip)`);
  const kernelSource = opts.kernelSource ?? new AptKernelSource(KERNEL_META_PACKAGE, path.join(home, 'apt-kernel.json'));
  const [kernelRef, treeSha256, go, busybox] = await Promise.all([
    kernelSource.resolve(),
    hashAgentTree(agentDir),
    goVersion(),
    findBusybox(opts.busyboxCandidates ?? BUSYBOX_CANDIDATES),
  ]);
  const inputs: ImageInputs = {
    builder: BUILDER_VERSION,
    kernel: { package: kernelRef.package, version: kernelRef.version, debSha256: kernelRef.debSha256 },
    agent: { treeSha256, goVersion: go },
    busybox: { sha256: busybox.sha256 },
    modules: [...(opts.modules ?? AGENT_MODULES)].sort(),
    compression,
  };
  return { home, agentDir, inputs, id: imageIdOf(inputs), kernelSource, kernelRef, busybox };
}

function initrdName(c: Compression): string {
  return c === 'gzip' ? 'initramfs.cpio.gz' : 'initramfs.cpio';
}

function imagesDir(home: string): string {
  return path.join(home, 'images');
}

async function readManifest(dir: string): Promise<ImageManifest> {
  const m = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as ImageManifest;
  if (m?.schemaVersion !== 1 || typeof m.id !== 'string' || m.artifacts?.kernel === undefined || m.artifacts?.initrd === undefined) {
    throw new Error('manifest.json is not a vessel image manifest');
  }
  return m;
}

/** Loads and fully verifies an image directory; throws IMAGE_CORRUPT (or IMAGE_NOT_FOUND) saying why. */
export async function verifyImage(dir: string, expect?: { id: string; inputs: ImageInputs }): Promise<GuestImage> {
  let m: ImageManifest;
  try {
    m = await readManifest(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new VesselError('IMAGE_NOT_FOUND', `no image in ${dir}`);
    throw new VesselError('IMAGE_CORRUPT', `${dir}/manifest.json: ${(err as Error).message}`, { cause: err });
  }
  if (expect !== undefined && (m.id !== expect.id || canonicalJson(m.inputs) !== canonicalJson(expect.inputs))) {
    throw new VesselError('IMAGE_CORRUPT', `${dir}/manifest.json does not describe image ${expect.id}`);
  }
  for (const [what, a] of Object.entries(m.artifacts)) {
    if (typeof a.path !== 'string' || a.path !== path.basename(a.path) || a.path === '..' || a.path === '.') {
      throw new VesselError('IMAGE_CORRUPT', `${dir}: bad ${what} artifact path ${JSON.stringify(a.path)}`);
    }
    const file = path.join(dir, a.path);
    let size: number;
    try {
      size = (await fs.stat(file)).size;
    } catch {
      throw new VesselError('IMAGE_CORRUPT', `${file} is missing`);
    }
    if (size !== a.size) throw new VesselError('IMAGE_CORRUPT', `${file} has ${size} bytes, the manifest says ${a.size}`);
    const sha = await sha256File(file);
    if (sha !== a.sha256) throw new VesselError('IMAGE_CORRUPT', `${file} has sha256 ${sha}, the manifest says ${a.sha256}`);
  }
  return {
    id: m.id,
    dir,
    kernelPath: path.join(dir, m.artifacts.kernel.path),
    initrdPath: path.join(dir, m.artifacts.initrd.path),
    kernelRelease: m.kernelRelease,
    manifest: m,
  };
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const LOCK_WAIT_MS = 15 * 60_000;
const LOCK_POLL_MS = 200;

/** Cross-process lock by O_EXCL file creation; a lock whose holder pid is dead is broken. */
async function withLock<T>(lockPath: string, log: (msg: string) => void, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let announced = false;
  for (;;) {
    try {
      const fh = await fs.open(lockPath, 'wx');
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const [text, st] = await Promise.all([fs.readFile(lockPath, 'utf8').catch(() => ''), fs.stat(lockPath).catch(() => undefined)]);
    const pid = Number.parseInt(text.trim(), 10);
    // An empty lock file is a holder between open and write: stale only when old.
    const stale = text.trim() === '' ? st !== undefined && Date.now() - st.mtimeMs > 10_000 : !pidAlive(pid);
    if (stale) {
      log(`breaking stale image lock ${lockPath} (holder pid ${text.trim() || '?'} is gone)`);
      // Rename first so that only one waiter breaks this particular stale file.
      const aside = `${lockPath}.stale-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
      await fs.rename(lockPath, aside).then(() => fs.rm(aside, { force: true }), () => {});
      continue;
    }
    if (!announced) {
      log(`waiting for another vessel process (pid ${pid}) building the same image`);
      announced = true;
    }
    if (Date.now() > deadline) throw new VesselError('IMAGE_BUILD_FAILED', `timed out waiting for image lock ${lockPath} held by pid ${pid}`);
    await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lockPath, { force: true });
  }
}

function sha256(b: Buffer): string {
  return crypto.createHash('sha256').update(b).digest('hex');
}

/** Builds every artifact of `r` into the (empty, existing) directory `out`. */
async function buildInto(out: string, r: Resolved, opts: ImageOptions & ImageSourceOverrides): Promise<ImageManifest> {
  const progress = (p: BuildProgress): void => opts.onProgress?.(p);
  const work = path.join(out, '.work');
  await fs.mkdir(work);

  progress({ phase: 'download kernel', message: `${r.kernelRef.package} ${r.kernelRef.version}` });
  const deb = await r.kernelSource.fetch(r.home, r.kernelRef, (done, total) => progress({ phase: 'download kernel', done, total }));

  progress({ phase: 'unpack', message: path.basename(deb) });
  const kernel = await unpackKernel(deb, path.join(work, 'kernel'));

  progress({ phase: 'modules', done: 0, total: r.inputs.modules.length });
  const mods = await collectModules(kernel.root, kernel.release, r.inputs.modules, (done, total) => progress({ phase: 'modules', done, total }));

  progress({ phase: 'agent build', message: r.agentDir });
  const agentVersion = `${vesselVersion()}+${r.inputs.agent.treeSha256.slice(0, 12)}`;
  const agent = await buildAgent(r.agentDir, path.join(work, 'vessel-agent'), agentVersion);
  const applets = await busyboxApplets(r.busybox);

  const writer = initramfsWriter({ agent, busybox: r.busybox.data, applets, kernelRelease: kernel.release, imageId: r.id, modules: mods.modules });
  const total = writer.byteLength();
  const initrdPath = path.join(out, initrdName(r.inputs.compression));
  const initrd = await writeInitramfs(writer.chunks(), initrdPath, r.inputs.compression, total, (done) => progress({ phase: 'initramfs write', done, total }));

  const vmlinuz = await fs.readFile(kernel.vmlinuz);
  await fs.writeFile(path.join(out, 'vmlinuz'), vmlinuz);
  await fs.rm(work, { recursive: true, force: true });

  const manifest: ImageManifest = {
    schemaVersion: 1,
    id: r.id,
    createdAt: new Date().toISOString(),
    kernelRelease: kernel.release,
    inputs: r.inputs,
    artifacts: {
      kernel: { path: 'vmlinuz', size: vmlinuz.length, sha256: sha256(vmlinuz) },
      initrd: { path: path.basename(initrdPath), size: initrd.size, sha256: initrd.sha256 },
    },
    contents: {
      agent: { version: agentVersion, size: agent.length, sha256: sha256(agent) },
      busybox: { source: r.busybox.path, applets: applets.length },
      modules: mods.modules.map((m) => ({ name: m.name, path: m.guestPath, sha256: sha256(m.data) })),
      builtinModules: mods.builtin,
      initramfsEntries: writer.size,
      initramfsUncompressedSize: total,
    },
  };
  await fs.writeFile(path.join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

async function writeInitramfs(chunks: Iterable<Buffer>, file: string, compression: Compression, total: number, onBytes: (done: number) => void): Promise<{ size: number; sha256: string }> {
  const h = crypto.createHash('sha256');
  let size = 0;
  const sink = createWriteStream(file, { flags: 'wx' });
  const closed = once(sink, 'close');
  const gz = compression === 'gzip' ? zlib.createGzip({ level: 9 }) : undefined;
  const target = gz ?? sink;
  if (gz) {
    gz.on('data', (c: Buffer) => {
      h.update(c);
      size += c.length;
      if (!sink.write(c)) gz.pause();
    });
    sink.on('drain', () => gz.resume());
    gz.on('end', () => sink.end());
  }
  let done = 0;
  let lastReport = 0;
  for (const c of chunks) {
    if (!gz) {
      h.update(c);
      size += c.length;
    }
    if (!target.write(c)) await once(target, 'drain');
    done += c.length;
    if (done - lastReport >= 1 << 20 || done === total) {
      lastReport = done;
      onBytes(done);
    }
  }
  target.end();
  await closed;
  onBytes(total);
  return { size, sha256: h.digest('hex') };
}

function logger(opts: ImageOptions): (msg: string) => void {
  return (msg) => {
    opts.logger?.info(msg);
    opts.onProgress?.({ phase: 'log', message: msg });
  };
}

async function buildAndInstall(r: Resolved, opts: ImageOptions & ImageSourceOverrides, replaceValid: boolean): Promise<GuestImage> {
  const log = logger(opts);
  const images = imagesDir(r.home);
  await fs.mkdir(images, { recursive: true });
  const dir = path.join(images, r.id);
  return withLock(path.join(images, `.lock-${r.id}`), log, async () => {
    if (!replaceValid) {
      // Another process may have built it while we waited for the lock.
      try {
        return await verifyImage(dir, r);
      } catch (err) {
        if (!isVesselError(err, 'IMAGE_NOT_FOUND')) log(`image ${r.id} is unusable, rebuilding: ${(err as Error).message}`);
      }
    }
    const tmp = await fs.mkdtemp(path.join(images, `.tmp-${r.id}-${process.pid}-`));
    try {
      const started = Date.now();
      await fs.chmod(tmp, 0o755); // mkdtemp makes it 0700; images are readable like any cache
      await buildInto(tmp, r, opts);
      const built = await verifyImage(tmp, r);
      const aside = path.join(images, `.trash-${r.id}-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
      const moved = await fs.rename(dir, aside).then(() => true, (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return false;
        throw err;
      });
      await fs.rename(tmp, dir);
      if (moved) await fs.rm(aside, { recursive: true, force: true });
      log(`built image ${r.id} (kernel ${built.kernelRelease}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return { ...built, dir, kernelPath: path.join(dir, path.basename(built.kernelPath)), initrdPath: path.join(dir, path.basename(built.initrdPath)) };
    } catch (err) {
      await fs.rm(tmp, { recursive: true, force: true });
      if (err instanceof VesselError) throw err;
      throw new VesselError('IMAGE_BUILD_FAILED', `building image ${r.id} failed: ${(err as Error).message}`, { cause: err });
    }
  });
}

/** The default image for these options: verified reuse, or a build on first use (or after corruption). */
export async function ensureImage(opts: ImageOptions & ImageSourceOverrides = {}): Promise<GuestImage> {
  const r = await resolveInputs(opts);
  if (opts.force) return buildAndInstall(r, opts, true);
  const dir = path.join(imagesDir(r.home), r.id);
  try {
    return await verifyImage(dir, r);
  } catch (err) {
    if (!isVesselError(err, 'IMAGE_NOT_FOUND')) logger(opts)(`image ${r.id} failed verification, rebuilding: ${(err as Error).message}`);
  }
  return buildAndInstall(r, opts, false);
}

/** Builds (or rebuilds) the image for these options even when a valid one exists. */
export async function rebuildImage(opts: ImageOptions & ImageSourceOverrides = {}): Promise<GuestImage> {
  const r = await resolveInputs(opts);
  return buildAndInstall(r, opts, true);
}

async function dirSize(dir: string): Promise<number> {
  let n = 0;
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) {
    if (e.isFile()) n += (await fs.stat(path.join(e.parentPath, e.name)).catch(() => ({ size: 0 }))).size;
  }
  return n;
}

/** Ids of images built from the current default inputs (any compression); undefined if they cannot be resolved. */
async function currentIds(home: string, overrides: ImageSourceOverrides & { agentDir?: string } = {}): Promise<{ defaultId: string; keep: Set<string> } | undefined> {
  try {
    const r = await resolveInputs({ ...overrides, home });
    const gz = imageIdOf({ ...r.inputs, compression: 'gzip' });
    return { defaultId: r.id, keep: new Set([r.id, gz]) };
  } catch {
    return undefined;
  }
}

export async function listImagesIn(home: string = vesselHome(), overrides: ImageSourceOverrides & { agentDir?: string } = {}): Promise<ImageListEntry[]> {
  const images = imagesDir(home);
  const names = (await fs.readdir(images, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  const cur = names.length > 0 ? await currentIds(home, overrides) : undefined;
  const out: ImageListEntry[] = [];
  for (const id of names) {
    const dir = path.join(images, id);
    const m = await readManifest(dir).catch(() => undefined);
    out.push({ id, dir, createdAt: m?.createdAt ?? '', sizeBytes: await dirSize(dir), kernelRelease: m?.kernelRelease ?? 'unknown (no manifest)', isDefault: cur?.defaultId === id });
  }
  return out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
}

export async function pruneImagesIn(opts: { home?: string; all?: boolean } & ImageSourceOverrides & { agentDir?: string } = {}): Promise<{ removed: string[] }> {
  const home = opts.home ?? vesselHome();
  const images = imagesDir(home);
  let keep = new Set<string>();
  if (!opts.all) {
    const cur = await currentIds(home, opts);
    if (cur === undefined) throw new VesselError('IMAGE_BUILD_FAILED', 'cannot resolve the current default image inputs, so cannot tell which image to keep (use --all to remove every image)');
    keep = cur.keep;
  }
  const removed: string[] = [];
  const keptKernels = new Set<string>();
  for (const e of await fs.readdir(images, { withFileTypes: true }).catch(() => [])) {
    const full = path.join(images, e.name);
    if (e.name.startsWith('.')) {
      // Leftovers of crashed builders: .tmp-<id>-<pid>-*, .trash-<id>-<pid>-*, stale locks.
      const m = /^\.(tmp|trash)-[0-9a-f]+-(\d+)-/.exec(e.name) ?? /^\.lock-[0-9a-f]+()$/.exec(e.name);
      if (m === null) continue;
      const pid = m[2] ? Number(m[2]) : Number.parseInt(await fs.readFile(full, 'utf8').catch(() => ''), 10);
      if (!pidAlive(pid)) await fs.rm(full, { recursive: true, force: true });
      continue;
    }
    if (!e.isDirectory()) continue;
    if (keep.has(e.name)) {
      const m = await readManifest(full).catch(() => undefined);
      if (m) keptKernels.add(m.inputs.kernel.debSha256);
      continue;
    }
    await fs.rm(full, { recursive: true, force: true });
    removed.push(e.name);
  }
  // Downloaded kernel packages no kept image was built from.
  const downloads = path.join(home, 'downloads');
  for (const f of await fs.readdir(downloads).catch(() => [] as string[])) {
    if (!f.endsWith('.deb')) continue;
    const file = path.join(downloads, f);
    if (!opts.all && keptKernels.size > 0 && keptKernels.has(await sha256File(file).catch(() => ''))) continue;
    if (!opts.all && keptKernels.size === 0) continue; // nothing built yet: keep the download for the first build
    await fs.rm(file, { force: true });
    removed.push(`downloads/${f}`);
  }
  return { removed };
}
