// The shape of `vessel stop` and `vessel rm`: one unary call per named instance, a line per
// instance (its id on stdout when done, the error on stderr), exit 0 when all succeeded,
// 125 when any failed, 2 on a usage error.
import { EXIT_VESSEL, UsageError } from '../errors.js';
import { parseFlags } from '../flags.js';
import type { CliIo } from '../io.js';
import { connectDaemon, socketPathOf, type DaemonClient } from './client.js';
import { reportDaemonError } from './errors.js';

export interface EachInstanceCommand {
  name: string;
  usage: string;
  call: (client: DaemonClient, id: string) => Promise<unknown>;
}

export async function runForEachInstance(cmd: EachInstanceCommand, argv: string[], io: CliIo): Promise<number> {
  const what = `vessel ${cmd.name}`;
  let client: DaemonClient | undefined;
  try {
    const f = parseFlags(argv, { socket: { value: true }, help: { short: 'h' } });
    if (f.has('help')) {
      io.stdout.write(cmd.usage);
      return 0;
    }
    const ids = [...f.positionals, ...f.rest];
    if (ids.length === 0) throw new UsageError('no instance given (`vessel ps` lists them)');
    client = await connectDaemon(socketPathOf(f.last('socket'), io.cwd));
    let exit = 0;
    for (const id of ids) {
      try {
        await cmd.call(client, id);
        io.stdout.write(`${id}\n`);
      } catch (err) {
        exit = reportDaemonError(err, what, io.stderr, id);
      }
    }
    return exit === 0 ? 0 : EXIT_VESSEL;
  } catch (err) {
    return reportDaemonError(err, what, io.stderr);
  } finally {
    client?.close();
  }
}
