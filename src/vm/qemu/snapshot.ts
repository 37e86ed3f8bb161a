// Saving a running VM (QemuInstance.snapshot): the agent hands its host session over
// (Detach: the guest then waits for the next host on its port, which is what a restored copy
// finds), QEMU stops the vCPUs and writes the device state with QMP `migrate` to a file;
// the RAM is copied from QEMU's shared memfd while the VM stands still (`mapped`: QEMU's
// x-ignore-shared keeps it out of the stream) or goes into the stream (`stream`: a VM whose
// RAM is not a shared memfd, e.g. one itself restored from a snapshot); the writable staged
// disks are copied (reflinked where the filesystem can) at the same moment. Then the VM
// runs on (leaveRunning: QMP cont and a new agent session) or the caller shuts it down.
// Everything is written into a private temp dir beside the target, the manifest last
// (snapshot-manifest.ts), and renamed into place: a failed snapshot leaves no dir behind.
import fs from 'node:fs';
import path from 'node:path';
import { VesselError } from '../../errors/index.js';
import type { VmConfig } from '../config.js';
import type { SnapshotOptions, SnapshotResult } from '../extras.js';
import type { Accelerator } from './accelerator.js';
import type { MachineType } from './command-line.js';
import { copyPrivate, type StagedDisk } from './disks.js';
import type { QmpClient } from './qmp.js';
import {
  MANIFEST_FILE,
  RAM_FILE,
  SNAPSHOT_FORMAT,
  SNAPSHOT_VERSION,
  STATE_FILE,
  describeFiles,
  type RamCapture,
  type SnapshotDisk,
  type SnapshotManifest,
} from './snapshot-manifest.js';

export type { SnapshotOptions, SnapshotResult };

/** The running VM as snapshot() sees it (QemuInstance hands it in). */
export interface SnapshotSource {
  qemuPid: number;
  qmp: QmpClient;
  config: VmConfig;
  stagedDisks: readonly StagedDisk[];
  imageId: string;
  qemuVersion: string;
  machine: MachineType;
  accelerator: Accelerator;
  cpuModel: string | undefined;
  cmdline: string;
  /** The RAM is QEMU's shared memfd (false: mapped from a snapshot, privately). */
  sharedRam: boolean;
  /** Ends the host's agent session so that the guest waits for the next host (Detach). */
  detachAgent: () => Promise<void>;
  /** Connects a new agent session (after cont). */
  reconnectAgent: () => Promise<void>;
}

/** Bounds of the steps (TCG: saving 256 MiB into the stream takes ~0.8 s). */
const DETACH_MS = 10_000;
const MIGRATE_MS = 120_000;

/** FAILED_PRECONDITION when the VM has devices a snapshot cannot carry yet. */
export function checkSnapshottable(config: VmConfig): void {
  if (config.shares.length)
    throw new VesselError(
      'FAILED_PRECONDITION',
      `a VM with shares cannot be saved yet (vhost-user-fs is not migratable on this QEMU): shares ${config.shares.map((s) => s.tag).join(', ')}`,
    );
  if (config.nics.length || config.passtNics.length)
    throw new VesselError('FAILED_PRECONDITION', 'a VM with NICs cannot be saved yet (snapshots carry no NICs)');
}

/** The target dir must not exist; its parent must. */
function checkTarget(dir: string): void {
  if (fs.existsSync(dir)) throw new VesselError('ALREADY_EXISTS', `snapshot dir ${dir} exists already`);
  const parent = path.dirname(dir);
  if (!fs.existsSync(parent)) throw new VesselError('INVALID_ARGUMENT', `the parent of snapshot dir ${dir} does not exist`);
}

/** sh single quotes (QEMU runs `exec:` URIs with /bin/sh -c). */
function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** QEMU's shared RAM file: the fd of its memfd whose size is the guest RAM. */
function memfdPath(pid: number, bytes: number): string {
  const dir = `/proc/${pid}/fd`;
  for (const fd of fs.readdirSync(dir)) {
    const p = path.join(dir, fd);
    let target: string;
    try {
      target = fs.readlinkSync(p);
    } catch {
      continue;
    }
    if (target.startsWith('/memfd:') && fs.statSync(p).size === bytes) return p;
  }
  throw new VesselError('INTERNAL', `QEMU (pid ${pid}) holds no memfd of ${bytes} bytes: its RAM cannot be copied`);
}

/**
 * Writes the VM's state into `file` with QMP migrate, waiting for QEMU's MIGRATION event
 * (the `events` capability) that says it completed or failed.
 */
export async function migrateTo(qmp: QmpClient, file: string, ignoreShared: boolean): Promise<void> {
  fs.writeFileSync(file, '', { mode: 0o600 }); // `cat >` keeps the mode of a file that exists
  await qmp.execute('migrate-set-capabilities', {
    capabilities: [
      { capability: 'x-ignore-shared', state: ignoreShared },
      { capability: 'events', state: true },
    ],
  });
  const settled = migrationSettled(qmp, MIGRATE_MS);
  await qmp.execute('migrate', { uri: `exec:cat > ${shQuote(file)}` });
  try {
    await settled.done;
  } catch (err) {
    await qmp.execute('migrate_cancel').catch(() => undefined);
    throw err;
  }
}

