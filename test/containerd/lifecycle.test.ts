// The shim's harder cases under a real containerd: a TTY, two containers in two VMs, a
// shim killed with SIGKILL (containerd's `delete` must leave nothing), and containerd
// restarted while a task runs (it reconnects through <bundle>/address).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listProcesses } from '../support/host-processes.js';
import { mountsBelow, type PrivateContainerd } from '../support/containerd.js';
import { IMAGE, RUNTIME, bundleOf, containerdWithVessel, eventually, logTail, vmHelpers } from './helpers.js';

/** The pid of the shim server serving `bundle` (a node process whose cwd it is); throws if there is none. */
function shimServerPid(bundle: string): number {
  const pid = listProcesses().find((p) => {
    if (p.comm !== 'node') return false;
    try {
      return fs.readlinkSync(`/proc/${p.pid}/cwd`) === bundle;
    } catch {
      return false;
    }
  })?.pid;
  if (pid === undefined) throw new Error(`no shim server process runs in ${bundle}`);
  return pid;
}

describe('vessel runtime lifecycle', () => {
  let c: PrivateContainerd;
  const why = () => logTail(c);

  beforeAll(async () => {
    c = await containerdWithVessel();
  }, 600_000);

  afterAll(async () => {
    await c?.stop();
  });

  it('ctr run -t gives the process a terminal', () => {
    const ctr = `ctr -a ${c.socket} run --rm -t --runtime ${RUNTIME} ${IMAGE} t1 sh -c 'test -t 0 && test -t 1 && echo tty-ok; exit 5'`;
    const r = spawnSync('script', ['-qec', ctr, '/dev/null'], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, PATH: `${c.binDir}:${process.env.PATH}` },
    });
    expect(r.stdout.replace(/\r/g, ''), `${r.stderr}\n${why()}`).toContain('tty-ok\n');
    expect(r.status).toBe(5);
  }, 180_000);

  it('two containers run at once, each in its own VM', async () => {
    const runs = await Promise.all(['a1', 'a2'].map((id) => c.ctr(['run', '-d', '--runtime', RUNTIME, IMAGE, id, 'sleep', '600'], { timeoutMs: 120_000 })));
    for (const r of runs) expect(r.code, `${r.stderr}\n${why()}`).toBe(0);
    const boots = await Promise.all(['a1', 'a2'].map((id) => c.ctr(['task', 'exec', '--exec-id', 'b', id, 'cat', '/proc/sys/kernel/random/boot_id'])));
    for (const r of boots) expect(r.code, r.stderr).toBe(0);
    expect(boots[0]!.stdout.trim()).not.toBe(boots[1]!.stdout.trim());
    expect(vmHelpers(c.dir).filter((h) => h.endsWith('qemu-system-x86'))).toHaveLength(2);
    for (const id of ['a1', 'a2']) {
      expect((await c.ctr(['task', 'kill', '-s', 'SIGKILL', id])).code).toBe(0);
      await eventually(`${id} STOPPED`, async () => new RegExp(`^${id}\\s+\\d+\\s+STOPPED$`, 'm').test((await c.ctr(['task', 'ls'])).stdout));
      const del = await c.ctr(['task', 'delete', id]);
      expect(del.code, del.stderr).toBe(0);
      expect((await c.ctr(['containers', 'rm', id])).code).toBe(0);
    }
    expect(vmHelpers(c.dir)).toEqual([]);
    expect(mountsBelow(c.dir)).toEqual([]);
  }, 300_000);

  it('a shim killed with SIGKILL: containerd cleans up through delete, nothing is left', async () => {
    const r = await c.ctr(['run', '-d', '--runtime', RUNTIME, IMAGE, 'k1', 'sleep', '600'], { timeoutMs: 120_000 });
    expect(r.code, `${r.stderr}\n${why()}`).toBe(0);
    const bundle = bundleOf(c, 'k1');
    const pid = shimServerPid(bundle);
    expect(vmHelpers(c.dir).length).toBeGreaterThan(0);
    process.kill(pid, 'SIGKILL');
    // containerd sees the connection drop, runs the shim's `delete` and removes the task itself
    await eventually('containerd to remove the task of the dead shim', async () => (await c.ctr(['task', 'ls', '-q'])).stdout.trim() === '');
    const rm = await c.ctr(['containers', 'rm', 'k1']);
    expect(rm.code, `${rm.stderr}\n${why()}`).toBe(0);
    // containerd runs the shim's `delete` on its own after it saw the connection drop
    await eventually('no qemu/virtiofsd left', () => vmHelpers(c.dir).length === 0);
    await eventually('no mount left below the containerd dir', () => mountsBelow(c.dir).length === 0);
    // (containerd runs that delete in the background: the link goes when it is done)
    await eventually("the bundle's VM link to go", () => !fs.existsSync(path.join(bundle, 'vm')));
  }, 180_000);

  it('containerd restarted while a task runs: it reconnects, the task is waited and deleted', async () => {
    // (PID 1 of its own PID namespace, as under runc: it needs a handler to end on SIGTERM)
    const r = await c.ctr(['run', '-d', '--runtime', RUNTIME, IMAGE, 'r1', 'sh', '-c', 'trap "exit 7" TERM; sleep 600 & wait'], { timeoutMs: 120_000 });
    expect(r.code, `${r.stderr}\n${why()}`).toBe(0);
    const shim = shimServerPid(bundleOf(c, 'r1'));
    await c.kill();
    await c.restart();
    expect(shimServerPid(bundleOf(c, 'r1'))).toBe(shim);
    expect((await c.ctr(['task', 'ls'])).stdout, why()).toMatch(/^r1\s+\d+\s+RUNNING$/m);
    expect((await c.ctr(['task', 'kill', '-s', 'SIGTERM', 'r1'])).code).toBe(0);
    await eventually('r1 STOPPED', async () => /^r1\s+\d+\s+STOPPED$/m.test((await c.ctr(['task', 'ls'])).stdout));
    const del = await c.ctr(['task', 'delete', 'r1']);
    expect(del.code, `${del.stderr}\n${why()}`).toBe(0);
    expect((await c.ctr(['containers', 'rm', 'r1'])).code).toBe(0);
    await eventually('no qemu/virtiofsd left', () => vmHelpers(c.dir).length === 0);
  }, 240_000);
});
