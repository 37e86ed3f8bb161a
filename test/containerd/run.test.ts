// containerd-shim-vessel-v2 under a real (private) containerd: `ctr run` with the vessel
// runtime runs the container's process in a microVM, with its output and exact exit code.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountsBelow, processesWorkingIn, type PrivateContainerd } from '../support/containerd.js';
import { IMAGE, RUNTIME, containerdWithVessel, eventually, logTail, vmHelpers } from './helpers.js';

describe('ctr with the vessel runtime', () => {
  let c: PrivateContainerd;
  const why = () => logTail(c);

  beforeAll(async () => {
    c = await containerdWithVessel();
  }, 600_000);

  afterAll(async () => {
    await c?.stop();
  });

  it('ctr run -d, task exec, ps, kill and delete behave as with runc', async () => {
    // (as under runc, the process is PID 1 of its own PID namespace: without a handler it would ignore SIGTERM)
    const run = await c.ctr(['run', '-d', '--runtime', RUNTIME, IMAGE, 'd1', 'sh', '-c', 'trap "exit 0" TERM; sleep 600 & wait'], { timeoutMs: 120_000 });
    expect(run.code, `${run.stderr}\n${why()}`).toBe(0);
    const ls = await c.ctr(['task', 'ls']);
    expect(ls.stdout, why()).toMatch(/^d1\s+\d+\s+RUNNING$/m);
    const exec = await c.ctr(['task', 'exec', '--exec-id', 'e1', 'd1', 'cat', '/etc/hostname'], { timeoutMs: 60_000 });
    expect({ code: exec.code, stdout: exec.stdout }, `${exec.stderr}\n${why()}`).toEqual({ code: 0, stdout: 'vessel-shim\n' });
    const failing = await c.ctr(['task', 'exec', '--exec-id', 'e2', 'd1', 'sh', '-c', 'exit 42'], { timeoutMs: 60_000 });
    expect(failing.code, failing.stderr).toBe(42);
    const ps = await c.ctr(['task', 'ps', 'd1']);
    expect(ps.code, ps.stderr).toBe(0);
    expect(ps.stdout).toMatch(/^PID\s+INFO\n\d+\s+-\n\d+\s+-$/m); // sh and its sleep
    const kill = await c.ctr(['task', 'kill', 'd1']);
    expect(kill.code, kill.stderr).toBe(0);
    // kill returns at once; the exit reaches State when the agent reports it
    await eventually('d1 STOPPED', async () => /^d1\s+\d+\s+STOPPED$/m.test((await c.ctr(['task', 'ls'])).stdout));
    const del = await c.ctr(['task', 'delete', 'd1']);
    expect(del.code, `${del.stderr}\n${why()}`).toBe(0);
    expect((await c.ctr(['task', 'ls', '-q'])).stdout.trim()).toBe('');
    expect((await c.ctr(['containers', 'rm', 'd1'])).code).toBe(0);
    expect(mountsBelow(c.dir)).toEqual([]);
    expect(vmHelpers(c.dir)).toEqual([]);
  }, 240_000);

  it('ctr task metrics reports the guest memory and CPU, and CPU time grows with work', async () => {
    const run = await c.ctr(['run', '-d', '--runtime', RUNTIME, IMAGE, 'm1', 'sleep', '600'], { timeoutMs: 120_000 });
    expect(run.code, `${run.stderr}\n${why()}`).toBe(0);
    const metrics = async (): Promise<Record<string, string>> => {
      const r = await c.ctr(['task', 'metrics', 'm1']);
      expect(r.code, `${r.stderr}\n${why()}`).toBe(0);
      return Object.fromEntries(
        r.stdout
          .split('\n')
          .map((l) => l.trim().split(/\s{2,}/))
          .filter((f) => f.length === 2) as [string, string][],
      );
    };
    const before = await metrics();
    const limit = Number(before['memory.limit_in_bytes']);
    const usage = Number(before['memory.usage_in_bytes']);
    // the library's default VM: 256 MiB, of which the kernel keeps some
    expect(limit, JSON.stringify(before)).toBeGreaterThan(128 * 2 ** 20);
    expect(limit).toBeLessThanOrEqual(256 * 2 ** 20);
    expect(usage).toBeGreaterThan(0);
    expect(usage).toBeLessThan(limit);
    const cpu = BigInt(before['cpuacct.usage']!);
    expect(cpu).toBeGreaterThan(0n);
    // one vCPU: the per-CPU list has one entry, the total's
    expect(before['cpuacct.usage_percpu']).toBe(`[${cpu}]`);
    const burn = await c.ctr(['task', 'exec', '--exec-id', 'burn', 'm1', 'sh', '-c', 'i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done'], {
      timeoutMs: 60_000,
    });
    expect(burn.code, burn.stderr).toBe(0);
    const after = await metrics();
    // the loop alone takes well over 100 ms of guest CPU under TCG
    expect(BigInt(after['cpuacct.usage']!) - cpu).toBeGreaterThan(100_000_000n);
    expect((await c.ctr(['task', 'kill', '-s', 'SIGKILL', 'm1'])).code).toBe(0);
    await eventually('m1 STOPPED', async () => /^m1\s+\d+\s+STOPPED$/m.test((await c.ctr(['task', 'ls'])).stdout));
    expect((await c.ctr(['task', 'delete', 'm1'])).code).toBe(0);
    expect((await c.ctr(['containers', 'rm', 'm1'])).code).toBe(0);
  }, 240_000);

  it('ctr run --rm prints the output and exits with the exact status; nothing is left', async () => {
    const r = await c.ctr(['run', '--rm', '--runtime', RUNTIME, IMAGE, 'c1', 'sh', '-c', 'echo hi; echo oops >&2; exit 3'], { timeoutMs: 120_000 });
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }, why()).toEqual({ code: 3, stdout: 'hi\n', stderr: 'oops\n' });
    expect((await c.ctr(['containers', 'ls', '-q'])).stdout.trim()).toBe('');
    expect(mountsBelow(c.dir)).toEqual([]);
    expect(vmHelpers(c.dir)).toEqual([]);
    expect(processesWorkingIn(path.join(c.dir, 'state'))).toEqual([]);
  }, 180_000);

  it('runs the process in the image rootfs, as PID 1 of its own PID namespace, with the mounts of its spec', async () => {
    // runc in the guest: the spec's /proc, /dev (tmpfs) and /sys are mounted, the rootfs is
    // the image's, and the process is its namespace's init (/proc/1 is itself)
    const script =
      'cat /etc/hostname; test -e /proc/self/exe && echo proc; test -c /dev/null && echo dev; touch /tmp/x && echo tmp; pwd; ' +
      '[ $$ = 1 ] && echo own-pidns; grep -q " /dev tmpfs " /proc/mounts && echo dev-tmpfs';
    const r = await c.ctr(['run', '--rm', '--runtime', RUNTIME, '--cwd', '/root', IMAGE, 'c2', 'sh', '-c', script], { timeoutMs: 120_000 });
    expect({ code: r.code, stdout: r.stdout }, `${r.stderr}\n${why()}`).toEqual({
      code: 0,
      stdout: 'vessel-shim\nproc\ndev\ntmp\n/root\nown-pidns\ndev-tmpfs\n',
    });
  }, 180_000);
});
