// `vessel serve` and its client commands end to end: the daemon runs as a child process
// (bin/vessel.js serve, compiled: npm test builds first) on a private VESSEL_HOME that
// shares the real image cache; the clients (create, ps, exec, logs, stop, rm) run
// in-process through runCli with fake stdio and signals. Two real VMs in all: t1 carries
// the client checks, t2 is running when the daemon gets SIGTERM.
import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/index.js';
import { newTestManager } from '../support/backend.js';
import { makePrivateTempDir } from '../support/tmpdir.js';
import { waitFor } from '../support/wait-for.js';
import { processesOf, sink, spawnChild, useTestHome, vesselBin, type Child, type Sink, type TestHome } from './helpers.js';

const BOOT = 180_000;
/** How long a daemon with one running VM may take to stop after SIGTERM. */
const STOP_BOUND_MS = 30_000;

let home: TestHome;
let scratch: { dir: string; remove: () => Promise<void> };
let daemon: Child;
let socket: string;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], opts: { stdin?: PassThrough; signals?: EventEmitter; stdout?: Sink } = {}): Promise<CliResult> {
  const out = opts.stdout ?? sink();
  const err = sink();
  const [command, ...rest] = args;
  const code = await runCli([command!, '--socket', socket, ...rest], newTestManager, out, err, {
    signals: opts.signals ?? new EventEmitter(),
    ...(opts.stdin ? { stdin: opts.stdin } : {}),
  });
  return { code, stdout: out.text(), stderr: err.text() };
}

function qemus(): Array<{ pid: number; comm: string }> {
  return processesOf(home).filter((p) => p.comm.startsWith('qemu'));
}

beforeAll(async () => {
  home = await useTestHome();
  scratch = await makePrivateTempDir('cli-serve');
  fs.mkdirSync(path.join(scratch.dir, 'share'));
  fs.writeFileSync(path.join(scratch.dir, 'share', 'f.txt'), 'from the host\n');
  socket = path.join(scratch.dir, 'vessel.sock');
  daemon = spawnChild('node', [vesselBin, 'serve', '--socket', socket], { VESSEL_HOME: home.dir });
  await daemon.waitForStderr('"msg":"vessel daemon listening"');
}, 600_000);

afterAll(async () => {
  if (daemon && daemon.proc.exitCode === null && daemon.proc.signalCode === null) {
    daemon.proc.kill('SIGKILL');
    await daemon.exited;
  }
  await scratch?.remove();
  await home?.restore();
});

