// Live restore of `vessel serve`, end to end on real VMs: the daemon runs as a child process
// (bin/vessel.js serve, compiled: npm test builds first) on a private VESSEL_HOME; the
// clients run in-process through runCli. A daemon killed with SIGKILL leaves its VMs
// running; the next daemon on the same home re-attaches them (ps, exec, logs, rm work;
// guest processes of the old session live on) and clears the ones whose QEMU died
// meanwhile, or does not answer (bounded). With --no-live-restore the VMs die with the
// daemon, as before.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/index.js';
import { ATTACH_CONNECT_MS } from '../../src/vm/qemu/attach.js';
import { newTestManager } from '../support/backend.js';
import { isRunning } from '../support/host-processes.js';
import { makePrivateTempDir } from '../support/tmpdir.js';
import { waitFor } from '../support/wait-for.js';
import { processesOf, sink, spawnChild, useTestHome, vesselBin, type Child, type Sink, type TestHome } from './helpers.js';

const BOOT = 180_000;
/** What the API promises for DeleteInstance, whatever the guest does. */
const DELETE_BOUND_MS = 10_000;

let home: TestHome;
let scratch: { dir: string; remove: () => Promise<void> };
let socket: string;
let daemon: Child | undefined;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], opts: { signals?: EventEmitter; stdout?: Sink } = {}): Promise<CliResult> {
  const out = opts.stdout ?? sink();
  const err = sink();
  const [command, ...rest] = args;
  const code = await runCli([command!, '--socket', socket, ...rest], newTestManager, out, err, { signals: opts.signals ?? new EventEmitter() });
  return { code, stdout: out.text(), stderr: err.text() };
}

async function startDaemon(...flags: string[]): Promise<Child> {
  daemon = spawnChild('node', [vesselBin, 'serve', '--socket', socket, ...flags], { VESSEL_HOME: home.dir });
  await daemon.waitForStderr('"msg":"vessel daemon listening"');
  return daemon;
}

async function killDaemon(): Promise<void> {
  daemon!.proc.kill('SIGKILL');
  expect(await daemon!.exited).toEqual({ code: null, signal: 'SIGKILL' });
}

/** The VM helper processes started under this home (qemu, virtiofsd, passt), by pid. */
function helpers(): Array<{ pid: number; comm: string }> {
  return processesOf(home).filter((p) => /^(qemu|virtiofsd|passt)/.test(p.comm));
}

function instanceDir(id: string): string {
  return path.join(home.dir, 'daemon', 'instances', id);
}

