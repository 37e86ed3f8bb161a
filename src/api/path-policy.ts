// PathPolicy: which host paths `vessel serve` lets AddFS and AddDisk name (a client that
// may name any path may share `/` read-write: root on the host).
//  - any():   every path, passed on unchanged (the unix socket without --allow-path: only
//             whoever may already act as the daemon's user, or its --group, gets in).
//  - none():  every path refused (TCP without --allow-path).
//  - under(dirs): a path whose realpath is one of the dirs' realpaths (resolved once, when
//             the policy is made) or below it, so a symlink cannot lead out; a disk must
//             also be a regular file and not a VMDK (a VMDK descriptor names other host
//             files: extents, a parent image). The instance gets the checked realpath.
// Refusals are PERMISSION_DENIED naming the path; a bad request (relative, missing under an
// allowed dir) is INVALID_ARGUMENT. A guest with a writable share could swap a directory
// for a symlink after AddFS: recheck() at Start narrows that to the moment before spawn.
import fs from 'node:fs';
import path from 'node:path';
import { VesselError } from '../errors/index.js';

export interface HostPathRequest {
  /** The call, for messages: "AddFS" or "AddDisk". */
  call: 'AddFS' | 'AddDisk';
  hostPath: string;
  /** AddDisk only: the image is a VMDK. */
  vmdk?: boolean;
}

type Rule = { kind: 'any' } | { kind: 'none'; reason: string } | { kind: 'under'; dirs: readonly string[]; given: readonly string[] };

/** True when `p` is `dir` or lies below it (by whole components: /srv/data2 is not under /srv/data). */
export function isWithin(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);
}

function denied(message: string): VesselError {
  return new VesselError('PERMISSION_DENIED', message);
}

export class PathPolicy {
  private constructor(private readonly rule: Rule) {}

  /** Every path, unchanged: today's unix-socket behaviour. */
  static any(): PathPolicy {
    return new PathPolicy({ kind: 'any' });
  }

  /** Every path refused; `reason` says why and what to do (it ends each refusal's message). */
  static none(reason: string): PathPolicy {
    return new PathPolicy({ kind: 'none', reason });
  }

  /** Paths under these directories (absolute; each must exist and be a directory, else INVALID_ARGUMENT naming it). */
  static under(dirs: readonly string[]): PathPolicy {
    if (dirs.length === 0) throw new VesselError('INVALID_ARGUMENT', 'an allow list needs at least one directory');
    const real = dirs.map((d) => {
      if (!path.isAbsolute(d)) throw new VesselError('INVALID_ARGUMENT', `allowed path ${d} must be absolute`);
      let r: string;
      try {
        r = fs.realpathSync(d);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new VesselError(
          'INVALID_ARGUMENT',
          `allowed path ${d}: ${code === 'ENOENT' || code === 'ENOTDIR' ? 'no such directory' : (err as Error).message}`,
        );
      }
      if (!fs.statSync(r).isDirectory()) throw new VesselError('INVALID_ARGUMENT', `allowed path ${d} is not a directory`);
      return r;
    });
    return new PathPolicy({ kind: 'under', dirs: real, given: dirs.map((d) => path.resolve(d)) });
  }

  /** Whether any path is refused (the daemon logs it; InstanceInfo then shows realpaths). */
  get restricts(): boolean {
    return this.rule.kind !== 'any';
  }

  /** For the daemon's log: "any", "none" or the allowed realpaths. */
  describe(): string | readonly string[] {
    return this.rule.kind === 'under' ? this.rule.dirs : this.rule.kind;
  }

  /** The path to hand to the instance, or a VesselError (PERMISSION_DENIED when the policy refuses it). */
  async check(req: HostPathRequest): Promise<string> {
    const rule = this.rule;
    const { call, hostPath } = req;
    if (rule.kind === 'any') return hostPath;
    const what = `${call}: host path ${JSON.stringify(hostPath)}`;
    if (rule.kind === 'none') throw denied(`${what} refused: ${rule.reason}`);
    if (typeof hostPath !== 'string' || hostPath.length === 0 || hostPath.includes('\0'))
      throw new VesselError('INVALID_ARGUMENT', `${what} must be a non-empty path`);
    if (!path.isAbsolute(hostPath)) throw new VesselError('INVALID_ARGUMENT', `${what} must be absolute`);
    const allowed = `outside the allowed paths (--allow-path ${rule.given.join(', ')})`;
    const lexical = path.resolve(hostPath);
    let real: string;
    try {
      real = await fs.promises.realpath(lexical);
    } catch (err) {
      // Only say whether a path exists where the client may look.
      if (![...rule.dirs, ...rule.given].some((d) => isWithin(lexical, d))) throw denied(`${what} is ${allowed}`);
      const code = (err as NodeJS.ErrnoException).code;
      throw new VesselError(
        'INVALID_ARGUMENT',
        `${what} ${code === 'ENOENT' || code === 'ENOTDIR' ? 'does not exist' : `cannot be resolved: ${(err as Error).message}`}`,
      );
    }
    if (!rule.dirs.some((d) => isWithin(real, d))) throw denied(`${what}${real === lexical ? '' : ` resolves to ${real}, which`} is ${allowed}`);
    if (call === 'AddDisk') {
      if (req.vmdk)
        throw denied(`${what}: VMDK disks are refused under --allow-path (a VMDK names other host files: extents, a parent image); convert it to raw`);
      const st = await fs.promises.stat(real);
      if (!st.isFile()) throw denied(`${what} is not a regular file (under --allow-path a disk image must be one)`);
    }
    return real;
  }

  /** Checks again the paths an instance was configured with (each must still pass), before it starts. */
  async recheck(config: { shares: ReadonlyArray<{ hostPath: string }>; disks: ReadonlyArray<{ hostPath: string; format: string }> }): Promise<void> {
    if (this.rule.kind === 'any') return;
    const requests: HostPathRequest[] = [
      ...config.shares.map((s): HostPathRequest => ({ call: 'AddFS', hostPath: s.hostPath })),
      ...config.disks.map((d): HostPathRequest => ({ call: 'AddDisk', hostPath: d.hostPath, vmdk: d.format === 'vmdk' })),
    ];
    for (const req of requests) {
      try {
        await this.check(req);
      } catch (err) {
        if (err instanceof VesselError) throw new VesselError(err.code, `checked again at Start: ${err.message}`, { cause: err });
        throw err;
      }
    }
  }
}
