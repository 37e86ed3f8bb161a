// `vessel run` end to end: each case boots a real VM (QEMU TCG) from the default image,
// so several checks share one boot where that is honest. In-process runs go through
// runCli with fake stdio (the same code as bin/vessel.js); signals and the terminal need
// the real process, so those cases run bin/vessel.js (compiled: npm test builds first).
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/index.js';
import { newTestManager } from '../support/backend.js';
import { passtHostDefaults } from '../../src/vm/index.js';
import { makePrivateTempDir } from '../support/tmpdir.js';
import { waitFor } from '../support/wait-for.js';
import { instanceDirs, processesOf, sink, spawnChild, useTestHome, vesselBin, type TestHome } from './helpers.js';

const BOOT = 120_000;
let home: TestHome;
let scratch: { dir: string; remove: () => Promise<void> };

beforeAll(async () => {
  home = await useTestHome();
  scratch = await makePrivateTempDir('cli-run');
}, 600_000);

afterAll(async () => {
  await scratch?.remove();
  await home?.restore();
});

afterEach(() => {
  // Every run leaves nothing behind: no instance dir, no qemu / virtiofsd / passt.
  expect(instanceDirs(home)).toEqual([]);
  expect(processesOf(home)).toEqual([]);
});

async function run(args: string[], stdin?: PassThrough, extra: Parameters<typeof runCli>[4] = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = sink();
  const err = sink();
  const code = await runCli(['run', ...args], newTestManager, out, err, { ...(stdin ? { stdin } : {}), ...extra });
  return { code, stdout: out.text(), stderr: err.text() };
}

