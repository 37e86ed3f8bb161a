// A separate process that owns one instance, for crash tests: it starts the instance in
// the state dir given as argv[2], prints "started <json of process records>" and then
// waits to be killed. Run from dist/ (compiled by `npm test`'s tsc step).
import { QemuManager } from '../../src/vm/index.js';
import { readRecords } from '../../src/vm/helpers/records.js';

const stateDir = process.argv[2]!;
const share = process.argv[3]!;
const inst = await new QemuManager().newInstance(stateDir);
inst.setCPUAndMemory(1, 128);
inst.addFS('data', share);
await inst.start();
process.stdout.write(`started ${JSON.stringify(readRecords(stateDir))}\n`);
setInterval(() => undefined, 1 << 30);
