// Teardown and guest death on real VMs (QEMU backend). shutdown() settles within
// SHUTDOWN_BOUND_MS whatever the guest does: a frozen QEMU (SIGSTOP: neither the agent nor
// QMP answers) or a guest wedged by a fork bomb; and nothing is left. A guest kernel panic
// fails the instance with GUEST_PANICKED and the panic line, which state watchers see and
// the console log keeps: reported by the pvpanic device (QEMU exits 1), and read off the
// console when the guest's pvpanic driver is not there (the guest reboots: QEMU exits 0).
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execWithStreams } from '../../src/agent/index.js';
import { MIN_RAM_MIB, QemuManager, type QemuInstance, type StateChange } from '../../src/vm/index.js';
import { readRecords } from '../../src/vm/helpers/records.js';
import { AGENT_SHUTDOWN_MS, QMP_QUIT_MS, SHUTDOWN_BOUND_MS } from '../../src/vm/qemu/deadlines.js';
import { shInGuest } from '../support/guest-exec.js';
import { isRunning, ownHelperProcesses } from '../support/host-processes.js';
import { makePrivateTempDir } from '../support/tmpdir.js';
import { BOMB_SATURATION_MS, FORK_BOMB_SCRIPT, SATURATED } from '../support/fork-bomb.js';
import { waitFor } from '../support/wait-for.js';

const PANIC = 'the guest kernel panicked: Kernel panic - not syncing: sysrq triggered crash';

let tmp: { dir: string; remove: () => Promise<void> };
let share: string;
let n = 0;
/** vessel's log lines (JSON), to see how QEMU exited. */
const logLines: Array<Record<string, unknown>> = [];
const logger = pino(
  { level: 'debug' },
  new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  }),
);
const manager = new QemuManager({ logger });

async function newInstance(): Promise<{ inst: QemuInstance; stateDir: string }> {
  const stateDir = path.join(tmp.dir, `state${++n}`);
  fs.mkdirSync(stateDir);
  const inst = await manager.newInstance(stateDir);
  inst.setCPUAndMemory(1, MIN_RAM_MIB);
  return { inst, stateDir };
}

/** How QEMU of this state dir exited, from vessel's log. */
function qemuExit(stateDir: string): { code: unknown; signal: unknown } | undefined {
  const l = logLines.find((e) => e.stateDir === stateDir && e.process === 'qemu' && e.msg === 'helper process exited');
  return l && { code: l.code, signal: l.signal };
}

beforeAll(async () => {
  tmp = await makePrivateTempDir('teardown');
  share = path.join(tmp.dir, 'share');
  fs.mkdirSync(share);
});

afterAll(async () => {
  expect(ownHelperProcesses()).toEqual([]);
  await tmp.remove();
});

describe('shutdown() is bounded whatever the guest does', () => {
  it('a frozen QEMU (SIGSTOP): each step gets its deadline, then SIGKILL; QEMU and virtiofsd are gone', async () => {
    const { inst, stateDir } = await newInstance();
    inst.addFS('data', share);
    await inst.start();
    const records = readRecords(stateDir);
    const qemu = records.find((r) => r.name === 'qemu')!;
    process.kill(qemu.pid, 'SIGSTOP'); // neither the agent nor QMP will ever answer
    const t0 = performance.now();
    await inst.shutdown();
    const took = performance.now() - t0;
    expect(took).toBeLessThanOrEqual(SHUTDOWN_BOUND_MS);
    // it escalated: the agent and QMP quit were each waited for, up to their deadlines
    expect(took).toBeGreaterThanOrEqual(AGENT_SHUTDOWN_MS + QMP_QUIT_MS - 50);
    expect(inst.state()).toBe('stopped');
    for (const r of records) expect(isRunning(r.pid)).toBe(false);
    expect(readRecords(stateDir)).toEqual([]);
    expect(ownHelperProcesses()).toEqual([]);
  });

  it('a guest wedged by a fork bomb: stopped within the bound, nothing left', async () => {
    const { inst, stateDir } = await newInstance();
    inst.setCPUAndMemory(1, 256);
    try {
      // (without liveness: a guest this wedged would otherwise be failed as unresponsive first)
      await inst.start({ liveness: false });
      const bomb = await execWithStreams(inst.client(), { args: ['/bin/sh', '-c', FORK_BOMB_SCRIPT] }, { stderr: 'open' });
      let stderr = '';
      bomb.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4096)));
      let console = '';
      const unsubscribe = inst.onConsole((c) => (console = (console + c.toString()).slice(-4096)));
      bomb.exited.catch(() => undefined); // ends with the VM
      await waitFor(() => SATURATED.test(stderr) || SATURATED.test(console), 'the fork bomb to hold the guest at its limits', BOMB_SATURATION_MS, 50);
      unsubscribe();
      const qemu = readRecords(stateDir).find((r) => r.name === 'qemu')!;
      const t0 = performance.now();
      await inst.shutdown();
      expect(performance.now() - t0).toBeLessThanOrEqual(SHUTDOWN_BOUND_MS);
      expect(inst.state()).toBe('stopped');
      expect(isRunning(qemu.pid)).toBe(false);
      expect(readRecords(stateDir)).toEqual([]);
      bomb.close();
    } finally {
      await inst.shutdown({ now: true });
    }
  }, 240_000);
});

