// One virtiofsd per share (it serves one vhost-user connection, then exits). Read-only
// shares are enforced on the host too: virtiofsd runs in a private mount namespace in
// which the shared directory is a read-only bind mount of itself, so a guest that remounts
// its share read-write still cannot change a byte on the host.
import type { Logger } from 'pino';
import { waitForSocketPath } from '../../transport/index.js';
import { SupervisedHelper } from '../helpers/supervised.js';
import { OutputTail } from './output-tail.js';

export interface VirtiofsdOptions {
  binary: string;
  stateDir: string;
  tag: string;
  index: number;
  hostPath: string;
  readOnly: boolean;
  socketPath: string;
  deadline: number;
  /** Outlive vessel (live restore: SupervisedHelper's `detached`). */
  detached?: boolean;
  logger?: Logger;
}

// $1 = directory, $2.. = the virtiofsd command. Runs inside `unshare --mount`.
const READ_ONLY_WRAPPER = 'mount --bind -- "$1" "$1" && mount -o remount,bind,ro -- "$1" && shift && exec "$@"';

export function virtiofsdCommand(o: Pick<VirtiofsdOptions, 'binary' | 'hostPath' | 'readOnly' | 'socketPath'>): { command: string; args: string[] } {
  const daemon = [o.binary, `--socket-path=${o.socketPath}`, '-o', `source=${o.hostPath}`, '-o', 'cache=auto', '-o', 'sandbox=namespace'];
  if (!o.readOnly) return { command: daemon[0]!, args: daemon.slice(1) };
  return { command: 'unshare', args: ['--mount', '--propagation', 'private', '--', 'sh', '-c', READ_ONLY_WRAPPER, 'sh', o.hostPath, ...daemon] };
}

export async function startVirtiofsd(o: VirtiofsdOptions): Promise<{ process: SupervisedHelper; tail: OutputTail }> {
  const { command, args } = virtiofsdCommand(o);
  const proc = await SupervisedHelper.spawn({ name: `virtiofsd-${o.index}`, command, args, stateDir: o.stateDir, detached: o.detached, logger: o.logger });
  const tail = new OutputTail(16 * 1024);
  proc.child.stdout?.on('data', (c: Buffer) => tail.push(c));
  proc.child.stderr?.on('data', (c: Buffer) => tail.push(c));
  try {
    await waitForSocketPath(o.socketPath, { deadline: o.deadline, alive: () => !proc.hasExited, what: `virtiofsd socket for share ${o.tag}` });
  } catch (err) {
    await proc.stop(0);
    throw Object.assign(err as Error, { message: `${(err as Error).message}: ${(tail.text() || proc.loggedOutput()).trim() || 'no output'}` });
  }
  return { process: proc, tail };
}
