// The output of a helper that outlives vessel (live restore) cannot go to a pipe: the
// reader dies with vessel, and a helper writing to a broken pipe gets EPIPE or SIGPIPE.
// It goes to `<stateDir>/logs/<name>.log` (0600, appended) instead, where any later owner
// reads its tail for error messages.
import fs from 'node:fs';
import path from 'node:path';

export function helperLogPath(stateDir: string, name: string): string {
  return path.join(stateDir, 'logs', `${name}.log`);
}

/** Opens (creating) the log for appending; the caller passes the fd to the child and closes it. */
export function openHelperLog(stateDir: string, name: string): number {
  fs.mkdirSync(path.join(stateDir, 'logs'), { recursive: true, mode: 0o700 });
  return fs.openSync(helperLogPath(stateDir, name), fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND, 0o600);
}

/** The last `maxBytes` of the log as text ('' when there is none). */
export function helperLogTail(stateDir: string, name: string, maxBytes = 8 * 1024): string {
  let fd: number;
  try {
    fd = fs.openSync(helperLogPath(stateDir, name), 'r');
  } catch {
    return '';
  }
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(maxBytes, size));
    const n = fs.readSync(fd, buf, 0, buf.length, size - buf.length);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}
