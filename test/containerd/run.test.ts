// containerd-shim-vessel-v2 under a real (private) containerd: `ctr run` with the vessel
// runtime runs the container's process in a microVM, with its output and exact exit code.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDefaultImage } from '../../src/image/index.js';
import { shimLauncher } from '../../src/shim/index.js';
import { containerdLog, mountsBelow, processesWorkingIn, startContainerd, type PrivateContainerd } from '../support/containerd.js';
import { listProcesses } from '../support/host-processes.js';
import { buildOciImage } from '../support/oci-image.js';

const RUNTIME = 'io.containerd.vessel.v2';
const IMAGE = 'docker.io/library/vessel-shim:latest';

function vmHelpers(dir: string): string[] {
  return listProcesses()
    .filter((p) => /^(qemu-system|virtiofsd)/.test(p.comm))
    .filter((p) => {
      try {
        return fs.readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    })
    .map((p) => `${p.pid} ${p.comm}`);
}

describe('ctr with the vessel runtime', () => {
  let c: PrivateContainerd;
  const why = () => containerdLog(c).slice(-6000);

  beforeAll(async () => {
    await ensureDefaultImage();
    c = await startContainerd({ shimBins: { 'containerd-shim-vessel-v2': shimLauncher() } });
    const work = path.join(c.dir, 'image');
    fs.mkdirSync(work);
    const img = await buildOciImage(work, { name: IMAGE, files: { 'etc/hostname': 'vessel-shim\n' } });
    const r = await c.ctr(['images', 'import', img.tarPath]);
    expect(r.code, r.stderr).toBe(0);
  }, 600_000);

  afterAll(async () => {
    await c?.stop();
  });

  it('ctr run -d, task exec, ps, kill and delete behave as with runc', async () => {
    const run = await c.ctr(['run', '-d', '--runtime', RUNTIME, IMAGE, 'd1', 'sleep', '600'], { timeoutMs: 120_000 });
    expect(run.code, `${run.stderr}\n${why()}`).toBe(0);
    const ls = await c.ctr(['task', 'ls']);
    expect(ls.stdout, why()).toMatch(/^d1\s+\d+\s+RUNNING$/m);
    const exec = await c.ctr(['task', 'exec', '--exec-id', 'e1', 'd1', 'cat', '/etc/hostname'], { timeoutMs: 60_000 });
    expect({ code: exec.code, stdout: exec.stdout }, `${exec.stderr}\n${why()}`).toEqual({ code: 0, stdout: 'vessel-shim\n' });
    const failing = await c.ctr(['task', 'exec', '--exec-id', 'e2', 'd1', 'sh', '-c', 'exit 42'], { timeoutMs: 60_000 });
    expect(failing.code, failing.stderr).toBe(42);
    const ps = await c.ctr(['task', 'ps', 'd1']);
    expect(ps.code, ps.stderr).toBe(0);
    expect(ps.stdout).toMatch(/^PID\s+INFO\n\d+\s+-$/m);
    const kill = await c.ctr(['task', 'kill', 'd1']);
    expect(kill.code, kill.stderr).toBe(0);
    // kill returns at once; the exit reaches State when the agent reports it: poll the listing
    for (const deadline = Date.now() + 30_000; !/^d1\s+\d+\s+STOPPED$/m.test((await c.ctr(['task', 'ls'])).stdout);) {
      if (Date.now() > deadline) throw new Error(`d1 never STOPPED\n${why()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const del = await c.ctr(['task', 'delete', 'd1']);
    expect(del.code, `${del.stderr}\n${why()}`).toBe(0);
    expect((await c.ctr(['task', 'ls', '-q'])).stdout.trim()).toBe('');
    expect((await c.ctr(['containers', 'rm', 'd1'])).code).toBe(0);
    expect(mountsBelow(c.dir)).toEqual([]);
    expect(vmHelpers(c.dir)).toEqual([]);
  }, 240_000);

  it('ctr run --rm prints the output and exits with the exact status; nothing is left', async () => {
    const r = await c.ctr(['run', '--rm', '--runtime', RUNTIME, IMAGE, 'c1', 'sh', '-c', 'echo hi; echo oops >&2; exit 3'], { timeoutMs: 120_000 });
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }, why()).toEqual({ code: 3, stdout: 'hi\n', stderr: 'oops\n' });
    expect((await c.ctr(['containers', 'ls', '-q'])).stdout.trim()).toBe('');
    expect(mountsBelow(c.dir)).toEqual([]);
    expect(vmHelpers(c.dir)).toEqual([]);
    expect(processesWorkingIn(path.join(c.dir, 'state'))).toEqual([]);
  }, 180_000);

  it('runs the process in the image rootfs, in its own mount namespace, with proc, dev and tmp', async () => {
    const script = 'cat /etc/hostname; test -e /proc/self/exe && echo proc; test -c /dev/null && echo dev; touch /tmp/x && echo tmp; pwd; '
      + '[ "$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/1/ns/mnt)" ] && echo own-mntns';
    const r = await c.ctr(['run', '--rm', '--runtime', RUNTIME, '--cwd', '/root', IMAGE, 'c2', 'sh', '-c', script], { timeoutMs: 120_000 });
    expect({ code: r.code, stdout: r.stdout }, `${r.stderr}\n${why()}`).toEqual({ code: 0, stdout: 'vessel-shim\nproc\ndev\ntmp\n/root\nown-mntns\n' });
  }, 180_000);
});
