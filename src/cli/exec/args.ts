// Contract: parses `vessel exec` arguments into an ExecSpec, or throws UsageError (exit 2).
// Options come before the instance id; everything after it (past an optional `--`) is the
// command, so the command's own flags are never read as vessel's.
import { UsageError } from '../errors.js';
import { parseFlags } from '../flags.js';
import { guestPath, parseEnv } from '../run/args.js';

export interface ExecSpec {
  socket: string | undefined;
  interactive: boolean;
  tty: boolean;
  /** KEY=VALUE entries from -e, in order. */
  env: string[];
  workdir: string | undefined;
  id: string;
  command: string[];
  help: boolean;
}

export const EXEC_USAGE = `Usage: vessel exec [OPTIONS] ID [--] CMD [ARG...]

Runs CMD in the running instance ID of the daemon (\`vessel serve\`). The exit status is
CMD's (128+N when signal N ended it); 125 when vessel failed, 126 when CMD cannot be
executed, 127 when it is not found in the guest.

Options:
      --socket PATH         the daemon's socket (default $VESSEL_HOME/vessel.sock)
  -e, --env KEY=VALUE       set a variable (KEY alone: take the host's value)
  -w, --workdir DIR         working directory in the guest (absolute)
  -i, --interactive         forward stdin to CMD
  -t, --tty                 run CMD on a terminal (raw mode, window size follows)
  -h, --help                show this help
`;

export function parseExecArgs(argv: string[], hostEnv: NodeJS.ProcessEnv): ExecSpec {
  const f = parseFlags(
    argv,
    {
      socket: { value: true },
      env: { short: 'e', value: true },
      workdir: { short: 'w', value: true },
      interactive: { short: 'i' },
      tty: { short: 't' },
      help: { short: 'h' },
    },
    { stopAtPositional: true },
  );
  const workdir = f.last('workdir');
  const spec: ExecSpec = {
    socket: f.last('socket'),
    interactive: f.has('interactive'),
    tty: f.has('tty'),
    env: f.all('env').flatMap((e) => parseEnv(e, hostEnv) ?? []),
    workdir: workdir === undefined ? undefined : guestPath('-w', workdir),
    id: '',
    command: [],
    help: f.has('help'),
  };
  if (spec.help) return spec;
  const [id, ...rest] = f.rest;
  if (id === undefined || id === '') throw new UsageError('no instance given (vessel exec [OPTIONS] ID -- CMD [ARG...]; `vessel ps` lists them)');
  spec.id = id;
  spec.command = rest[0] === '--' ? rest.slice(1) : rest;
  if (spec.command.length === 0) throw new UsageError(`no command given (vessel exec [OPTIONS] ${id} -- CMD [ARG...])`);
  if (spec.command.some((c) => c.includes('\0'))) throw new UsageError('the command cannot contain NUL bytes');
  if (spec.command[0] === '') throw new UsageError('the command name is empty');
  return spec;
}
