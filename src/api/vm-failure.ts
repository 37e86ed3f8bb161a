// A call that failed because its VM died reports why the VM died (GUEST_PANICKED,
// VM_EXITED, ...), not how the agent connection ended. The connection can end a moment
// before the instance has recorded the VMM's exit: that moment is waited for, bounded.
import { isVesselError } from '../errors/index.js';
import type { Instance } from '../vm/index.js';

/** How long a call whose guest connection ended waits for the instance to record why. */
const VM_EXIT_NOTICE_MS = 1_000;

const CONNECTION_LOST = new Set(['TTRPC_CONNECTION_CLOSED', 'MUX_SESSION_CLOSED', 'MUX_TRANSPORT_ERROR', 'MUX_STREAM_RESET', 'UNAVAILABLE']);

/** The instance's failure if `err` came from its VM going away; else `err`. */
export async function vmFailureOr(instance: Instance | undefined, err: unknown): Promise<unknown> {
  if (!instance || !isVesselError(err) || !CONNECTION_LOST.has(err.code)) return err;
  if (instance.state() === 'running' || instance.state() === 'stopping') {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([instance.whenStopped(), new Promise((resolve) => (timer = setTimeout(resolve, VM_EXIT_NOTICE_MS)))]);
    clearTimeout(timer);
  }
  return instance.state() === 'failed' ? (instance.failure() ?? err) : err;
}
