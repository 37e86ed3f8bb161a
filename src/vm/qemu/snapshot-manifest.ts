// The snapshot's manifest (`manifest.json` in the snapshot dir): what a restore needs to
// start the same VM again and to know it may — the format version, the VM's shape (CPUs,
// RAM, machine, accelerator, CPU model, the exact kernel command line), the guest image id,
// the QEMU version, how the RAM was saved, each disk and how its contents were captured
// (writable ones copied into the dir while the VM stood still, read-only ones referenced by
// path, size and mtime), and the size and sha256 of every other file in the dir. Reading
// one back checks all of it: SNAPSHOT_CORRUPT for a malformed manifest or a file that is
// missing, resized or fails its sha256; SNAPSHOT_MISMATCH for another image, QEMU or
// accelerator, or a referenced disk that changed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { VesselError } from '../../errors/index.js';
import { readJson } from '../../host/index.js';
import type { Accelerator } from './accelerator.js';
import type { MachineType } from './command-line.js';

export const SNAPSHOT_FORMAT = 'vessel-snapshot';
export const SNAPSHOT_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';
/** The device state (and, for `stream` RAM, the RAM) as QEMU's migration stream wrote it. */
export const STATE_FILE = 'state';
/** The guest RAM, byte for byte (holes where it was never written), for `mapped` RAM. */
export const RAM_FILE = 'ram';

/**
 * How the guest RAM was saved. `mapped`: in RAM_FILE, which a restored VM maps privately
 * (pages are read when touched, clones never write the file). `stream`: inside STATE_FILE.
 */
export type RamCapture = 'mapped' | 'stream';

export type SnapshotDisk =
  | { blockId: string; format: 'raw' | 'vmdk'; readOnly: false; capture: 'copied'; file: string }
  | { blockId: string; format: 'raw' | 'vmdk'; readOnly: true; capture: 'referenced'; path: string; size: number; mtimeMs: number };

export interface SnapshotManifest {
  format: typeof SNAPSHOT_FORMAT;
  version: typeof SNAPSHOT_VERSION;
  createdAt: string;
  image: { id: string };
  /** `qemu-system-* --version`'s first line. */
  qemu: { version: string };
  vm: { machine: MachineType; accelerator: Accelerator; cpuModel: string | null; cpus: number; ramMiB: number; cmdline: string };
  ram: { capture: RamCapture };
  disks: SnapshotDisk[];
  /** Every file of the dir but the manifest. */
  files: Array<{ name: string; size: number; sha256: string }>;
}

/** What a restore compares the manifest with. */
export interface RestoreHost {
  imageId: string;
  qemuVersion: string;
  accelerator: Accelerator;
  machine: MachineType;
  cpuModel: string | undefined;
}

export async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The size and sha256 of each named file of `dir`. */
export async function describeFiles(dir: string, names: string[]): Promise<SnapshotManifest['files']> {
  return Promise.all(
    names.map(async (name) => ({ name, size: (await fs.promises.stat(path.join(dir, name))).size, sha256: await sha256File(path.join(dir, name)) })),
  );
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isFileName = (v: unknown): v is string => typeof v === 'string' && v !== '' && v !== '.' && v !== '..' && !v.includes('/') && v !== MANIFEST_FILE;

function corrupt(dir: string, why: string): VesselError {
  return new VesselError('SNAPSHOT_CORRUPT', `snapshot ${dir}: ${why}`);
}

/** The manifest of the snapshot in `dir`, its form checked (not yet its files: verifyFiles). */
export function readManifest(dir: string): SnapshotManifest {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new VesselError('NOT_FOUND', `no snapshot at ${dir}`);
  }
  if (!st.isDirectory()) throw new VesselError('INVALID_ARGUMENT', `snapshot ${dir} is not a directory`);
  const raw = readJson(path.join(dir, MANIFEST_FILE));
  if (raw === undefined) throw corrupt(dir, `no readable ${MANIFEST_FILE}`);
  if (!isObject(raw) || raw.format !== SNAPSHOT_FORMAT) throw corrupt(dir, `${MANIFEST_FILE} is not a vessel snapshot manifest`);
  if (raw.version !== SNAPSHOT_VERSION)
    throw new VesselError('SNAPSHOT_MISMATCH', `snapshot ${dir} is format version ${String(raw.version)}; this vessel reads version ${SNAPSHOT_VERSION}`);
  const vm = raw.vm;
  const ok =
    isObject(raw.image) &&
    typeof raw.image.id === 'string' &&
    isObject(raw.qemu) &&
    typeof raw.qemu.version === 'string' &&
    isObject(vm) &&
    (vm.machine === 'microvm' || vm.machine === 'q35') &&
    (vm.accelerator === 'kvm' || vm.accelerator === 'tcg') &&
    (vm.cpuModel === null || typeof vm.cpuModel === 'string') &&
    Number.isInteger(vm.cpus) &&
    Number.isInteger(vm.ramMiB) &&
    typeof vm.cmdline === 'string' &&
    isObject(raw.ram) &&
    (raw.ram.capture === 'mapped' || raw.ram.capture === 'stream') &&
    Array.isArray(raw.disks) &&
    raw.disks.every(
      (d) =>
        isObject(d) &&
        typeof d.blockId === 'string' &&
        (d.format === 'raw' || d.format === 'vmdk') &&
        ((d.capture === 'copied' && d.readOnly === false && isFileName(d.file)) ||
          (d.capture === 'referenced' && d.readOnly === true && typeof d.path === 'string' && Number.isInteger(d.size) && typeof d.mtimeMs === 'number')),
    ) &&
    Array.isArray(raw.files) &&
    raw.files.every((f) => isObject(f) && isFileName(f.name) && Number.isInteger(f.size) && typeof f.sha256 === 'string');
  if (!ok) throw corrupt(dir, `${MANIFEST_FILE} is malformed`);
  const m = raw as unknown as SnapshotManifest;
  const names = new Set(m.files.map((f) => f.name));
  const needed = [STATE_FILE, ...(m.ram.capture === 'mapped' ? [RAM_FILE] : []), ...m.disks.flatMap((d) => (d.capture === 'copied' ? [d.file] : []))];
  for (const n of needed) if (!names.has(n)) throw corrupt(dir, `${MANIFEST_FILE} lists no ${n}`);
  return m;
}

