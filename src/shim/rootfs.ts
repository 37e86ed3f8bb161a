// The container's rootfs on the host: Create.rootfs mounted at <bundle>/rootfs with
// mount(8) (overlay: `-t overlay -o lowerdir=…,upperdir=…`; native snapshotter: a bind
// with `rbind,rw`), unmounted on Delete and by `delete` after a crash.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { VesselError } from '../errors/index.js';

const run = promisify(execFile);

export interface RootfsMount {
  type: string;
  source: string;
  target?: string;
  options: string[];
}

export async function mountRootfs(mounts: RootfsMount[], target: string): Promise<void> {
  if (mounts.length !== 1) {
    throw new VesselError('INVALID_ARGUMENT', `expected exactly one rootfs mount, got ${mounts.length} (a pre-mounted rootfs is not supported)`);
  }
  const m = mounts[0]!;
  if (!/^[a-z0-9]+$/.test(m.type)) throw new VesselError('INVALID_ARGUMENT', `bad rootfs mount type ${JSON.stringify(m.type)}`);
  fs.mkdirSync(target, { recursive: true });
  const args = ['-t', m.type];
  if (m.options.length > 0) args.push('-o', m.options.join(','));
  args.push('--', m.source, target);
  try {
    await run('mount', args);
  } catch (err) {
    throw new VesselError('INTERNAL', `mounting the rootfs (${m.type}) at ${target}: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`);
  }
}

export function isMountPoint(dir: string): boolean {
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    if (line.split(' ')[4]?.replace(/\\040/g, ' ') === dir) return true;
  }
  return false;
}

/** Unmounts everything stacked on `target`; a no-op when nothing is mounted there. */
export async function unmountRootfs(target: string): Promise<void> {
  while (isMountPoint(target)) {
    try {
      await run('umount', [target]);
    } catch {
      await run('umount', ['-l', target]).catch((err: { stderr?: string }) => {
        throw new VesselError('INTERNAL', `unmounting ${target}: ${err.stderr?.trim()}`);
      });
    }
  }
}
