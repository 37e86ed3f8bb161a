// Contract: `vessel rm [--socket PATH] ID...` deletes instances of the daemon
// (Manager.DeleteInstance: shut down if still running, state removed).
import { unaryCall } from './daemon/client.js';
import { runForEachInstance } from './daemon/each-instance.js';
import type { CliIo } from './io.js';

export const RM_USAGE = `Usage: vessel rm [--socket PATH] ID...

Deletes the instances (shutting them down first if they run) and their state.

Options:
      --socket PATH   the daemon's socket (default $VESSEL_HOME/vessel.sock)
  -h, --help          show this help
`;

export function runRm(argv: string[], io: CliIo): Promise<number> {
  return runForEachInstance(
    {
      name: 'rm',
      usage: RM_USAGE,
      call: (c, id) => unaryCall(c.manager, 'DeleteInstance', { instanceId: id }),
    },
    argv,
    io,
  );
}
