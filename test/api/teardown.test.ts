// gRPC teardown against guests that do not cooperate, on real VMs: Shutdown of a guest
// wedged by a fork bomb and DeleteInstance of a frozen one (QEMU SIGSTOPped: neither the
// agent nor QMP answers) each return within 10 s and leave nothing; a guest kernel panic
// under an Exec ends the call with the panic as its status (UNAVAILABLE, vessel code
// GUEST_PANICKED), and Watch and GetInstance show the instance failed with it.
import fs from 'node:fs';
import path from 'node:path';
import { status as Status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VesselDaemon } from '../../src/api/index.js';
import { QemuManager } from '../../src/vm/index.js';
import { readRecords } from '../../src/vm/helpers/records.js';
import { call, execOnce, vmClients, type VmClients } from '../support/grpc-client.js';
import { BOMB_SATURATION_MS, FORK_BOMB_SCRIPT, SATURATED } from '../support/fork-bomb.js';
import { isRunning, ownHelperProcesses } from '../support/host-processes.js';
import { makePrivateTempDir } from '../support/tmpdir.js';
import { waitFor } from '../support/wait-for.js';

/** The bound the API promises for Shutdown and DeleteInstance, whatever the guest does. */
const BOUND_MS = 10_000;
const PANIC = 'the guest kernel panicked: Kernel panic - not syncing: sysrq triggered crash';

let tmp: { dir: string; remove: () => Promise<void> };
let daemon: VesselDaemon;
let c: VmClients;

beforeAll(async () => {
  tmp = await makePrivateTempDir('api-teardown');
  // (liveness off: a guest wedged this long would otherwise be failed as unresponsive before Shutdown is timed)
  daemon = new VesselDaemon({
    socketPath: path.join(tmp.dir, 'vessel.sock'),
    instancesDir: path.join(tmp.dir, 'instances'),
    manager: new QemuManager({ liveness: false }),
  });
  await daemon.listen();
  c = vmClients(daemon.socketPath);
});

afterAll(async () => {
  c?.close();
  await daemon?.stop();
  expect(ownHelperProcesses()).toEqual([]);
  await tmp?.remove();
});

async function started(id: string): Promise<string> {
  await call(c.manager, 'CreateInstance', { id });
  await call(c.instance, 'Start', { instanceId: id });
  return path.join(tmp.dir, 'instances', id);
}

async function timed(p: Promise<unknown>): Promise<number> {
  const t0 = Date.now();
  await p;
  return Date.now() - t0;
}

describe('Shutdown and DeleteInstance are bounded', () => {
  it('Shutdown of a guest wedged by a fork bomb: within 10 s, stopped, nothing left', async () => {
    const dir = await started('bomb');
    const qemu = readRecords(dir).find((r) => r.name === 'qemu')!;
    const bomb = c.instance.Exec();
    let stderr = '';
    bomb.on('data', (m: any) => {
      if (m.msg === 'stderr') stderr = (stderr + m.stderr).slice(-4096);
    });
    let ended = '';
    bomb.on('data', (m: any) => {
      if (m.msg === 'exit') ended = JSON.stringify(m.exit);
    });
    bomb.on('error', () => undefined); // ends with the VM
    let console = '';
    const consoleCall = c.instance.Console({ instanceId: 'bomb', follow: true });
    consoleCall.on('data', (m: any) => (console = (console + m.data.toString()).slice(-4096)));
    consoleCall.on('error', () => undefined); // ends with the VM
    bomb.write({ start: { instanceId: 'bomb', args: ['/bin/sh', '-c', FORK_BOMB_SCRIPT] } });
    await waitFor(
      () => SATURATED.test(stderr) || SATURATED.test(console) || ended !== '',
      'the fork bomb to hold the guest at its limits',
      BOMB_SATURATION_MS,
      50,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; its stderr ended with ${JSON.stringify(stderr.slice(-300))}`);
    });
    expect(ended, `the bomb's script ended before saturating; stderr: ${stderr.slice(-300)}`).toBe('');
    consoleCall.cancel();
    expect(await timed(call(c.instance, 'Shutdown', { instanceId: 'bomb' }))).toBeLessThanOrEqual(BOUND_MS);
    const got = await call(c.manager, 'GetInstance', { instanceId: 'bomb' });
    expect(got.state, JSON.stringify(got)).toBe('STATE_STOPPED');
    expect(isRunning(qemu.pid)).toBe(false);
    expect(readRecords(dir)).toEqual([]);
    await call(c.manager, 'DeleteInstance', { instanceId: 'bomb' });
  }, 240_000);

  it('DeleteInstance of a frozen guest (QEMU SIGSTOPped): within 10 s, the state dir and QEMU gone', async () => {
    const dir = await started('frozen');
    const qemu = readRecords(dir).find((r) => r.name === 'qemu')!;
    process.kill(qemu.pid, 'SIGSTOP');
    expect(await timed(call(c.manager, 'DeleteInstance', { instanceId: 'frozen' }))).toBeLessThanOrEqual(BOUND_MS);
    expect(isRunning(qemu.pid)).toBe(false);
    expect(fs.existsSync(dir)).toBe(false);
  }, 240_000);
});

describe('a guest kernel panic', () => {
  it('ends an Exec with the panic as its status; Watch and GetInstance show it failed with GUEST_PANICKED', async () => {
    await started('panic');
    const watch = c.instance.Watch({ instanceId: 'panic' });
    const events: Array<{ state: string; error: { code: string; message: string } | null }> = [];
    watch.on('data', (e: any) => events.push({ state: e.state, error: e.error }));
    const watchEnded = new Promise<void>((resolve, reject) => {
      watch.on('end', resolve);
      watch.on('error', reject);
    });
    const err: any = await execOnce(c.instance, 'panic', ['/bin/sh', '-c', 'echo c > /proc/sysrq-trigger']).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect({ code: err?.code, details: err?.details, vesselCode: err?.metadata?.get('vessel-error-code') }).toEqual({
      code: Status.UNAVAILABLE,
      details: PANIC,
      vesselCode: ['GUEST_PANICKED'],
    });
    await watchEnded;
    expect(events.at(-1)).toEqual({ state: 'STATE_FAILED', error: { code: 'GUEST_PANICKED', message: PANIC } });
    const info = await call(c.manager, 'GetInstance', { instanceId: 'panic' });
    expect({ state: info.state, error: info.error }).toEqual({ state: 'STATE_FAILED', error: { code: 'GUEST_PANICKED', message: PANIC } });
    await call(c.manager, 'DeleteInstance', { instanceId: 'panic' });
  }, 240_000);
});
