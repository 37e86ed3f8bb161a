// Instance directories of the CLI: `$VESSEL_HOME/instances/<id>` (0700), one per `vessel
// run`, holding the VM's state dir contents plus `owner.json` (pid and start time of the
// vessel process using it). The owner file is written before anything else, so `vessel gc`
// can tell a live run (even one still building the image, with no helper started yet)
// from a dead one.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isAlive, selfIdentity, vesselHome, type ProcessIdentity } from '../host/index.js';

const OWNER_FILE = 'owner.json';

export function instancesDir(): string {
  return path.join(vesselHome(), 'instances');
}

export interface InstanceDir {
  id: string;
  dir: string;
}

/**
 * Creates a fresh instance dir owned by this process: written as a hidden temp dir with its
 * owner file, then renamed into place, so no one ever sees it without an owner.
 */
export function createInstanceDir(): InstanceDir {
  const parent = instancesDir();
  fs.mkdirSync(parent, { recursive: true, mode: 0o700 });
  const tmp = fs.mkdtempSync(path.join(parent, '.new-'));
  fs.chmodSync(tmp, 0o700); // mkdtemp makes 0700 already; be explicit about the contract
  const owner: ProcessIdentity = selfIdentity();
  fs.writeFileSync(path.join(tmp, OWNER_FILE), JSON.stringify(owner), { mode: 0o600 });
  for (;;) {
    const id = crypto.randomBytes(6).toString('hex');
    const dir = path.join(parent, id);
    try {
      fs.mkdirSync(dir, { mode: 0o700 }); // reserve the name (rename would replace an empty dir)
      fs.renameSync(tmp, dir);
      return { id, dir };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      fs.rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
  }
}

/** The live vessel process that created `dir`, if any. */
export function liveOwner(dir: string): ProcessIdentity | undefined {
  try {
    const o = JSON.parse(fs.readFileSync(path.join(dir, OWNER_FILE), 'utf8')) as ProcessIdentity;
    if (Number.isInteger(o.pid) && typeof o.startTime === 'string' && isAlive(o)) return o;
  } catch {
    // no (readable) owner file: nobody claims it
  }
  return undefined;
}

export function removeInstanceDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
