// Disk staging: a writable disk is never the caller's file. It is copied (reflinked where
// the filesystem can, holes kept) into `<stateDir>/disks/` before boot; ephemeral copies
// are deleted at shutdown and after a failed start, persistent ones (ephemeral: false)
// stay and are reused by the next instance on the same state dir. Read-only disks are
// used in place: QEMU opens them read-only. A staging that fails leaves nothing behind (no
// partial copy; the staging dir goes once empty); a full filesystem is RESOURCE_EXHAUSTED.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { VesselError } from '../../errors/index.js';
import type { DiskConfig } from '../config.js';
import type { PlannedDisk } from './command-line.js';

const run = promisify(execFile);

export interface StagedDisk extends PlannedDisk {
  /** Set when `path` is a staged copy that shutdown must delete. */
  deleteOnShutdown: boolean;
}

/**
 * Copies `from` to a new file `to` (0600), reflinked where the filesystem can, holes kept.
 * cp's messages stay in English (LC_ALL=C), as stagingError reads them.
 */
export async function copyPrivate(from: string, to: string): Promise<void> {
  await run('cp', ['--reflink=auto', '--sparse=always', '--', from, to], { env: { ...process.env, LC_ALL: 'C' } });
  await fs.promises.chmod(to, 0o600);
}

export function disksDir(stateDir: string): string {
  return path.join(stateDir, 'disks');
}

export async function stageDisk(stateDir: string, d: DiskConfig): Promise<StagedDisk> {
  if (d.readOnly) return { blockId: d.blockId, path: d.hostPath, format: d.format, readOnly: true, deleteOnShutdown: false };
  const dir = disksDir(stateDir);
  await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
  const dst = path.join(dir, `${d.blockId}.${d.format}`);
  const staged: StagedDisk = { blockId: d.blockId, path: dst, format: d.format, readOnly: false, deleteOnShutdown: d.ephemeral };
  if (!d.ephemeral && fs.existsSync(dst)) return staged;
  const tmp = `${dst}.staging`;
  try {
    await copyPrivate(d.hostPath, tmp);
    await fs.promises.rename(tmp, dst);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    await removeIfEmpty(dir);
    throw await stagingError(d, dir, err);
  }
  return staged;
}

/**
 * The error for a failed staging: RESOURCE_EXHAUSTED when the state dir's filesystem is full
 * (or the quota used up), saying how much the copy needs and how much was free; START_FAILED
 * otherwise.
 */
async function stagingError(d: DiskConfig, dir: string, err: unknown): Promise<VesselError> {
  const detail = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT' || /No space left on device|Disk quota exceeded/.test(detail)) {
    const need = await fs.promises.stat(d.hostPath).then(
      (st) => mib(st.blocks * 512),
      () => '?',
    );
    // (the staging dir is gone by now: its filesystem is the state dir's)
    const free = await fs.promises.statfs(path.dirname(dir)).then(
      (st) => mib(st.bavail * st.bsize),
      () => '?',
    );
    return new VesselError(
      'RESOURCE_EXHAUSTED',
      `no space left staging disk ${d.blockId} (${need} MiB allocated in ${d.hostPath}) into ${dir} (${free} MiB free there); nothing was left behind: ${detail}`,
      { cause: err },
    );
  }
  return new VesselError('START_FAILED', `cannot stage disk ${d.blockId} from ${d.hostPath}: ${detail}`, { cause: err });
}

function mib(bytes: number): string {
  return (bytes / (1 << 20)).toFixed(1);
}

/** Removes `dir` if it is empty (a staging dir nothing else uses). */
async function removeIfEmpty(dir: string): Promise<void> {
  await fs.promises.rmdir(dir).catch(() => undefined); // ENOTEMPTY: others' disks are there
}

/** Deletes the ephemeral staged copies, and the staging dir once nothing is left in it. */
export async function removeStagedDisks(disks: readonly StagedDisk[]): Promise<void> {
  const deleted = disks.filter((d) => d.deleteOnShutdown);
  await Promise.all(deleted.map((d) => fs.promises.rm(d.path, { force: true })));
  for (const dir of new Set(deleted.map((d) => path.dirname(d.path)))) await removeIfEmpty(dir);
}
