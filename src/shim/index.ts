// Contract: containerd-shim-vessel-v2, a containerd shim v2 (../shared/docs/containerd-shim.md)
// that runs each pod in one microVM: containers are grouped by the CRI's sandbox id (a
// container without CRI annotations is a pod of its own); the sandbox's Create boots the
// VM and the pod's containers join it. `start` spawns the long-lived server for a new
// group detached, or answers with the running group server's address, and prints only its
// `unix://` address (also written to <bundle>/address);
// `delete` cleans up after a server that died (VM helpers, rootfs mount, sockets) and
// prints a DeleteResponse, safely twice; `serve` is the server: containerd.task.v2.Task
// over ttrpc (src/ttrpc), each container's processes run by the guest agent chrooted into
// its rootfs, shared into the VM through the pod's one virtio-fs share (pod.ts), stdio through containerd's FIFOs, events to
// $TTRPC_ADDRESS, logs to the bundle's `log` FIFO and never to stdout. The VM backend is
// the Manager the entry point builds; src/ttrpc is imported only to serve containerd (and
// publish its events), never to read the agent's errors, which arrive as VesselErrors.
// containerd runs `start` once per container, also for each container joining a running
// pod: it loads only what it needs (start.ts), not the server and its VM backend.
import { isVesselError } from '../errors/index.js';
import type { NewManager } from '../vm/index.js';
import { parseShimArgs } from './args.js';

export { shimLauncher } from './launcher.js';

/**
 * Runs one shim invocation; `entry` is the script to re-run for `serve`; `loadManager` loads
 * the VM backend and returns what builds its Manager (chosen by the entry point; only
 * `serve` calls it). Resolves to the exit code.
 */
export async function runShim(argv: string[], entry: string, loadManager: () => Promise<NewManager>): Promise<number> {
  try {
    const a = parseShimArgs(argv);
    switch (a.action) {
      case 'start':
        return await (await import('./start.js')).startShim(a, entry, process.stdout);
      case 'delete':
        return await (await import('./delete.js')).deleteShim(a, process.stdout);
      case 'serve':
        return await (await import('./serve.js')).serveShim(a, 3, await loadManager());
    }
  } catch (err) {
    process.stderr.write(`containerd-shim-vessel-v2: ${isVesselError(err) ? err.message : ((err as Error).stack ?? String(err))}\n`);
    return 1;
  }
}
