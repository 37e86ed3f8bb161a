// The vsock device's host backend: one vhost-device-vsock per VM (built by
// scripts/build-vhost-device-vsock.sh with the repo's deadlock fix), started before QEMU.
// It serves the vhost-user socket QEMU's vhost-user-vsock-device attaches to (one QEMU per
// socket: it removes the file once QEMU is attached) and the hybrid vsock socket the host
// connects through (src/transport/hybrid-vsock.ts). One per VM, not one shared: its death
// ends vsock for good for every VM it serves (QEMU 7.2 cannot re-attach the device), and the
// state dir and supervision of each VM stay its own. The guest's CID is set here only.
import type { Logger } from 'pino';
import { VesselError } from '../../errors/index.js';
import { waitForSocketPath } from '../../transport/index.js';
import { SupervisedHelper } from '../helpers/supervised.js';
import { OutputTail } from './output-tail.js';

/** The guest's CID (2 is the host; any CID >= 3 is the guest's, one backend per VM). */
export const GUEST_CID = 3;
/** Guest→host buffer per connection: 256 KiB doubled guest→host throughput; 1 MiB stalled (machine.md). */
export const TX_BUFFER_SIZE = 262144;

export interface VsockBackendOptions {
  binary: string;
  stateDir: string;
  /** The vhost-user socket QEMU attaches to. */
  socketPath: string;
  /** The hybrid vsock socket for host connections (guest-initiated ones arrive on `<udsPath>_<port>`). */
  udsPath: string;
  deadline: number;
  logger?: Logger;
}

export function vsockBackendArgs(o: Pick<VsockBackendOptions, 'socketPath' | 'udsPath'>): string[] {
  // --vm takes comma-separated key=value pairs and has no escape: a comma in a path cannot be passed.
  for (const p of [o.socketPath, o.udsPath])
    if (p.includes(',') || p.includes('=')) throw new VesselError('INVALID_ARGUMENT', `the vsock backend cannot take a path with "," or "=": ${p}`);
  return ['--vm', `guest-cid=${GUEST_CID},socket=${o.socketPath},uds-path=${o.udsPath},tx-buffer-size=${TX_BUFFER_SIZE}`];
}

/** Starts the backend and waits (bounded by the deadline) for its vhost-user socket. */
export async function startVsockBackend(o: VsockBackendOptions): Promise<{ process: SupervisedHelper; tail: OutputTail }> {
  const proc = await SupervisedHelper.spawn({ name: 'vsock', command: o.binary, args: vsockBackendArgs(o), stateDir: o.stateDir, logger: o.logger });
  const tail = new OutputTail(16 * 1024);
  proc.child.stdout?.on('data', (c: Buffer) => tail.push(c));
  proc.child.stderr?.on('data', (c: Buffer) => tail.push(c));
  try {
    await waitForSocketPath(o.socketPath, { deadline: o.deadline, alive: () => !proc.hasExited, what: 'the vsock backend (vhost-device-vsock) socket' });
  } catch (err) {
    await proc.stop(0);
    throw Object.assign(err as Error, { message: `${(err as Error).message}: ${tail.text().trim() || 'no output'}` });
  }
  return { process: proc, tail };
}
