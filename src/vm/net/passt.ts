// passt started by vessel for one NIC. passt and QEMU share a socketpair: passt gets one
// end as fd 3 (`--fd 3`), QEMU the other as its `-netdev stream` fd, so there is no socket
// on disk for anyone else to connect to and no race with passt's drop to `nobody` (machine.md
// pitfall 6). passt exits when QEMU's end closes (`--one-off`) and, like every helper,
// dies with us (pdeathsig). The guest gets passt's default addresses (host-defaults.ts),
// which are also passed to passt explicitly so both sides agree by construction.
import net from 'node:net';
import type { Logger } from 'pino';
import { SupervisedHelper } from '../helpers/supervised.js';
import type { IPConfig } from '../types.js';
import { requireTool, PASST } from '../qemu/binaries.js';

export interface ManagedPasst {
  process: SupervisedHelper;
  /** The parent's end of the socketpair: hand it to QEMU, then destroy it. */
  qemuEnd: net.Socket;
  ip: IPConfig;
}

export function passtArgs(ip: IPConfig): string[] {
  const [addr, prefix] = ip.addresses[0]!.split('/');
  const mask = prefixToMask(Number(prefix));
  const args = ['--foreground', '--one-off', '--fd', '3', '--address', addr!, '--netmask', mask];
  if (ip.gateway) args.push('--gateway', ip.gateway);
  if (ip.mtu) args.push('--mtu', String(ip.mtu));
  return args;
}

function prefixToMask(bits: number): string {
  const m = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return [24, 16, 8, 0].map((s) => (m >>> s) & 255).join('.');
}

export async function startPasst(o: { stateDir: string; index: number; ip: IPConfig; logger?: Logger }): Promise<ManagedPasst> {
  const binary = requireTool(PASST);
  const proc = await SupervisedHelper.spawn({
    name: `passt-${o.index}`,
    command: binary,
    args: passtArgs(o.ip),
    stateDir: o.stateDir,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    logger: o.logger,
  });
  proc.child.stdout?.resume();
  proc.child.stderr?.resume();
  const qemuEnd = proc.child.stdio[3] as net.Socket;
  return { process: proc, qemuEnd, ip: o.ip };
}