describe('vessel run (real VMs)', () => {
  it(
    'exit 7, stdout and stderr apart, 16 MiB of stdin byte-exact, no TTY without -t',
    async () => {
      const payload = crypto.randomBytes(16 << 20);
      const stdin = new PassThrough({ highWaterMark: 64 * 1024 });
      // fed with backpressure: write() waits for 'drain', as a pipe from another process would
      const fed = (async () => {
        for (let off = 0; off < payload.length; off += 256 * 1024) {
          if (!stdin.write(payload.subarray(off, off + 256 * 1024))) await new Promise((r) => stdin.once('drain', r));
        }
        stdin.end();
      })();
      const r = await run(['-i', '--', 'sh', '-c', 'sha256sum; tty; echo to-stderr >&2; exit 7'], stdin);
      await fed;
      expect(r.code).toBe(7);
      const sha = crypto.createHash('sha256').update(payload).digest('hex');
      expect(r.stdout).toBe(`${sha}  -\nnot a tty\n`);
      expect(r.stderr).toBe('to-stderr\n');
    },
    BOOT,
  );

  it(
    'killed by a signal: 128+N; -v shares are visible, writable ones write to the host, :ro ones refuse',
    async () => {
      const rw = path.join(scratch.dir, 'rw');
      const ro = path.join(scratch.dir, 'ro');
      fs.mkdirSync(rw);
      fs.mkdirSync(ro);
      fs.writeFileSync(path.join(ro, 'from-host'), 'host data\n');
      const script = [
        'cat /in/from-host',
        'echo guest data > /out/from-guest',
        'if echo x > /in/new 2>/dev/null; then echo ro-writable; else echo ro-refused; fi',
        'kill -TERM $$',
      ].join('; ');
      const r = await run(['-v', `${rw}:/out`, '-v', `${ro}:/in:ro`, '--', 'sh', '-c', script]);
      expect(r.code).toBe(128 + 15);
      expect(r.stdout).toBe('host data\nro-refused\n');
      expect(fs.readFileSync(path.join(rw, 'from-guest'), 'utf8')).toBe('guest data\n');
      expect(fs.readdirSync(ro)).toEqual(['from-host']);
    },
    BOOT,
  );

  it(
    '--net reaches an HTTP server on the host loopback through the gateway; --disk mounts an ext4 image read-only',
    async () => {
      const server = http.createServer((_req, res) => res.end('hello from the host\n'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as AddressInfo).port;
      const content = path.join(scratch.dir, 'disk-content');
      fs.mkdirSync(content);
      fs.writeFileSync(path.join(content, 'on-disk'), 'disk data\n');
      const img = path.join(scratch.dir, 'disk.img');
      execFileSync('mkfs.ext4', ['-q', '-F', '-d', content, img, '8M']);
      const before = crypto.createHash('sha256').update(fs.readFileSync(img)).digest('hex');
      try {
        const gateway = passtHostDefaults().gateway!;
        const script = [
          `wget -qO- http://${gateway}:${port}/`,
          'cat /disk/on-disk',
          'if touch /disk/new 2>/dev/null; then echo disk-writable; else echo disk-refused; fi',
        ].join('; ');
        const r = await run(['--net', '--disk', `${img}:/disk:ro`, '--', 'sh', '-c', script]);
        expect(r.stderr).toBe('');
        expect(r.stdout).toBe('hello from the host\ndisk data\ndisk-refused\n');
        expect(r.code).toBe(0);
        expect(crypto.createHash('sha256').update(fs.readFileSync(img)).digest('hex')).toBe(before);
      } finally {
        server.close();
      }
    },
    BOOT,
  );

  it(
    'a command the guest does not have exits 127',
    async () => {
      const r = await run(['--', 'no-such-command', 'arg']);
      expect(r.code).toBe(127);
      expect(r.stderr).toMatch(/^vessel run: no-such-command: .*not found/);
      expect(r.stdout).toBe('');
    },
    BOOT,
  );

  it(
    '-it gives the command a terminal of the host size, and the host terminal is restored after',
    async () => {
      // script(1) runs vessel on a pseudo-terminal; stty after vessel shows the restored modes
      const inner = `stty rows 33 cols 111; node ${vesselBin} run -it -- sh -c 'tty; stty size; exit 3'; echo "vessel=$?"; stty -a`;
      const child = spawnChild('script', ['-qec', inner, '/dev/null'], { VESSEL_HOME: home.dir });
      const { code } = await child.exited;
      child.proc.stdin!.end();
      const out = child.stdout();
      expect(code).toBe(0);
      // the guest pty writes \r\n; the host terminal in raw mode passes it unchanged
      expect(out).toMatch(/^\/dev\/pts\/\d+\r\n33 111\r\nvessel=3\r\n/);
      const modes = out.slice(out.indexOf('vessel=3'));
      expect(modes).toMatch(/(^|\s)icanon(\s|$)/m);
      expect(modes).toMatch(/(^|\s)echo(\s|$)/m);
      expect(modes).toMatch(/(^|\s)opost(\s|$)/m);
    },
    BOOT,
  );

  it(
    "SIGINT reaches the guest process, whose status becomes vessel's; everything is torn down",
    async () => {
      const child = spawnChild('node', [vesselBin, 'run', '--', 'sh', '-c', 'trap "echo got-int; exit 5" INT; echo started; while :; do sleep 1; done'], {
        VESSEL_HOME: home.dir,
      });
      await child.waitForStdout('started\n');
      expect(instanceDirs(home)).toHaveLength(1);
      child.proc.kill('SIGINT');
      const { code } = await child.exited;
      expect(child.stdout()).toBe('started\ngot-int\n');
      expect(code).toBe(5);
    },
    BOOT,
  );

  it(
    '-t follows the host window size on SIGWINCH',
    async () => {
      const signals = new EventEmitter();
      const out = Object.assign(sink(), { isTTY: true, rows: 24, columns: 80 });
      const err = sink();
      const running = runCli(
        ['run', '-t', '--', 'sh', '-c', 'trap "stty size; exit 0" WINCH; stty size; while :; do sleep 1; done'],
        newTestManager,
        out,
        err,
        { signals },
      );
      await waitFor(() => out.text().includes('24 80'), 'the first size', BOOT);
      Object.assign(out, { rows: 40, columns: 100 });
      signals.emit('SIGWINCH');
      expect(await running).toBe(0);
      expect(out.text()).toBe('24 80\r\n40 100\r\n');
      expect(err.text()).toBe('');
    },
    BOOT,
  );

  it(
    'SIGTERM while the VM boots stops the boot: 143, nothing left',
    async () => {
      const signals = new EventEmitter();
      const err = sink();
      const running = runCli(['run', '-v', `${scratch.dir}:/s`, '--', 'true'], newTestManager, sink(), err, { signals });
      // once QEMU runs (the boot is under way), not before
      await waitFor(() => processesOf(home).some((p) => p.comm.startsWith('qemu')), 'QEMU to start', BOOT);
      signals.emit('SIGTERM');
      expect(await running).toBe(143);
      expect(err.text()).toBe('');
    },
    BOOT,
  );

  it(
    'a second SIGINT kills a VM that no longer answers at once (no graceful shutdown): 130, nothing left',
    async () => {
      const signals = new EventEmitter();
      const out = sink();
      const running = runCli(['run', '--', 'sh', '-c', 'echo started; sleep 1000'], newTestManager, out, sink(), { signals });
      await waitFor(() => out.text() === 'started\n', 'the command to start', BOOT);
      const qemu = processesOf(home).filter((p) => p.comm.startsWith('qemu'));
      expect(qemu).toHaveLength(1);
      process.kill(qemu[0]!.pid, 'SIGSTOP'); // the guest freezes: a graceful shutdown would wait out its timeouts (> 5 s)
      signals.emit('SIGINT'); // forwarded (never answered)
      const second = Date.now();
      signals.emit('SIGINT');
      expect(await running).toBe(130);
      expect(Date.now() - second).toBeLessThan(4_000);
    },
    BOOT,
  );

  it(
    'QEMU killed under the command: 125 with why, everything reaped',
    async () => {
      const out = sink();
      const err = sink();
      const running = runCli(['run', '--', 'sh', '-c', 'echo started; sleep 1000'], newTestManager, out, err);
      await waitFor(() => out.text() === 'started\n', 'the command to start', BOOT);
      const qemu = processesOf(home).filter((p) => p.comm.startsWith('qemu'));
      expect(qemu).toHaveLength(1);
      process.kill(qemu[0]!.pid, 'SIGKILL');
      expect(await running).toBe(125);
      expect(err.text()).toMatch(/^vessel run: VM_EXITED: .*SIGKILL/);
    },
    BOOT,
  );
});