/** The daemon's JSON log lines with this message. */
function logLines(d: Child, msg: string): Array<Record<string, unknown>> {
  return d
    .stderr()
    .split('\n')
    .filter((l) => l.includes(`"msg":"${msg}"`))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

beforeAll(async () => {
  home = await useTestHome();
  scratch = await makePrivateTempDir('cli-live-restore');
  fs.mkdirSync(path.join(scratch.dir, 'share'));
  fs.writeFileSync(path.join(scratch.dir, 'share', 'f.txt'), 'from the host\n');
  socket = path.join(scratch.dir, 'vessel.sock');
}, 600_000);

afterAll(async () => {
  if (daemon && daemon.proc.exitCode === null && daemon.proc.signalCode === null) {
    daemon.proc.kill('SIGTERM');
    await daemon.exited;
  }
  // nothing a daemon started may outlive the test (a failed test leaves its VMs to this)
  for (const p of helpers()) process.kill(p.pid, 'SIGKILL');
  await scratch?.remove();
  await home?.restore();
});

describe('vessel serve live restore', () => {
  it(
    'SIGKILL leaves the VM running; the next daemon re-attaches it: ps, exec, the console and rm work, old guest processes live on, nothing leaks',
    async () => {
      await startDaemon();
      expect((await cli(['create', '--id', 'lr1', '-v', `${path.join(scratch.dir, 'share')}:/data:ro`])).code).toBe(0);
      // a guest process that outlives its exec call (the daemon dies under it)
      const out = sink();
      const running = cli(['exec', 'lr1', '--', 'sh', '-c', 'echo $$ > /tmp/old-exec; echo started; exec sleep 1000'], { stdout: out });
      await waitFor(() => out.text() === 'started\n', 'the exec to start', 30_000);
      const before = helpers();
      expect([...new Set(before.map((p) => p.comm))].sort()).toEqual(['qemu-system-x86', 'virtiofsd']);

      await killDaemon();
      expect((await running).code).toBe(125); // its daemon is gone
      for (const p of before) expect(isRunning(p.pid), `${p.comm} ${p.pid} outlives the daemon`).toBe(true);

      const next = await startDaemon();
      expect(logLines(next, 're-attached an instance a previous daemon left running').map((l) => l.id)).toEqual(['lr1']);
      expect((await cli(['ps'])).stdout).toMatch(/^lr1\s+running\s+(kvm|tcg)\s+1\s+256 MiB\s/m);
      // a new agent session: exec works, through the same virtiofsd, and the old session's process still runs
      expect(await cli(['exec', 'lr1', '--', 'cat', '/data/f.txt'])).toEqual({ code: 0, stdout: 'from the host\n', stderr: '' });
      expect(await cli(['exec', 'lr1', '--', 'sh', '-c', 'kill -0 "$(cat /tmp/old-exec)" && echo alive'])).toEqual({ code: 0, stdout: 'alive\n', stderr: '' });
      // the console is read again (and logged after what the first daemon logged)
      expect((await cli(['exec', 'lr1', '--', 'sh', '-c', 'echo after-restore > /dev/console'])).code).toBe(0);
      await waitFor(() => fs.readFileSync(path.join(instanceDir('lr1'), 'console.log'), 'utf8').includes('after-restore'), 'the console line', 30_000);
      const logs = (await cli(['logs', 'lr1'])).stdout;
      expect(logs).toContain('vessel-agent'); // from the boot, under the first daemon
      expect(logs.indexOf('after-restore')).toBeGreaterThan(logs.indexOf('vessel-agent'));
      expect(helpers()).toEqual(before); // the same processes, nothing new

      const t0 = Date.now();
      expect(await cli(['rm', 'lr1'])).toEqual({ code: 0, stdout: 'lr1\n', stderr: '' });
      expect(Date.now() - t0).toBeLessThanOrEqual(DELETE_BOUND_MS);
      for (const p of before) expect(isRunning(p.pid), `${p.comm} ${p.pid} ended by rm`).toBe(false);
      expect(helpers()).toEqual([]);
      expect(fs.existsSync(instanceDir('lr1'))).toBe(false);
      expect((await cli(['ps', '--json'])).stdout).toBe('[]\n');
    },
    BOOT,
  );

  it(
    'a VM whose QEMU died while no daemon was running is reaped by the next one: its helpers ended, its dir removed, the log says why',
    async () => {
      expect((await cli(['create', '--id', 'lr2', '-v', `${path.join(scratch.dir, 'share')}:/data`])).code).toBe(0);
      const procs = helpers();
      const qemu = procs.find((p) => p.comm.startsWith('qemu'))!;
      await killDaemon();
      process.kill(qemu.pid, 'SIGKILL');
      await waitFor(() => !isRunning(qemu.pid), 'QEMU to die', 10_000);

      const next = await startDaemon();
      const removed = logLines(next, 'removed a state dir a previous daemon left behind');
      expect(removed).toEqual([expect.objectContaining({ id: 'lr2', why: expect.stringMatching(/QEMU is gone/) })]);
      expect(logLines(next, 're-attached an instance a previous daemon left running')).toEqual([]);
      for (const p of procs) expect(isRunning(p.pid), `${p.comm} ${p.pid}`).toBe(false);
      expect(fs.existsSync(instanceDir('lr2'))).toBe(false);
      expect((await cli(['ps', '--json'])).stdout).toBe('[]\n');
    },
    BOOT,
  );

  it(
    'a VM whose QEMU does not answer (SIGSTOPped) holds the next daemon up at most the attach deadline; it is ended and cleared',
    async () => {
      expect((await cli(['create', '--id', 'lr4'])).code).toBe(0);
      const qemu = helpers().find((p) => p.comm.startsWith('qemu'))!;
      await killDaemon();
      process.kill(qemu.pid, 'SIGSTOP');
      const t0 = Date.now();
      const next = await startDaemon();
      expect(Date.now() - t0).toBeLessThan(ATTACH_CONNECT_MS + 10_000); // (plus the daemon's own start)
      expect(logLines(next, 'removed a state dir a previous daemon left behind')).toEqual([
        expect.objectContaining({ id: 'lr4', why: `QEMU did not answer on its console, QMP and agent sockets within ${ATTACH_CONNECT_MS} ms` }),
      ]);
      expect(isRunning(qemu.pid)).toBe(false);
      expect(fs.existsSync(instanceDir('lr4'))).toBe(false);
    },
    BOOT,
  );

  it(
    'with --no-live-restore the VMs die with the daemon, and the next daemon clears their dirs',
    async () => {
      daemon!.proc.kill('SIGTERM');
      expect(await daemon!.exited).toEqual({ code: 0, signal: null });
      await startDaemon('--no-live-restore');
      expect((await cli(['create', '--id', 'lr3'])).code).toBe(0);
      const procs = helpers();
      expect(procs.map((p) => p.comm)).toEqual(['qemu-system-x86']);
      await killDaemon();
      // the parent-death signal ends QEMU with the daemon
      await waitFor(() => !isRunning(procs[0]!.pid), 'QEMU to die with its daemon', 10_000);

      const next = await startDaemon();
      expect(logLines(next, 'removed a state dir a previous daemon left behind')).toEqual([expect.objectContaining({ id: 'lr3' })]);
      expect(fs.existsSync(instanceDir('lr3'))).toBe(false);
      next.proc.kill('SIGTERM');
      expect(await next.exited).toEqual({ code: 0, signal: null });
      expect(helpers()).toEqual([]);
    },
    BOOT,
  );
});
