import { fileURLToPath } from 'node:url';
import { runShim } from '../src/shim/index.js';
import { QemuManager } from '../src/vm/index.js';

// The server (`serve`) resolves only after Shutdown: exit then, even with handles left.
process.exit(await runShim(process.argv.slice(2), fileURLToPath(import.meta.url), (o) => new QemuManager(o)));
