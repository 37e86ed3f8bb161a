// Process records: one JSON file per helper process under `<stateDir>/pids/`, written as
// soon as the process exists and removed once it has been reaped. They let a later
// instance on the same state dir, or `vessel gc`, end what a crashed owner left behind.
// A record marked `adoptable` belongs to a VM started to outlive its owner (live restore):
// a later owner that attaches the state dir adopts it (adopted.ts); to everyone else a
// dead owner's record is an orphan, adoptable or not.
import fs from 'node:fs';
import path from 'node:path';
import type { ProcessIdentity } from '../../host/index.js';

export interface ProcessRecord extends ProcessIdentity {
  name: string;
  command: string;
  owner: ProcessIdentity;
  /** Started without a parent-death signal, to be adopted by whoever attaches the VM next. */
  adoptable?: boolean;
}

export function recordsDir(stateDir: string): string {
  return path.join(stateDir, 'pids');
}

function recordPath(stateDir: string, name: string): string {
  return path.join(recordsDir(stateDir), `${name}.json`);
}

export function writeRecord(stateDir: string, record: ProcessRecord): void {
  fs.mkdirSync(recordsDir(stateDir), { recursive: true, mode: 0o700 });
  const file = recordPath(stateDir, record.name);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(record), { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
}

export function removeRecord(stateDir: string, name: string): void {
  fs.rmSync(recordPath(stateDir, name), { force: true });
}

/** Every well-formed record in the state dir (malformed ones are skipped). */
export function readRecords(stateDir: string): ProcessRecord[] {
  let names: string[];
  try {
    names = fs.readdirSync(recordsDir(stateDir));
  } catch {
    return [];
  }
  const out: ProcessRecord[] = [];
  for (const n of names) {
    if (!n.endsWith('.json')) continue;
    try {
      const r = JSON.parse(fs.readFileSync(path.join(recordsDir(stateDir), n), { encoding: 'utf8' })) as ProcessRecord;
      if (Number.isInteger(r.pid) && r.pid > 1 && typeof r.startTime === 'string' && typeof r.name === 'string' && r.owner && Number.isInteger(r.owner.pid))
        out.push(r);
    } catch {
      // a half-written or foreign file: not ours to act on
    }
  }
  return out;
}
