// Contract: `runCli(argv, stdout, stderr, io?)` runs one `vessel` command and resolves to
// the process exit code. It never calls process.exit itself, so it can be tested
// in-process; `io` replaces stdin, signals, environment and working directory (default:
// the real process's). Exit codes: see errors.ts.
import type { Writable } from 'node:stream';
import { runDoctor } from './doctor.js';
import { runGc } from './gc.js';
import { runImage } from './image.js';
import { processIo, type CliIo } from './io.js';
import { runRun } from './run/command.js';

const USAGE = `Usage: vessel <command> [options]

vessel runs workloads inside microVMs.

Commands:
  run           run a command in a new microVM (vessel run --help)
  doctor        check what running VMs needs on this host
  gc            clean up after vessel processes that died (vessel gc --help)
  image         build, list and prune guest images (vessel image --help)
  help          show this help

Options:
  -h, --help     show this help
  -V, --version  print the version
`;

const VERSION = '0.1.0';

export async function runCli(argv: string[], stdout: Writable, stderr: Writable, io?: Partial<CliIo>): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '-h' || command === '--help') {
    stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === '-V' || command === '--version') {
    stdout.write(`vessel ${VERSION}\n`);
    return 0;
  }
  switch (command) {
    case 'image':
      return runImage(rest, stdout, stderr);
    case 'run':
      return runRun(rest, processIo({ ...io, stdout, stderr }));
    case 'doctor':
      return runDoctor(rest, stdout, stderr);
    case 'gc':
      return runGc(rest, stdout, stderr, io?.cwd);
    default:
      stderr.write(`vessel: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}
