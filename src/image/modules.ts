// Contract: picks the kernel modules the guest agent needs out of an unpacked kernel package
// (`<root>/lib/modules/<release>/`), closes the set over each module's `depends=` (read from
// the .ko's .modinfo section), drops modules the kernel has built in (modules.builtin), and
// returns them in a load order where every module follows its dependencies. The order is a
// deterministic function of the package and the wanted SET (not of the wanted list's order).
// Compressed modules (.ko.xz, .ko.zst, .ko.gz) are returned decompressed.
import fs from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { VesselError } from '../errors/index.js';
import { moduleDepends } from './elf.js';
import { run } from './tools.js';

/** Modules the agent loads, for microvm (virtio-mmio) and q35 (virtio-pci) machines (only the transport's before the agent is ready). */
export const AGENT_MODULES: readonly string[] = [
  'virtio_ring',
  'virtio',
  'virtio_mmio',
  'virtio_pci_modern_dev',
  'virtio_pci_legacy_dev',
  'virtio_pci',
  'virtio_console',
  'virtio_blk',
  'failover',
  'net_failover',
  'virtio_net',
  'fuse',
  'virtiofs',
  'overlay',
  'vsock',
  'vmw_vsock_virtio_transport_common',
  'vmw_vsock_virtio_transport',
  // what privileged containers may use (CRI: `brctl addbr` with CAP_NET_ADMIN); loaded after ready
  'bridge',
  // QEMU's pvpanic device (ACPI QEMU0001): a kernel panic is reported to the host (src/vm/qemu/guest-panic.ts)
  'pvpanic_mmio',
];

/** Kernel module names treat '-' and '_' alike. */
export function normalizeModuleName(name: string): string {
  return name.replace(/-/g, '_');
}

/** "kernel/fs/fuse/virtiofs.ko.xz" → "virtiofs" */
export function moduleNameOfPath(p: string): string | undefined {
  const m = /^(.+)\.ko(\.(xz|zst|gz))?$/.exec(path.posix.basename(p));
  return m?.[1] === undefined ? undefined : normalizeModuleName(m[1]);
}

export interface ModuleNode {
  name: string;
  depends: string[];
}

/**
 * Topological load order of `wanted` plus everything it depends on. `lookup` returns a
 * module's node (or undefined when the package lacks it); names in `builtin` are skipped
 * (and so are their dependencies, which are then built in as well).
 */
export async function orderModules(
  wanted: readonly string[],
  lookup: (name: string) => Promise<ModuleNode | undefined>,
  builtin: ReadonlySet<string>,
): Promise<{ order: string[]; builtin: string[] }> {
  const order: string[] = [];
  const skipped = new Set<string>();
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = async (name: string, chain: string[]): Promise<void> => {
    if (builtin.has(name)) {
      skipped.add(name);
      return;
    }
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') throw new VesselError('IMAGE_BUILD_FAILED', `module dependency cycle: ${[...chain, name].join(' -> ')}`);
    state.set(name, 'visiting');
    const node = await lookup(name);
    if (node === undefined) {
      const via = chain.length > 0 ? ` (needed by ${chain[chain.length - 1]})` : '';
      throw new VesselError('IMAGE_BUILD_FAILED', `kernel module ${name}${via} is neither in the kernel package nor built in`);
    }
    for (const dep of [...new Set(node.depends.map(normalizeModuleName))].sort()) await visit(dep, [...chain, name]);
    state.set(name, 'done');
    order.push(name);
  };
  for (const w of [...new Set(wanted.map(normalizeModuleName))].sort()) await visit(w, []);
  return { order, builtin: [...skipped].sort() };
}

export interface CollectedModule {
  name: string;
  /** Path inside the guest, absolute, always ending in ".ko". */
  guestPath: string;
  data: Buffer;
  depends: string[];
}

async function walk(dir: string, rel: string, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const e of entries) {
    const r = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) await walk(dir, r, out);
    else if (e.isFile()) out.push(r);
  }
}

async function decompress(file: string): Promise<Buffer> {
  if (file.endsWith('.ko')) return fs.readFile(file);
  if (file.endsWith('.ko.gz')) return zlib.gunzipSync(await fs.readFile(file));
  if (file.endsWith('.ko.xz')) return run('xz', ['-dc', '--', file], { maxBuffer: 256 << 20 });
  if (file.endsWith('.ko.zst')) return run('zstd', ['-dcq', '--', file], { maxBuffer: 256 << 20 });
  throw new VesselError('IMAGE_BUILD_FAILED', `unknown module compression: ${file}`);
}

/**
 * Reads `wanted` (and their dependencies) from `<root>/lib/modules/<release>`.
 * `onModule(done, total)` reports progress while the modules are read.
 */
export async function collectModules(
  root: string,
  release: string,
  wanted: readonly string[],
  onModule?: (done: number, total: number) => void,
): Promise<{ modules: CollectedModule[]; builtin: string[] }> {
  const modDir = path.join(root, 'lib', 'modules', release);
  const files: string[] = [];
  await walk(modDir, 'kernel', files);
  await walk(modDir, 'updates', files);
  const byName = new Map<string, string>();
  for (const f of files.sort()) {
    const n = moduleNameOfPath(f);
    if (n !== undefined && !byName.has(n)) byName.set(n, f);
  }
  let builtinText = '';
  try {
    builtinText = await fs.readFile(path.join(modDir, 'modules.builtin'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const builtin = new Set(
    builtinText
      .split('\n')
      .map((l) => moduleNameOfPath(l.trim()))
      .filter((n): n is string => n !== undefined),
  );

  const loaded = new Map<string, CollectedModule>();
  const lookup = async (name: string): Promise<ModuleNode | undefined> => {
    const rel = byName.get(name);
    if (rel === undefined) return undefined;
    const data = await decompress(path.join(modDir, rel));
    let depends: string[];
    try {
      depends = moduleDepends(data);
    } catch (err) {
      throw new VesselError('IMAGE_BUILD_FAILED', `cannot read module info of ${rel}: ${(err as Error).message}`, { cause: err });
    }
    const guestRel = rel.replace(/\.ko\.(xz|zst|gz)$/, '.ko');
    loaded.set(name, { name, guestPath: `/lib/modules/${release}/${guestRel}`, data, depends });
    onModule?.(loaded.size, Math.max(loaded.size, wanted.length));
    return { name, depends };
  };
  const { order, builtin: skipped } = await orderModules(wanted, lookup, builtin);
  return { modules: order.map((n) => loaded.get(n)!), builtin: skipped };
}
