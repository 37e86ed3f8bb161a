// What a VM started for live restore keeps in `<stateDir>/vm.json` (0600, written
// atomically once it runs, removed when it is released): everything a later owner needs to
// attach it (instance.ts attach()) and describe it as before — its configuration, the
// accelerator and machine it runs on, the staged disks to delete at shutdown, its liveness
// settings and start timings. The helper processes are in their own records (helpers/).
// The file is ours (a 0700 dir), but it is read back with care: anything malformed means
// "nothing to attach", never a crash.
import path from 'node:path';
import { readJson, writePrivateJson } from '../../host/index.js';
import type { DiskConfig, NicConfig, PasstNicConfig, ShareConfig } from '../config.js';
import type { StartResult } from '../types.js';
import type { Accelerator } from './accelerator.js';
import type { MachineType } from './command-line.js';
import type { StagedDisk } from './disks.js';

export const SAVED_VM_VERSION = 1;

export interface SavedVm {
  version: typeof SAVED_VM_VERSION;
  accelerator: Accelerator;
  machine: MachineType;
  config: { cpus: number; ramMiB: number; shares: ShareConfig[]; disks: DiskConfig[]; nics: NicConfig[]; passtNics: PasstNicConfig[] };
  stagedDisks: StagedDisk[];
  liveness: { intervalMs: number; unresponsiveAfterMs: number } | false;
  startResult: StartResult;
}

export function savedVmPath(stateDir: string): string {
  return path.join(stateDir, 'vm.json');
}

export function saveVm(stateDir: string, vm: SavedVm): void {
  writePrivateJson(savedVmPath(stateDir), vm);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isArrayOf = (v: unknown, item: (x: unknown) => boolean) => Array.isArray(v) && v.every(item);
const hasStrings = (v: unknown, ...keys: string[]) => isObject(v) && keys.every((k) => typeof v[k] === 'string');

/** The saved VM of `stateDir`, or a reason why there is none to attach. */
export function loadSavedVm(stateDir: string): SavedVm | { missing: string } {
  const raw = readJson(savedVmPath(stateDir));
  if (raw === undefined) return { missing: 'no readable vm.json (the VM was not running, or was not started for live restore)' };
  if (!isObject(raw) || raw.version !== SAVED_VM_VERSION) return { missing: `vm.json is not version ${SAVED_VM_VERSION}` };
  const c = raw.config;
  const ok =
    (raw.accelerator === 'kvm' || raw.accelerator === 'tcg') &&
    (raw.machine === 'microvm' || raw.machine === 'q35') &&
    isObject(c) &&
    Number.isInteger(c.cpus) &&
    Number.isInteger(c.ramMiB) &&
    isArrayOf(c.shares, (s) => hasStrings(s, 'tag', 'hostPath')) &&
    isArrayOf(c.disks, (d) => hasStrings(d, 'blockId', 'hostPath', 'format')) &&
    isArrayOf(c.nics, (n) => hasStrings(n, 'endpoint', 'mac', 'mode')) &&
    isArrayOf(c.passtNics, (n) => hasStrings(n, 'mac')) &&
    isArrayOf(raw.stagedDisks, (d) => hasStrings(d, 'blockId', 'path', 'format')) &&
    (raw.liveness === false || (isObject(raw.liveness) && Number.isInteger(raw.liveness.intervalMs) && Number.isInteger(raw.liveness.unresponsiveAfterMs))) &&
    isObject(raw.startResult) &&
    isObject(raw.startResult.timings);
  return ok ? (raw as unknown as SavedVm) : { missing: 'vm.json is malformed' };
}
