// What each soak exec of bench/soak runs, and the host dir it reads from: `cat` echoes the
// random bytes sent on stdin to stdout, then a file of the VM's virtio-fs share goes to
// stderr (so virtiofsd serves every exec). soakExecProblem says what is wrong with an
// outcome, or undefined when it is exact.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const SHARE_TAG = 'soak';
const SHARE_FILE = 'f';
const SHARE_TEXT = 'served by virtiofsd\n'.repeat(8);
export const SOAK_ARGS = ['/bin/sh', '-c', `cat; cat /mnt/${SHARE_TAG}/${SHARE_FILE} >&2`];

/** Makes `<parent>/share` with the file the soak exec reads; returns its path. */
export function makeShare(parent: string): string {
  const share = path.join(parent, 'share');
  fs.mkdirSync(share);
  fs.writeFileSync(path.join(share, SHARE_FILE), SHARE_TEXT);
  return share;
}

export interface SoakOutcome {
  exitCode: number | undefined;
  signal: number | undefined;
  stdoutSha256: string;
  stdoutBytes: number;
  stderr: string;
}

export function sha256(b: Buffer): string {
  return crypto.createHash('sha256').update(b).digest('hex');
}

export function soakExecProblem(payload: Buffer, r: SoakOutcome): string | undefined {
  if (r.exitCode !== 0 || r.signal !== 0) return `exited ${r.exitCode} (signal ${r.signal}); stderr: ${r.stderr.slice(0, 400)}`;
  if (r.stdoutSha256 !== sha256(payload)) return `stdout (${r.stdoutBytes} bytes) is not the ${payload.length} bytes sent on stdin`;
  if (r.stderr !== SHARE_TEXT) return `stderr is not the share's file: ${JSON.stringify(r.stderr.slice(0, 400))}`;
  return undefined;
}
