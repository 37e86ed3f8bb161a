// Contract: `vessel gc [STATE_DIR...]` cleans up after vessel processes that died without
// doing it themselves. For each state dir (default: every dir in $VESSEL_HOME/instances,
// including half-created `.new-*` ones) it skips dirs a live vessel process uses, ends the
// recorded helper processes (qemu, virtiofsd, passt) whose owner is dead, and removes the
// dir when it is an instance dir of the CLI. Explicit STATE_DIRs outside it (e.g. of API
// users) only get their orphans ended. Prints one line per action; exit 0, or 1 when a
// given STATE_DIR does not exist.
import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { liveForeignOwner, reapOrphans } from '../vm/index.js';
import { instancesDir, liveOwner, removeInstanceDir } from './instances.js';

export const GC_USAGE = `Usage: vessel gc [STATE_DIR...]

Ends helper processes (qemu, virtiofsd, passt) left by vessel processes that died, and
removes their instance dirs. Default: every dir in $VESSEL_HOME/instances.
`;

export interface GcResult {
  dir: string;
  skipped?: string;
  killed: string[];
  removed: boolean;
}

export async function gcDir(dir: string, removable: boolean): Promise<GcResult> {
  const result: GcResult = { dir, killed: [], removed: false };
  const owner = liveOwner(dir) ?? liveForeignOwner(dir);
  if (owner) {
    result.skipped = `in use by vessel process ${owner.pid}`;
    return result;
  }
  const report = await reapOrphans(dir);
  result.killed = report.killed.map((r) => `${r.name} (pid ${r.pid}, owner ${r.owner.pid} gone)`);
  if (removable) {
    removeInstanceDir(dir);
    result.removed = true;
  }
  return result;
}

function defaultDirs(): string[] {
  const parent = instancesDir();
  let names: fs.Dirent[];
  try {
    names = fs.readdirSync(parent, { withFileTypes: true });
  } catch {
    return [];
  }
  return names
    .filter((e) => e.isDirectory())
    .map((e) => path.join(parent, e.name))
    .sort();
}

export async function runGc(argv: string[], stdout: Writable, stderr: Writable, cwd = process.cwd()): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    stdout.write(GC_USAGE);
    return 0;
  }
  const bad = argv.find((a) => a.startsWith('-'));
  if (bad !== undefined) {
    stderr.write(`vessel gc: unknown option ${bad}\n\n${GC_USAGE}`);
    return 2;
  }
  const parent = instancesDir();
  let exit = 0;
  const dirs: string[] = [];
  for (const a of argv) {
    const dir = path.resolve(cwd, a);
    if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
      stderr.write(`vessel gc: ${dir} is not a directory\n`);
      exit = 1;
      continue;
    }
    dirs.push(dir);
  }
  if (argv.length === 0) dirs.push(...defaultDirs());
  let acted = false; // printed anything
  for (const dir of dirs) {
    const r = await gcDir(dir, path.dirname(dir) === parent);
    if (r.skipped) {
      stdout.write(`skipped ${dir}: ${r.skipped}\n`);
      acted = true;
      continue;
    }
    for (const k of r.killed) stdout.write(`killed ${k} in ${dir}\n`);
    if (r.removed) stdout.write(`removed ${dir}\n`);
    acted ||= r.removed || r.killed.length > 0;
  }
  if (!acted && exit === 0) stdout.write('nothing to clean up\n');
  return exit;
}
