import { runCli } from '../src/cli/index.js';
import { QemuManager } from '../src/vm/index.js';

// process.exit: a finished `vessel run` must not wait for stdin or an interrupted image build.
process.exit(await runCli(process.argv.slice(2), (o) => new QemuManager(o), process.stdout, process.stderr));
