// Contract: `runCli(argv, stdout, stderr)` runs one `vessel` command and resolves to the
// process exit code. It never calls process.exit itself, so it can be tested in-process.
import type { Writable } from 'node:stream';
import { runImage } from './image.js';

const USAGE = `Usage: vessel <command> [options]

vessel runs workloads inside microVMs.

Commands:
  image         build, list and prune guest images (vessel image --help)
  help          show this help

Options:
  -h, --help     show this help
  -V, --version  print the version
`;

const VERSION = '0.1.0';

export async function runCli(argv: string[], stdout: Writable, stderr: Writable): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '-h' || command === '--help') {
    stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === '-V' || command === '--version') {
    stdout.write(`vessel ${VERSION}\n`);
    return 0;
  }
  if (command === 'image') return runImage(rest, stdout, stderr);
  stderr.write(`vessel: unknown command "${command}"\n\n${USAGE}`);
  return 2;
}
