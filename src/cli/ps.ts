// Contract: `vessel ps [--socket PATH] [--json]` lists the daemon's instances (ListInstances):
// a table of id, state (with the error code of a failed one), accelerator, CPUs, memory and
// age; --json prints the InstanceInfo messages as JSON. Exit 0; 125 when no daemon answers.
import type { vmv1 } from '../gen/index.js';
import { connectDaemon, socketPathOf, unaryCall } from './daemon/client.js';
import { reportDaemonError } from './daemon/errors.js';
import { UsageError } from './errors.js';
import { parseFlags } from './flags.js';
import type { CliIo } from './io.js';

export const PS_USAGE = `Usage: vessel ps [--socket PATH] [--json]

Lists the instances of the running daemon (\`vessel serve\`).

Options:
      --socket PATH   the daemon's socket (default $VESSEL_HOME/vessel.sock)
      --json          print the InstanceInfo messages as JSON
  -h, --help          show this help
`;

/** "42s", "5m", "3h", "2d" since a unix-nano timestamp (a decimal string). */
export function age(unixNano: string, nowMs = Date.now()): string {
  const s = Math.max(0, Math.floor((nowMs - Number(BigInt(unixNano) / 1_000_000n)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** The InstanceInfo fields the table shows. */
export type PsRow = Pick<vmv1.InstanceInfo__Output, 'id' | 'state' | 'accelerator'> & {
  config?: Pick<vmv1.InstanceConfig__Output, 'cpu' | 'ramMib'> | null;
  timings?: Pick<vmv1.Timings__Output, 'createdAtUnixNano'> | null;
  error?: vmv1.Error__Output | null;
};

export function psTable(instances: PsRow[], nowMs = Date.now()): string {
  const rows = [['ID', 'STATE', 'ACCEL', 'CPUS', 'MEMORY', 'AGE']];
  for (const i of instances) {
    const state =
      String(i.state)
        .replace(/^STATE_/, '')
        .toLowerCase() + (i.error?.code ? ` (${i.error.code})` : '');
    rows.push([
      i.id,
      state,
      i.accelerator || '-',
      String(i.config?.cpu ?? '-'),
      `${i.config?.ramMib ?? '-'} MiB`,
      age(i.timings?.createdAtUnixNano ?? '0', nowMs),
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]! + 2))).join('')).join('\n') + '\n';
}

export async function runPs(argv: string[], io: CliIo): Promise<number> {
  try {
    const f = parseFlags(argv, { socket: { value: true }, json: {}, help: { short: 'h' } });
    if (f.has('help')) {
      io.stdout.write(PS_USAGE);
      return 0;
    }
    if (f.positionals.length || f.rest.length) throw new UsageError(`unexpected argument ${JSON.stringify([...f.positionals, ...f.rest][0])}`);
    const client = await connectDaemon(socketPathOf(f.last('socket'), io.cwd));
    try {
      const { instances } = await unaryCall(client.manager, 'ListInstances', {});
      io.stdout.write(f.has('json') ? `${JSON.stringify(instances, null, 2)}\n` : psTable(instances));
      return 0;
    } finally {
      client.close();
    }
  } catch (err) {
    return reportDaemonError(err, 'vessel ps', io.stderr);
  }
}
