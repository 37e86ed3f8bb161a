// Live restore on the host side, without a VM: a helper started `detached` logs to a file and
// leaves an adoptable record; a later owner adopts dead owners' adoptable records (and no
// others, and none of a live owner) and supervises the processes by polling /proc; the saved
// VM file reads back only when well-formed.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processStartTime, selfIdentity } from '../../../src/host/index.js';
import { AdoptedHelper, adoptRecords } from '../../../src/vm/helpers/adopted.js';
import { readRecords, writeRecord, type ProcessRecord } from '../../../src/vm/helpers/records.js';
import { SupervisedHelper } from '../../../src/vm/helpers/supervised.js';
import { loadSavedVm, saveVm, savedVmPath, type SavedVm } from '../../../src/vm/qemu/saved-vm.js';
import { isRunning } from '../../support/host-processes.js';
import { makePrivateTempDir } from '../../support/tmpdir.js';
import { waitFor } from '../../support/wait-for.js';

const DEAD_OWNER = { pid: 999_999_999, startTime: '1' };

let tmp: { dir: string; remove: () => Promise<void> };
const children: ChildProcess[] = [];

function sleeper(): ChildProcess {
  const c = spawn('sleep', ['600'], { stdio: 'ignore' });
  children.push(c);
  return c;
}

function recordOf(c: ChildProcess, name: string, extra: Partial<ProcessRecord> = {}): ProcessRecord {
  return { name, pid: c.pid!, startTime: processStartTime(c.pid!)!, command: 'sleep', owner: DEAD_OWNER, ...extra };
}

beforeEach(async () => {
  tmp = await makePrivateTempDir('adopted');
});
afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  await tmp.remove();
});

describe('adoptRecords', () => {
  it("takes over a dead owner's adoptable records (owner rewritten), drops those of processes gone, leaves the others", () => {
    const live = sleeper();
    const other = sleeper();
    writeRecord(tmp.dir, recordOf(live, 'qemu', { adoptable: true }));
    writeRecord(tmp.dir, { ...recordOf(live, 'passt-0', { adoptable: true }), pid: 999_999_998 }); // gone
    writeRecord(tmp.dir, recordOf(other, 'virtiofsd-0')); // not started to be adopted
    const r = adoptRecords(tmp.dir);
    expect(r.adopted.map((x) => [x.name, x.owner])).toEqual([['qemu', selfIdentity()]]);
    expect(r.gone.map((x) => x.name)).toEqual(['passt-0']);
    expect(r.notAdoptable.map((x) => x.name)).toEqual(['virtiofsd-0']);
    const after = Object.fromEntries(readRecords(tmp.dir).map((x) => [x.name, x.owner]));
    expect(after).toEqual({ qemu: selfIdentity(), 'virtiofsd-0': DEAD_OWNER });
  });

  it('refuses a state dir whose processes a live owner holds (STATE_DIR_IN_USE), and changes nothing', () => {
    const owner = sleeper();
    const helper = sleeper();
    const rec = recordOf(helper, 'qemu', { adoptable: true, owner: { pid: owner.pid!, startTime: processStartTime(owner.pid!)! } });
    writeRecord(tmp.dir, rec);
    expect(() => adoptRecords(tmp.dir)).toThrow(expect.objectContaining({ code: 'STATE_DIR_IN_USE' }));
    expect(readRecords(tmp.dir)).toEqual([rec]);
  });
});