const PVPANIC_DRIVER = '/sys/bus/platform/drivers/pvpanic-mmio';

/** Waits (in the guest, at most 60 s) for the pvpanic driver, loaded in the background after the agent is up, to bind QEMU's device. */
async function pvpanicBound(inst: QemuInstance): Promise<void> {
  await shInGuest(
    inst,
    `i=0; while [ ! -e ${PVPANIC_DRIVER}/QEMU0001:00 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; [ -e ${PVPANIC_DRIVER}/QEMU0001:00 ]`,
  );
}

describe('a guest kernel panic', () => {
  async function panicAndWatch(inst: QemuInstance): Promise<StateChange[]> {
    const changes: StateChange[] = [];
    inst.onStateChange((c) => changes.push(c));
    const agent = inst.client();
    // the panic ends the VM under the call: it fails, the instance says why
    const crash = agent.exec({ execId: 'crash', args: ['/bin/sh', '-c', 'echo c > /proc/sysrq-trigger'] }).then(() => agent.wait('crash'));
    await expect(crash).rejects.toThrow();
    await inst.whenStopped();
    return changes;
  }

  function expectPanicked(inst: QemuInstance, changes: StateChange[]): void {
    expect(inst.state()).toBe('failed');
    expect(inst.failure()).toMatchObject({ code: 'GUEST_PANICKED', message: PANIC });
    expect(changes.map((c) => c.state)).toEqual(['failed']);
    expect(changes[0]!.error).toMatchObject({ code: 'GUEST_PANICKED', message: PANIC });
    // the console log keeps the last lines: the panic is in it
    expect(fs.readFileSync(inst.consoleLogPath, 'utf8')).toContain('Kernel panic - not syncing: sysrq triggered crash');
  }

  it('reported by pvpanic: QEMU exits 1; the instance fails with GUEST_PANICKED and the panic line', async () => {
    const { inst, stateDir } = await newInstance();
    await inst.start();
    await pvpanicBound(inst);
    const changes = await panicAndWatch(inst);
    expectPanicked(inst, changes);
    expect(qemuExit(stateDir)).toEqual({ code: 1, signal: null });
    expect(readRecords(stateDir)).toEqual([]);
    await inst.shutdown();
    expect(inst.state()).toBe('failed');
  });

  it('read off the console without the pvpanic driver: the guest reboots (QEMU exits 0), still GUEST_PANICKED', async () => {
    const { inst, stateDir } = await newInstance();
    await inst.start();
    await pvpanicBound(inst);
    // the kernel no longer tells QEMU
    await shInGuest(inst, `echo QEMU0001:00 > ${PVPANIC_DRIVER}/unbind`);
    const changes = await panicAndWatch(inst);
    expectPanicked(inst, changes);
    expect(qemuExit(stateDir)).toEqual({ code: 0, signal: null });
    expect(readRecords(stateDir)).toEqual([]);
  });
});