describe('vessel serve with real VMs', () => {
  it(
    'listens on a private socket; create boots an instance that ps lists as running',
    async () => {
      expect(fs.statSync(socket).mode & 0o777).toBe(0o600);
      const created = await cli(['create', '--id', 't1', '--cpus', '1', '-m', '192', '-v', `${path.join(scratch.dir, 'share')}:/data:ro`]);
      expect(created).toEqual({ code: 0, stdout: 't1\n', stderr: '' });
      const ps = await cli(['ps']);
      expect(ps.code).toBe(0);
      expect(ps.stdout).toMatch(/^ID\s+STATE\s+ACCEL\s+CPUS\s+MEMORY\s+AGE\n/);
      expect(ps.stdout).toMatch(/^t1\s+running\s+(kvm|tcg)\s+1\s+192 MiB\s+\d+[smhd]$/m);
      const json = JSON.parse((await cli(['ps', '--json'])).stdout);
      expect(json).toHaveLength(1);
      expect(json[0]).toMatchObject({
        id: 't1',
        state: 'STATE_RUNNING',
        config: { cpu: 1, ramMib: 192, shares: [{ tag: 'vol0', mountPoint: '/data', readOnly: true }] },
      });
      expect(qemus()).toHaveLength(1);
    },
    BOOT,
  );

  it('exec: stdout and stderr apart, the exit code, -e and -w', async () => {
    const r = await cli(['exec', 't1', '--', 'sh', '-c', 'echo hi; cat /data/f.txt; echo oops >&2; exit 3']);
    expect(r).toEqual({ code: 3, stdout: 'hi\nfrom the host\n', stderr: 'oops\n' });
    const env = await cli(['exec', '-e', 'FOO=bar', '-w', '/tmp', 't1', 'sh', '-c', 'echo "$FOO"; pwd; kill -TERM $$']);
    expect(env).toEqual({ code: 128 + 15, stdout: 'bar\n/tmp\n', stderr: '' });
  });

  it('exec -i: stdin reaches the command byte-exact (1 MiB, fed with backpressure), EOF ends it', async () => {
    const payload = crypto.randomBytes(1 << 20);
    const stdin = new PassThrough({ highWaterMark: 16 * 1024 });
    const fed = (async () => {
      for (let off = 0; off < payload.length; off += 64 * 1024) {
        if (!stdin.write(payload.subarray(off, off + 64 * 1024))) await new Promise((r) => stdin.once('drain', r));
      }
      stdin.end();
    })();
    const r = await cli(['exec', '-i', 't1', '--', 'sh', '-c', 'sha256sum; wc -c < /dev/null'], { stdin });
    await fed;
    expect(r).toEqual({ code: 0, stdout: `${crypto.createHash('sha256').update(payload).digest('hex')}  -\n0\n`, stderr: '' });
  });

  it('exec: 127 for a command the guest lacks, 125 with what to do for an unknown instance', async () => {
    const missing = await cli(['exec', 't1', 'no-such-command']);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toMatch(/^vessel exec: no-such-command: .*not found/);
    const unknown = await cli(['exec', 'nope', 'true']);
    expect(unknown.code).toBe(125);
    expect(unknown.stderr).toBe('vessel exec: NOT_FOUND: no instance "nope"\n  → `vessel ps` lists the instances of this daemon\n');
  });

  it("exec: SIGINT reaches the guest process as a signal message; its status becomes vessel's", async () => {
    const signals = new EventEmitter();
    const out = sink();
    const running = cli(['exec', 't1', '--', 'sh', '-c', 'trap "echo got-int; exit 5" INT; echo started; while :; do sleep 1; done'], { signals, stdout: out });
    await waitFor(() => out.text() === 'started\n', 'the command to start', 30_000);
    signals.emit('SIGINT');
    expect(await running).toEqual({ code: 5, stdout: 'started\ngot-int\n', stderr: '' });
  });

  it('exec: a second signal ends the call at once (128+N) and the daemon kills the process', async () => {
    const signals = new EventEmitter();
    const out = sink();
    const running = cli(['exec', 't1', '--', 'sh', '-c', 'trap "" INT TERM; echo $$ > /tmp/ignorer; echo started; while :; do sleep 1; done'], {
      signals,
      stdout: out,
    });
    await waitFor(() => out.text() === 'started\n', 'the command to start', 30_000);
    signals.emit('SIGTERM');
    signals.emit('SIGTERM');
    expect((await running).code).toBe(128 + 15);
    // the process that ignored the signal is gone (the daemon killed it when the call ended)
    // (the kill is asynchronous to the call's end: ask the guest until it is gone, bounded)
    const deadline = Date.now() + 15_000;
    let alive: string;
    do {
      alive = (await cli(['exec', 't1', 'sh', '-c', 'kill -0 "$(cat /tmp/ignorer)" 2>/dev/null && echo alive || echo gone'])).stdout;
    } while (alive !== 'gone\n' && Date.now() < deadline);
    expect(alive).toBe('gone\n');
  });

  it('exec -t: a terminal of the host size that follows SIGWINCH', async () => {
    const signals = new EventEmitter();
    const out = Object.assign(sink(), { isTTY: true, rows: 24, columns: 80 });
    const running = cli(['exec', '-t', 't1', '--', 'sh', '-c', 'trap "stty size; exit 0" WINCH; tty >/dev/null && stty size; while :; do sleep 1; done'], {
      signals,
      stdout: out,
    });
    await waitFor(() => out.text().includes('24 80'), 'the first size', 30_000);
    Object.assign(out, { rows: 40, columns: 100 });
    signals.emit('SIGWINCH');
    expect(await running).toEqual({ code: 0, stdout: '24 80\r\n40 100\r\n', stderr: '' });
  });

  it('logs prints the guest console; -f follows it until interrupted (130)', async () => {
    const logs = await cli(['logs', 't1']);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain('vessel-agent');
    const marker = `follow-${crypto.randomBytes(4).toString('hex')}`;
    expect(logs.stdout).not.toContain(marker);
    const signals = new EventEmitter();
    const out = sink();
    const following = cli(['logs', '-f', 't1'], { signals, stdout: out });
    await waitFor(() => out.text().length >= logs.stdout.length, 'the logged console', 30_000);
    expect((await cli(['exec', 't1', 'sh', '-c', `echo ${marker} > /dev/console`])).code).toBe(0);
    await waitFor(() => out.text().includes(marker), 'the marker on the followed console', 30_000);
    signals.emit('SIGINT');
    expect((await following).code).toBe(130);
  });

  it('stop shuts the VM down (ps: stopped, exec: UNAVAILABLE with what to do); rm removes it and its state', async () => {
    expect(await cli(['stop', 't1'])).toEqual({ code: 0, stdout: 't1\n', stderr: '' });
    expect(qemus()).toEqual([]);
    expect((await cli(['ps'])).stdout).toMatch(/^t1\s+stopped\s/m);
    const exec = await cli(['exec', 't1', 'true']);
    expect(exec.code).toBe(125);
    expect(exec.stderr).toMatch(/^vessel exec: UNAVAILABLE: .*\n {2}→ .*`vessel ps` shows whether it stopped or failed/);
    const rm = await cli(['rm', 't1', 'nope']);
    expect(rm.code).toBe(125);
    expect(rm.stdout).toBe('t1\n');
    expect(rm.stderr).toMatch(/^vessel rm: NOT_FOUND: no instance "nope"/);
    expect((await cli(['ps', '--json'])).stdout).toBe('[]\n');
    expect(fs.existsSync(path.join(home.dir, 'daemon', 'instances', 't1'))).toBe(false);
  });

  it(
    'SIGTERM: the daemon shuts its running VM down and exits 0 in bounded time, its socket removed',
    async () => {
      expect((await cli(['create', '--id', 't2'])).code).toBe(0);
      expect(qemus()).toHaveLength(1);
      daemon.proc.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the daemon did not exit within ${STOP_BOUND_MS} ms`)), STOP_BOUND_MS);
      });
      const { code, signal } = await Promise.race([daemon.exited, bound]).finally(() => clearTimeout(timer));
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      expect(qemus()).toEqual([]);
      expect(processesOf(home)).toEqual([]);
      expect(fs.existsSync(socket)).toBe(false);
      expect(daemon.stderr()).toContain('"msg":"vessel daemon stopped"');
      // and the clients now say so
      const ps = await cli(['ps']);
      expect(ps.code).toBe(125);
      expect(ps.stderr).toBe(`vessel ps: cannot reach the vessel daemon: no socket there; is \`vessel serve\` running? socket ${socket}\n`);
    },
    BOOT,
  );
});
