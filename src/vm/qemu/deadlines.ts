// The deadlines of a QEMU instance's teardown. shutdown() escalates agent shutdown → QMP
// quit → SIGKILL, and every step ends by its deadline whatever the guest (or a frozen
// QEMU) does, so shutdown() settles within SHUTDOWN_BOUND_MS. Callers that promise a
// bound of their own (vessel run after a signal, gRPC Shutdown/Delete, the shim's
// Kill/Delete: 10 s each) build on this one.

/**
 * The agent syncs, unmounts and powers the guest off, and QEMU exits (about 1 s for an
 * idle guest under TCG). Writes the guest has not synced by then are lost.
 */
export const AGENT_SHUTDOWN_MS = 3_000;

/** QEMU exits after QMP `quit` (a frozen or wedged QEMU never answers). */
export const QMP_QUIT_MS = 1_000;

/**
 * A SIGKILLed process is reaped. One in uninterruptible sleep can take longer: shutdown
 * goes on without waiting (and logs it); the kernel ends it once the sleep does.
 */
export const KILL_REAP_MS = 1_000;

/** virtiofsd and passt, stopped alongside QEMU's SIGKILL: SIGTERM, SIGKILL after this, then KILL_REAP_MS. */
export const HELPER_GRACE_MS = 500;

/** QEMU's last console output and QMP events after it exited (they say why it did). */
export const VMM_OUTPUT_DRAIN_MS = 500;

/** What a crashed previous owner of the state dir left running: SIGKILLed and gone. */
export const ORPHAN_REAP_MS = 500;

/** The most shutdown() takes: 6 s (the helpers are stopped beside QEMU's kill and last output). */
export const SHUTDOWN_BOUND_MS =
  AGENT_SHUTDOWN_MS + QMP_QUIT_MS + Math.max(KILL_REAP_MS + VMM_OUTPUT_DRAIN_MS, HELPER_GRACE_MS + KILL_REAP_MS) + ORPHAN_REAP_MS;

export { within } from '../helpers/within.js';
