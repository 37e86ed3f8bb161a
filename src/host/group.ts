// Host groups by name, as the system resolves them (NSS through `getent`: /etc/group, but
// also LDAP or sssd where configured), and whether a group can reach a path.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { VesselError } from '../errors/index.js';

/** The gid of group `name`, or undefined when the system knows no such group. */
export function groupId(name: string): number | undefined {
  if (name === '' || /[:\s]/.test(name)) return undefined;
  const r = spawnSync('getent', ['group', '--', name], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) throw new VesselError('TOOL_MISSING', `cannot look group ${name} up: getent: ${r.error.message}`, { cause: r.error });
  if (r.status === 2) return undefined; // getent: key not found
  const gid = Number(r.stdout.split(':')[2]);
  if (r.status !== 0 || !Number.isInteger(gid))
    throw new VesselError('INTERNAL', `getent group ${name} failed (status ${r.status}): ${r.stderr.trim() || r.stdout.trim()}`);
  return gid;
}

/**
 * The first directory from `/` down to `dir` that members of group `gid` cannot search
 * (no x bit for them: neither for others, nor for the group when it owns the directory),
 * or undefined when they can reach into `dir`. Root's owner bits are not theirs.
 */
export function unreachableBy(gid: number, dir: string): string | undefined {
  const chain: string[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    chain.unshift(d);
    if (d === path.dirname(d)) break;
  }
  for (const d of chain) {
    const st = fs.statSync(d);
    if (!(st.mode & 0o001 || (st.gid === gid && st.mode & 0o010))) return d;
  }
  return undefined;
}
