// The daemon owns its instances' state dirs: it removes them when it stops, and on start it
// clears what a crashed predecessor left (ending any recorded helper that escaped).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VesselDaemon } from '../../src/api/index.js';
import { processStartTime } from '../../src/host/index.js';
import { QemuManager } from '../../src/vm/index.js';
import { writeRecord } from '../../src/vm/helpers/records.js';
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
});