/** Resolves on the MIGRATION event `completed`, rejects on `failed`/`cancelled`, QMP closing or after `ms`. */
export function migrationSettled(qmp: QmpClient, ms: number): { done: Promise<void> } {
  const done = new Promise<void>((resolve, reject) => {
    const finish = (err?: Error) => {
      clearTimeout(timer);
      qmp.off('event', onEvent);
      qmp.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onEvent = (e: { event: string; data?: Record<string, unknown> }) => {
      if (e.event !== 'MIGRATION') return;
      const status = e.data?.status;
      if (status === 'completed') finish();
      else if (status === 'failed' || status === 'cancelled')
        void qmp
          .execute<{ 'error-desc'?: string }>('query-migrate')
          .catch(() => ({}) as { 'error-desc'?: string })
          .then((r) => finish(new VesselError('INTERNAL', `the VM state transfer ${String(status)}${r['error-desc'] ? `: ${r['error-desc']}` : ''}`)));
    };
    const onClose = () => finish(new VesselError('VM_EXITED', 'QEMU exited during the VM state transfer'));
    const timer = setTimeout(() => finish(new VesselError('DEADLINE_EXCEEDED', `the VM state transfer took longer than ${ms} ms`)), ms);
    qmp.on('event', onEvent);
    qmp.on('close', onClose);
  });
  done.catch(() => undefined);
  return { done };
}

/**
 * Saves `src` into `dir` (see the file comment). Resolves once the dir is complete; the VM
 * then runs again (leaveRunning) or stands stopped for the caller to shut down. On failure
 * nothing is left at `dir`, and the VM is let run again.
 */
export async function takeSnapshot(src: SnapshotSource, dirArg: string, opts: SnapshotOptions): Promise<SnapshotResult> {
  checkSnapshottable(src.config);
  const dir = path.resolve(dirArg);
  checkTarget(dir);
  const ram: RamCapture = opts.ram ?? (src.sharedRam ? 'mapped' : 'stream');
  if (ram === 'mapped' && !src.sharedRam) throw new VesselError('FAILED_PRECONDITION', 'this VM maps its RAM from a snapshot: save it with ram: "stream"');
  const tmp = await fs.promises.mkdtemp(path.join(path.dirname(dir), `.${path.basename(dir)}.partial-`));
  let stoppedAt: number | undefined;
  let detached = false;
  let resumed = false;
  const resume = async () => {
    if (resumed) return;
    resumed = true;
    if (stoppedAt !== undefined) await src.qmp.execute('cont');
    if (detached) await src.reconnectAgent();
  };
  try {
    await fs.promises.chmod(tmp, 0o700);
    await withinMs(src.detachAgent(), DETACH_MS, 'the agent did not hand its session over');
    detached = true;
    await src.qmp.execute('stop');
    stoppedAt = performance.now();
    await migrateTo(src.qmp, path.join(tmp, STATE_FILE), ram === 'mapped');
    const copies: Promise<void>[] = [];
    if (ram === 'mapped') copies.push(copyPrivate(memfdPath(src.qemuPid, src.config.ramMiB * 1024 * 1024), path.join(tmp, RAM_FILE)));
    const disks: SnapshotDisk[] = [];
    for (const d of src.stagedDisks) {
      if (d.readOnly) {
        const st = fs.statSync(d.path);
        disks.push({ blockId: d.blockId, format: d.format, readOnly: true, capture: 'referenced', path: d.path, size: st.size, mtimeMs: st.mtimeMs });
      } else {
        const file = `disk-${d.blockId}.${d.format}`;
        copies.push(copyPrivate(d.path, path.join(tmp, file)));
        disks.push({ blockId: d.blockId, format: d.format, readOnly: false, capture: 'copied', file });
      }
    }
    await Promise.all(copies);
    let pausedMs = performance.now() - stoppedAt;
    if (opts.leaveRunning) {
      await resume();
      pausedMs = performance.now() - stoppedAt;
    }
    const names = (await fs.promises.readdir(tmp)).sort();
    const manifest: SnapshotManifest = {
      format: SNAPSHOT_FORMAT,
      version: SNAPSHOT_VERSION,
      createdAt: new Date().toISOString(),
      image: { id: src.imageId },
      qemu: { version: src.qemuVersion },
      vm: {
        machine: src.machine,
        accelerator: src.accelerator,
        cpuModel: src.cpuModel ?? null,
        cpus: src.config.cpus,
        ramMiB: src.config.ramMiB,
        cmdline: src.cmdline,
      },
      ram: { capture: ram },
      disks,
      files: await describeFiles(tmp, names),
    };
    const manifestFile = path.join(tmp, MANIFEST_FILE);
    await fs.promises.writeFile(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    const fh = await fs.promises.open(manifestFile, 'r');
    await fh.sync();
    await fh.close();
    await fs.promises.rename(tmp, dir);
    const bytes = (await Promise.all([...names, MANIFEST_FILE].map(async (n) => (await fs.promises.stat(path.join(dir, n))).blocks * 512))).reduce(
      (a, b) => a + b,
      0,
    );
    return { dir, ram, pausedMs, bytes };
  } catch (err) {
    await fs.promises.rm(tmp, { recursive: true, force: true });
    // The VM runs on after a failed snapshot (it was stopped, or detached from the agent).
    await resume().catch(() => undefined);
    throw err instanceof VesselError ? err : new VesselError('INTERNAL', `snapshot failed: ${(err as Error).message}`, { cause: err });
  }
}

function withinMs<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new VesselError('DEADLINE_EXCEEDED', `${what} within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
