// What bench/soak reads about host processes from /proc: open fds and RSS of a pid, the
// whole process tree under a pid (zombies included: an unreaped child is a leak too), and
// the mount points under a directory.
import fs from 'node:fs';
import path from 'node:path';

export interface TreeProcess {
  pid: number;
  ppid: number;
  comm: string;
  /** /proc/PID/stat state letter (R, S, D, Z, ...). */
  state: string;
}

function readStat(pid: number): TreeProcess | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, ppid: Number(rest[1]), comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), state: rest[0]! };
  } catch {
    return undefined; // exited while listing
  }
}

/** Every process below `root` (children, their children, ...), zombies included. */
export function descendants(root: number): TreeProcess[] {
  const all = fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readStat(Number(d)))
    .filter((p): p is TreeProcess => p !== undefined);
  const below = new Set([root]);
  const out: TreeProcess[] = [];
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all) {
      if (below.has(p.ppid) && !below.has(p.pid)) {
        below.add(p.pid);
        out.push(p);
        grew = true;
      }
    }
  }
  return out;
}

/** Open file descriptors of `pid`. */
export function fdCount(pid: number | 'self'): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** Resident set size of `pid` in KiB (VmRSS; anonymous, file and shared memory pages). */
export function rssKiB(pid: number | 'self'): number {
  const line = fs
    .readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  if (!line) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(line.split(/\s+/)[1]);
}

/** Mount points at or under `dir` in `pid`'s mount namespace (mountinfo field 5, octal escapes decoded). */
export function mountsUnder(dir: string, pid: number | 'self' = 'self'): string[] {
  const prefix = path.resolve(dir);
  return fs
    .readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ')[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => m === prefix || m.startsWith(`${prefix}/`));
}

/** Counts by name, e.g. { qemu-system-x86: 1, virtiofsd: 1 }. */
export function countByComm(procs: TreeProcess[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of procs) out[p.comm] = (out[p.comm] ?? 0) + 1;
  return out;
}

export function growthPct(before: number, after: number): number {
  return ((after - before) / before) * 100;
}
