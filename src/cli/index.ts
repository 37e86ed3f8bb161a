// Contract: `runCli(argv, newManager, stdout, stderr, io?)` runs one `vessel` command and
// resolves to the process exit code. It never calls process.exit itself, so it can be
// tested in-process; `newManager` builds the VM backend's Manager (the entry point chooses
// the backend: cli never names one); `io` replaces stdin, signals, environment and working
// directory (default: the real process's). Exit codes: see errors.ts.
import type { Writable } from 'node:stream';
import type { NewManager } from '../vm/index.js';
import { runContainerd } from './containerd.js';
import { runCreate } from './create.js';
import { runDoctor } from './doctor.js';
import { runExec } from './exec/command.js';
import { runGc } from './gc.js';
import { runImage } from './image.js';
import { processIo, type CliIo } from './io.js';
import { runLogs } from './logs.js';
import { runPs } from './ps.js';
import { runRm } from './rm.js';
import { runRun } from './run/command.js';
import { runServe } from './serve.js';
import { runStop } from './stop.js';

const USAGE = `Usage: vessel <command> [options]

vessel runs workloads inside microVMs.

Commands:
  run           run a command in a new microVM (vessel run --help)

  serve         serve the gRPC API: instances that outlive a command (vessel serve --help)
  create        create and boot an instance on the daemon, print its id
  ps            list the daemon's instances
  exec          run a command in an instance of the daemon
  logs          print an instance's guest console (-f: follow)
  stop          shut instances down
  rm            delete instances

  containerd    install the containerd shim (vessel containerd install --bin-dir DIR)
  doctor        check what running VMs needs on this host
  gc            clean up after vessel processes that died (vessel gc --help)
  image         build, list and prune guest images (vessel image --help)
  help          show this help

Options:
  -h, --help     show this help
  -V, --version  print the version
`;

const VERSION = '0.1.0';

export async function runCli(argv: string[], newManager: NewManager, stdout: Writable, stderr: Writable, io?: Partial<CliIo>): Promise<number> {
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
      return runRun(rest, processIo({ ...io, stdout, stderr }), newManager);
    case 'serve':
      return runServe(rest, processIo({ ...io, stdout, stderr }), newManager);
    case 'create':
      return runCreate(rest, processIo({ ...io, stdout, stderr }));
    case 'ps':
      return runPs(rest, processIo({ ...io, stdout, stderr }));
    case 'exec':
      return runExec(rest, processIo({ ...io, stdout, stderr }));
    case 'logs':
      return runLogs(rest, processIo({ ...io, stdout, stderr }));
    case 'stop':
      return runStop(rest, processIo({ ...io, stdout, stderr }));
    case 'rm':
      return runRm(rest, processIo({ ...io, stdout, stderr }));
    case 'doctor':
      return runDoctor(rest, stdout, stderr);
    case 'containerd':
      return runContainerd(rest, stdout, stderr);
    case 'gc':
      return runGc(rest, stdout, stderr, io?.cwd);
    default:
      stderr.write(`vessel: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}
