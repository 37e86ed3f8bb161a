// Disk staging: a writable disk is never the caller's file. It is copied (reflinked where
// the filesystem can, holes kept) into `<stateDir>/disks/` before boot; ephemeral copies
// are deleted at shutdown and after a failed start, persistent ones (ephemeral: false)
// stay and are reused by the next instance on the same state dir. Read-only disks are
// used in place: QEMU opens them read-only.
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
    await run('cp', ['--reflink=auto', '--sparse=always', '--', d.hostPath, tmp]);
    await fs.promises.chmod(tmp, 0o600);
    await fs.promises.rename(tmp, dst);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    const detail = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    throw new VesselError('START_FAILED', `cannot stage disk ${d.blockId} from ${d.hostPath}: ${detail}`, { cause: err });
  }
  return staged;
}

export async function removeStagedDisks(disks: readonly StagedDisk[]): Promise<void> {
  await Promise.all(disks.filter((d) => d.deleteOnShutdown).map((d) => fs.promises.rm(d.path, { force: true })));
}
