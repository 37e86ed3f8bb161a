// Where one shim keeps its things. The ttrpc socket lives under /run/vessel/shim with a
// name derived from namespace and id (bundle paths are too long for sun_path); the VM's
// state dir is <bundle>/vm, unless its sockets would not fit in sun_path (108 bytes), then
// a short dir under /run/vessel/vm with <bundle>/vm a symlink to it.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const RUN_DIR = process.env.VESSEL_SHIM_RUN_DIR ?? '/run/vessel';
const SUN_PATH_MAX = 107;
const LONGEST_VM_SOCKET = 'net-99.sock';

function shortName(namespace: string, id: string): string {
  return createHash('sha256').update(`${namespace}/${id}`).digest('hex').slice(0, 24);
}

export function shimSocketPath(namespace: string, id: string): string {
  return path.join(RUN_DIR, 'shim', `${shortName(namespace, id)}.sock`);
}

export function bundleVmLink(bundle: string): string {
  return path.join(bundle, 'vm');
}

/** Creates the VM state dir (0700) for a bundle and returns it. */
export function createVmStateDir(bundle: string, namespace: string, id: string): string {
  const inBundle = bundleVmLink(bundle);
  if (path.join(inBundle, LONGEST_VM_SOCKET).length <= SUN_PATH_MAX) {
    fs.mkdirSync(inBundle, { mode: 0o700 });
    return inBundle;
  }
  const short = path.join(RUN_DIR, 'vm', shortName(namespace, id));
  fs.mkdirSync(short, { recursive: true, mode: 0o700 });
  fs.symlinkSync(short, inBundle);
  return short;
}

/** The VM state dir of a bundle, if one was made (following the symlink). */
export function existingVmStateDir(bundle: string): string | undefined {
  try {
    return fs.realpathSync(bundleVmLink(bundle));
  } catch {
    return undefined;
  }
}

export function ensureRunDir(): void {
  fs.mkdirSync(path.join(RUN_DIR, 'shim'), { recursive: true, mode: 0o700 });
}
