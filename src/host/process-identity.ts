// Identity of a process: pid plus its start time (field 22 of /proc/<pid>/stat), so that a
// recorded pid is never confused with an unrelated process that reused the number.
import fs from 'node:fs';

export interface ProcessIdentity {
  pid: number;
  /** Clock ticks since boot at which the process started. */
  startTime: string;
}

/** The start time of `pid`, or undefined when it does not exist (or is a zombie being reaped). */
export function processStartTime(pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may contain spaces and parentheses: fields after it start past the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field 22 is rest[19].
  if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
  return rest[19];
}

/** PF_EXITING in field 9 (flags) of /proc/<pid>/stat: the process has begun to exit. */
const PF_EXITING = 0x4;

/**
 * True while `pid` runs and has not begun to exit. A process closes its file descriptors
 * in the middle of exiting, before it is a zombie, so a peer that saw them close (a helper
 * at the other end of a socket) sees it exiting here, never still running.
 */
export function processRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field 9 (flags) is rest[6].
  return rest[0] !== 'Z' && rest[0] !== 'X' && (Number(rest[6]) & PF_EXITING) === 0;
}

/** True when the process recorded as `id` is still the same live process. */
export function isAlive(id: ProcessIdentity): boolean {
  return processStartTime(id.pid) === id.startTime;
}

/**
 * True when some live process has this pid. Only for records that kept no start time (a pid
 * in a file name): it cannot tell the recorded process from a later one that reused the pid.
 */
export function pidExists(pid: number): boolean {
  return processStartTime(pid) !== undefined;
}

export function selfIdentity(): ProcessIdentity {
  return { pid: process.pid, startTime: processStartTime(process.pid) ?? '' };
}
