// Host processes for leak checks: children of this process by name, and whether a pid
// still runs.
import fs from 'node:fs';

export interface HostProcess {
  pid: number;
  ppid: number;
  comm: string;
}

export function listProcesses(): HostProcess[] {
  const out: HostProcess[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (rest[0] === 'Z') continue;
      out.push({ pid: Number(d), ppid: Number(rest[1]), comm });
    } catch {
      // exited while listing
    }
  }
  return out;
}

const HELPER = /^(qemu-system|virtiofsd|passt)/;

/** VM helper processes (qemu, virtiofsd, passt) whose parent is this process. */
export function ownHelperProcesses(): HostProcess[] {
  return listProcesses().filter((p) => p.ppid === process.pid && HELPER.test(p.comm));
}

export function isRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** qemu and virtiofsd processes whose command line names a path under `dir` (as "pid comm"). */
export function vmHelpersUnder(dir: string): string[] {
  return listProcesses()
    .filter((p) => /^(qemu-system|virtiofsd)/.test(p.comm))
    .filter((p) => {
      try {
        return fs.readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    })
    .map((p) => `${p.pid} ${p.comm}`);
}