describe('AdoptedHelper', () => {
  it('notices the process ending on its own within its poll interval, and removes its record', async () => {
    const c = sleeper();
    writeRecord(tmp.dir, recordOf(c, 'passt-0', { adoptable: true }));
    const h = new AdoptedHelper(tmp.dir, adoptRecords(tmp.dir).adopted[0]!, 50);
    expect(h.hasExited).toBe(false);
    c.kill('SIGKILL');
    expect(await h.exited).toEqual({ code: null, signal: null });
    expect(h.hasExited).toBe(true);
    expect(readRecords(tmp.dir)).toEqual([]);
  });

  it('stop(): the polite signal, then SIGKILL after the grace period; resolves once it is gone', async () => {
    const c = spawn('sh', ['-c', 'trap "" TERM; echo ready; while :; do sleep 1; done'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(c);
    await new Promise((resolve) => c.stdout!.once('data', resolve));
    writeRecord(tmp.dir, recordOf(c, 'virtiofsd-0', { adoptable: true }));
    const h = new AdoptedHelper(tmp.dir, adoptRecords(tmp.dir).adopted[0]!, 60_000);
    const t0 = Date.now();
    expect(await h.stop(300)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(isRunning(c.pid!)).toBe(false);
    expect(readRecords(tmp.dir)).toEqual([]);
  });

  it('never signals a process that reused the pid (the start time differs)', async () => {
    const c = sleeper();
    const h = new AdoptedHelper(tmp.dir, { ...recordOf(c, 'qemu', { adoptable: true }), startTime: '1' }, 60_000);
    expect(await h.stop(0)).toEqual({ code: null, signal: null });
    expect(isRunning(c.pid!)).toBe(true);
  });
});

describe('SupervisedHelper detached (live restore)', () => {
  it('writes its output to a log file in the state dir, and its record says it may be adopted', async () => {
    const h = await SupervisedHelper.spawn({
      name: 'virtiofsd-0',
      command: 'sh',
      args: ['-c', 'echo to-stdout; echo to-stderr >&2; exec sleep 600'],
      stateDir: tmp.dir,
      detached: true,
    });
    try {
      expect(h.child.stdout).toBeNull();
      expect(readRecords(tmp.dir)).toEqual([expect.objectContaining({ name: 'virtiofsd-0', pid: h.pid, adoptable: true, command: 'sh' })]);
      await waitFor(() => h.loggedOutput().includes('to-stderr'), 'the output in the log file');
      expect(h.loggedOutput()).toBe('to-stdout\nto-stderr\n');
      expect(fs.statSync(path.join(tmp.dir, 'logs', 'virtiofsd-0.log')).mode & 0o777).toBe(0o600);
    } finally {
      await h.stop(0);
    }
    expect(readRecords(tmp.dir)).toEqual([]);
  });
});

describe('saved VM (vm.json)', () => {
  const vm: SavedVm = {
    version: 1,
    accelerator: 'tcg',
    machine: 'microvm',
    config: { cpus: 1, ramMiB: 256, shares: [{ tag: 'vol0', hostPath: '/srv', readOnly: true, mountPoint: '/data' }], disks: [], nics: [], passtNics: [] },
    stagedDisks: [],
    liveness: { intervalMs: 5000, unresponsiveAfterMs: 60000 },
    startResult: { timings: { vmmSpawnedMs: 1, agentReadyMs: 2, configuredMs: 3 }, accelerator: 'tcg' },
  };

  it('round-trips, private; missing or malformed means nothing to attach', () => {
    expect(loadSavedVm(tmp.dir)).toEqual({ missing: expect.stringMatching(/^no readable vm.json/) });
    saveVm(tmp.dir, vm);
    expect(fs.statSync(savedVmPath(tmp.dir)).mode & 0o777).toBe(0o600);
    expect(loadSavedVm(tmp.dir)).toEqual(vm);
    fs.writeFileSync(savedVmPath(tmp.dir), JSON.stringify({ ...vm, config: { ...vm.config, shares: [{ tag: 1 }] } }));
    expect(loadSavedVm(tmp.dir)).toEqual({ missing: 'vm.json is malformed' });
    fs.writeFileSync(savedVmPath(tmp.dir), JSON.stringify({ ...vm, version: 2 }));
    expect(loadSavedVm(tmp.dir)).toEqual({ missing: 'vm.json is not version 1' });
    fs.writeFileSync(savedVmPath(tmp.dir), '{"version":1,');
    expect(loadSavedVm(tmp.dir)).toEqual({ missing: expect.stringMatching(/^no readable vm.json/) });
  });
});
