// How long the shim's Kill and Delete wait for the guest: a wedged guest (a fork bomb, a
// frozen VMM) must not hang containerd. With the VM's own bounded shutdown on top
// (vm/qemu/deadlines.ts: a kill takes at most a few seconds), Kill and Delete return
// within 10 s whatever the guest does.

/**
 * How long Kill waits for the guest to deliver a signal. Then a SIGKILL to a container
 * that owns its VM (a lone container, the pod sandbox) kills the VM, and its processes
 * with it (their exit: 137); any other signal fails with DEADLINE_EXCEEDED.
 */
export const GUEST_KILL_MS = 3_000;

/** How long Delete waits for `runc delete` in the guest before going on without it. */
export const GUEST_DELETE_MS = 3_000;

/** Resolves true when a promise settles (either way) within `ms`, false after `ms` (the VM layer's helper). */
export { within as settlesWithin } from '../vm/index.js';
