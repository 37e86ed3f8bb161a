// The daemon owns its instances' state dirs: it removes them when it stops, and on start it
// clears what a crashed predecessor left that it cannot re-attach (ending any recorded
// helper that escaped): everything without live restore; with it, dirs of VMs never started
// or whose QEMU is gone (re-attaching running VMs is test/cli/live-restore.test.ts).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VesselDaemon } from '../../src/api/index.js';
import { InstanceRegistry } from '../../src/api/registry.js';
import { processStartTime } from '../../src/host/index.js';
import { QemuManager } from '../../src/vm/index.js';
import { writeRecord } from '../../src/vm/helpers/records.js';
import { saveVm } from '../../src/vm/qemu/saved-vm.js';
import { call, vmClients } from '../support/grpc-client.js';
import { isRunning } from '../support/host-processes.js';
import { makePrivateTempDir } from '../support/tmpdir.js';

let tmp: { dir: string; remove: () => Promise<void> };

beforeAll(async () => {
  tmp = await makePrivateTempDir('daemon-state');
});
afterAll(async () => {
  await tmp.remove();
});

describe('daemon state dirs', () => {
  it("a crashed predecessor's dirs are cleared at listen, escaped helpers ended; stop removes the dirs it made", async () => {
    const instancesDir = path.join(tmp.dir, 'instances');
    const leftover = path.join(instancesDir, 'old');
    fs.mkdirSync(leftover, { recursive: true });
    const escaped = spawn('sleep', ['600'], { detached: true, stdio: 'ignore' });
    escaped.unref();
    // recorded as started by a process that no longer exists
    writeRecord(leftover, {
      name: 'qemu',
      pid: escaped.pid!,
      startTime: processStartTime(escaped.pid!)!,
      command: 'qemu',
      owner: { pid: 999_999_999, startTime: '1' },
    });

    const daemon = new VesselDaemon({ socketPath: path.join(tmp.dir, 'vessel.sock'), instancesDir, manager: new QemuManager() });
    await daemon.listen();
    const c = vmClients(daemon.socketPath);
    try {
      expect(fs.existsSync(leftover)).toBe(false);
      expect(isRunning(escaped.pid!)).toBe(false);
      await call(c.manager, 'CreateInstance', { id: 'fresh' });
      expect(fs.existsSync(path.join(instancesDir, 'fresh'))).toBe(true);
    } finally {
      c.close();
      await daemon.stop();
    }
    expect(fs.readdirSync(instancesDir)).toEqual([]);
    expect(fs.existsSync(daemon.socketPath)).toBe(false);
  });

  it("with live restore, a predecessor's dirs that hold no running VM are still cleared, adoptable helpers ended, each with why", async () => {
    const root = path.join(tmp.dir, 'restore');
    const escaped = (name: string) => {
      const c = spawn('sleep', ['600'], { detached: true, stdio: 'ignore' });
      c.unref();
      return { name, pid: c.pid!, startTime: processStartTime(c.pid!)!, command: 'sleep', owner: { pid: 999_999_999, startTime: '1' }, adoptable: true };
    };
    // a VM saved for live restore whose QEMU is gone, its virtiofsd still running
    const gone = path.join(root, 'gone');
    fs.mkdirSync(gone, { recursive: true });
    saveVm(gone, {
      version: 1,
      accelerator: 'tcg',
      machine: 'microvm',
      config: { cpus: 1, ramMiB: 256, shares: [], disks: [], nics: [], passtNics: [] },
      stagedDisks: [],
      liveness: false,
      startResult: { timings: { vmmSpawnedMs: 1, agentReadyMs: 2, configuredMs: 3 }, accelerator: 'tcg' },
    });
    const fsd = escaped('virtiofsd-0');
    writeRecord(gone, fsd);
    // an instance that was never started (nothing saved), with a helper that escaped anyway
    const created = path.join(root, 'created');
    fs.mkdirSync(created);
    const passt = escaped('passt-0');
    writeRecord(created, passt);

    const report = await new InstanceRegistry(new QemuManager({ liveRestore: true }), root).restore();
    expect(report.attached).toEqual([]);
    expect(report.removed.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: 'created', why: expect.stringMatching(/^nothing to attach in .*: no readable vm.json/) },
      { id: 'gone', why: 'its QEMU is gone (it exited while no vessel process was attached)' },
    ]);
    expect(isRunning(fsd.pid)).toBe(false);
    expect(isRunning(passt.pid)).toBe(false);
    expect(fs.readdirSync(root)).toEqual([]);
  });
});
