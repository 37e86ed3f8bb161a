// One-off commands the shim runs in the guest itself (not in the container's rootfs), with
// the guest image's static busybox: setting the VM's hostname, signalling every process.
// No stdio (the agent gives /dev/null); the exit status is the answer.
import type { AgentClient } from '../agent/index.js';
import { VesselError } from '../errors/index.js';

const BUSYBOX = '/bin/busybox';
let seq = 0;

/** Runs busybox `applet args…` in the guest and returns its exit status. */
export async function guestBusybox(agent: AgentClient, applet: string, args: string[]): Promise<number> {
  const execId = `shim-${applet}-${++seq}`;
  await agent.exec({ execId, args: [BUSYBOX, applet, ...args] });
  const st = await agent.wait(execId);
  return st.signal ? 128 + st.signal : st.exitCode;
}

/** A hostname the kernel takes (at most 64 bytes) and busybox cannot read as an option. */
export function validHostname(name: string): boolean {
  return /^[A-Za-z0-9_]([A-Za-z0-9_.-]{0,62})$/.test(name);
}

/** Sets the guest's hostname (one VM per container: the container's UTS namespace). */
export async function setGuestHostname(agent: AgentClient, name: string): Promise<void> {
  if (!validHostname(name)) throw new VesselError('INVALID_ARGUMENT', `OCI hostname ${JSON.stringify(name)} is not a valid hostname`);
  const status = await guestBusybox(agent, 'hostname', [name]);
  if (status !== 0) throw new VesselError('INTERNAL', `setting the guest hostname to ${name} failed (exit status ${status})`);
}

/**
 * Sends `signal` to every process in the guest but the agent (PID 1): kill(-1, sig) from a
 * helper spares only PID 1 and the helper. Every process in the VM belongs to the
 * container. Exit status 1 = nothing was left to signal.
 */
export async function signalAllGuestProcesses(agent: AgentClient, signal: number): Promise<void> {
  if (!Number.isInteger(signal) || signal <= 0 || signal > 64) throw new VesselError('INVALID_ARGUMENT', `bad signal ${signal}`);
  const status = await guestBusybox(agent, 'kill', [`-${signal}`, '-1']);
  if (status !== 0 && status !== 1) throw new VesselError('INTERNAL', `signalling every guest process with ${signal} failed (exit status ${status})`);
}
