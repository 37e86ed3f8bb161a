// passt started by vessel for one NIC. passt and QEMU share a socketpair: passt gets one
// end as fd 3 (`--fd 3`), QEMU the other as its `-netdev stream` fd, so there is no socket
// on disk for anyone else to connect to and no race with passt's drop to `nobody` (machine.md
// pitfall 6). passt exits when QEMU's end closes (`--one-off`) and, like every helper,
// dies with us (pdeathsig), unless started for live restore (`detached`). The guest gets
// passt's default addresses (host-defaults.ts), which are also passed to passt explicitly
// so both sides agree by construction.
import fs from 'node:fs';
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

/** Ports below the default ephemeral range: what `all` means to passt. */
const NON_EPHEMERAL_TOP = 32767;
/** File descriptors passt keeps for itself beyond one per forwarded port. */
const PASST_FD_RESERVE = 4000;

/** The hard limit on open files this process (and so passt, which inherits it) has. */
export function openFilesHardLimit(limits = fs.readFileSync('/proc/self/limits', 'utf8')): number {
  const m = /^Max open files\s+\S+\s+(\S+)/m.exec(limits);
  return m && m[1] !== 'unlimited' ? Number(m[1]) : Number.MAX_SAFE_INTEGER;
}

/**
 * Which ports passt forwards from a pod's namespace: passt holds one socket per forwarded
 * port, so under a hard limit on open files too low for every non-ephemeral port (here:
 * 20000, and no CAP_SYS_RESOURCE to raise it) TCP gets what fits and UDP what is left.
 */
export function forwardedPorts(hardLimit = openFilesHardLimit()): { tcpTop: number; udpTop: number } {
  const budget = Math.max(0, hardLimit - PASST_FD_RESERVE);
  const tcpTop = Math.min(NON_EPHEMERAL_TOP, budget);
  return { tcpTop, udpTop: Math.min(NON_EPHEMERAL_TOP, budget - tcpTop) };
}

/**
 * In another network namespace (`forward`: a pod's), passt forwards ports there to the
 * guest (podIP:PORT, a hostPort DNAT'ed to it and localhost:PORT inside the namespace, as
 * CRI port-forward dials, all reach the guest), IPv4 only, and the gateway is the
 * namespace's real one (`--no-map-gw`), not a path to its loopback.
 */
export function passtArgs(ip: IPConfig, forward?: { tcpTop: number; udpTop: number }): string[] {
  const [addr, prefix] = ip.addresses[0]!.split('/');
  const mask = prefixToMask(Number(prefix));
  const args = ['--foreground', '--one-off', '--fd', '3', '--address', addr!, '--netmask', mask];
  if (ip.gateway) args.push('--gateway', ip.gateway);
  if (ip.mtu) args.push('--mtu', String(ip.mtu));
  if (forward) {
    args.push('-4', '--no-map-gw');
    if (forward.tcpTop > 0) args.push('-t', `1-${forward.tcpTop}`);
    if (forward.udpTop > 0) args.push('-u', `1-${forward.udpTop}`);
  }
  return args;
}

function prefixToMask(bits: number): string {
  const m = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return [24, 16, 8, 0].map((s) => (m >>> s) & 255).join('.');
}

export async function startPasst(o: {
  stateDir: string;
  index: number;
  ip: IPConfig;
  netns?: string;
  detached?: boolean;
  logger?: Logger;
}): Promise<ManagedPasst> {
  const binary = requireTool(PASST);
  const args = passtArgs(o.ip, o.netns !== undefined ? forwardedPorts() : undefined);
  const proc = await SupervisedHelper.spawn({
    name: `passt-${o.index}`,
    ...(o.netns ? { command: 'nsenter', args: [`--net=${o.netns}`, '--', binary, ...args] } : { command: binary, args }),
    stateDir: o.stateDir,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    detached: o.detached,
    logger: o.logger,
  });
  proc.child.stdout?.resume();
  proc.child.stderr?.resume();
  const qemuEnd = proc.child.stdio[3] as net.Socket;
  return { process: proc, qemuEnd, ip: o.ip };
}
