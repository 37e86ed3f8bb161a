// Contract: `vessel stop [--socket PATH] ID...` shuts instances of the daemon down
// (Instance.Shutdown: the guest is asked to power off, QEMU is ended if it does not). A
// stopped instance stays listed (state stopped) until `vessel rm`.
import { unaryCall } from './daemon/client.js';
import { runForEachInstance } from './daemon/each-instance.js';
import type { CliIo } from './io.js';

export const STOP_USAGE = `Usage: vessel stop [--socket PATH] ID...

Shuts the instances down; they stay listed by \`vessel ps\` until \`vessel rm\`.

Options:
      --socket PATH   the daemon's socket (default $VESSEL_HOME/vessel.sock)
  -h, --help          show this help
`;

export function runStop(argv: string[], io: CliIo): Promise<number> {
  return runForEachInstance(
    {
      name: 'stop',
      usage: STOP_USAGE,
      call: (c, id) => unaryCall(c.instance, 'Shutdown', { instanceId: id }),
    },
    argv,
    io,
  );
}