/** SNAPSHOT_MISMATCH unless the snapshot was made for what `host` runs (and its referenced disks are unchanged). */
export function checkCompatible(dir: string, m: SnapshotManifest, host: RestoreHost): void {
  const mismatch = (why: string) => new VesselError('SNAPSHOT_MISMATCH', `snapshot ${dir} ${why}`);
  if (m.image.id !== host.imageId) throw mismatch(`was made from guest image ${m.image.id}, not ${host.imageId} (the image this manager boots)`);
  if (m.qemu.version !== host.qemuVersion) throw mismatch(`was made with ${m.qemu.version}, not ${host.qemuVersion}`);
  if (m.vm.accelerator !== host.accelerator) throw mismatch(`was made under ${m.vm.accelerator}, not ${host.accelerator}`);
  if (m.vm.machine !== host.machine) throw mismatch(`is of machine type ${m.vm.machine}, not ${host.machine}`);
  if ((m.vm.cpuModel ?? undefined) !== host.cpuModel)
    throw mismatch(`was made with CPU model ${m.vm.cpuModel ?? 'default'}, not ${host.cpuModel ?? 'default'}`);
  for (const d of m.disks) {
    if (d.capture !== 'referenced') continue;
    let st: fs.Stats;
    try {
      st = fs.statSync(d.path);
    } catch {
      throw mismatch(`references read-only disk ${d.blockId} at ${d.path}, which is gone`);
    }
    if (st.size !== d.size || st.mtimeMs !== d.mtimeMs)
      throw mismatch(`references read-only disk ${d.blockId} at ${d.path}, which changed since (size or mtime)`);
  }
}

/**
 * Files this process has hashed and found matching, by path, with what identifies that
 * version of the file (device, inode, size, mtime, ctime: any write or replacement changes
 * one of them): a template restored again and again is hashed once.
 */
const verified = new Map<string, string>();

function versionOf(st: fs.Stats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

/**
 * SNAPSHOT_CORRUPT unless every listed file is there with its size and sha256 (a file this
 * process verified before and that has not changed since is not hashed again).
 */
export async function verifyFiles(dir: string, m: SnapshotManifest): Promise<void> {
  await Promise.all(
    m.files.map(async (f) => {
      const file = path.join(dir, f.name);
      let st: fs.Stats;
      try {
        st = await fs.promises.stat(file);
      } catch {
        throw corrupt(dir, `${f.name} is missing`);
      }
      if (st.size !== f.size) throw corrupt(dir, `${f.name} is ${st.size} bytes, the manifest says ${f.size}`);
      const key = `${file}\0${f.sha256}`;
      if (verified.get(key) === versionOf(st)) return;
      if ((await sha256File(file)) !== f.sha256) throw corrupt(dir, `${f.name} does not match its sha256 (changed or damaged)`);
      const after = await fs.promises.stat(file);
      if (versionOf(after) === versionOf(st)) verified.set(key, versionOf(st));
    }),
  );
}
