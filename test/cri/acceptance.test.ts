// Kubernetes pods through containerd's CRI plugin, the same checks under runc (the
// baseline, which proves the checks) and under vessel (a pod is one VM, runc inside it):
// podIP:PORT from the host and from another pod, a hostPort, port-forward, container →
// container on 127.0.0.1 (and, under vessel, no new QEMU for a pod's second container),
// the pod's DNS config and hostname, a memory limit that OOM-kills its container only,
// readonly rootfs, dropped capabilities and a seccomp profile (each next to a control
// container without it), a read-only volume with a host mount below it (writable, and the
// host may unmount and remove it while the container runs), containerd restart, and
// nothing left after stopp/rmp.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listProcesses } from '../support/host-processes.js';
import { WWW_INDEX, freePort, hostAddress, httpGet, seccompDenying, startCri, waitHttp, type CriHarness, type Pod } from '../support/cri.js';

/** QEMU processes of this harness's pods (their parent, a shim, works in a bundle under `dir`); a vessel pod runs one. */
function qemusUnder(dir: string): number {
  return listProcesses().filter((p) => {
    if (!p.comm.startsWith('qemu-system')) return false;
    try {
      return fs.readlinkSync(`/proc/${p.ppid}/cwd`).startsWith(`${dir}/`);
    } catch {
      return false;
    }
  }).length;
}

describe.each(['runc', 'vessel'])('Kubernetes pods under %s', (HANDLER) => {
  let h: CriHarness;
  let web: Pod;
  let webId: string;
  let hostPort: number;

  beforeAll(async () => {
    h = await startCri();
    hostPort = await freePort();
    web = await h.runPod({
      name: 'web',
      handler: HANDLER,
      hostname: 'vessel-web',
      dns: { servers: ['10.0.0.53'], searches: ['example.test'], options: ['ndots:2'] },
      ports: [{ containerPort: 80, hostPort }],
    });
    webId = await h.runContainer(web, { name: 'httpd', command: ['httpd', '-f', '-p', '80', '-h', '/www'] });
  }, 600_000);

  afterAll(async () => {
    await h?.stop();
  }, 300_000);

  it('podIP(): the host reaches podIP:80', async () => {
    const ip = await h.podIP(web.id);
    expect(ip.startsWith(h.network.subnet.split('.').slice(0, 3).join('.') + '.')).toBe(true);
    expect((await waitHttp(`http://${ip}:80/`)).body).toBe(WWW_INDEX);
  });

  it('a hostPort answers on the host address and on 127.0.0.1', async () => {
    const addr = hostAddress((n) => n === h.network.bridge);
    expect((await waitHttp(`http://${addr}:${hostPort}/`)).body).toBe(WWW_INDEX);
    expect((await waitHttp(`http://127.0.0.1:${hostPort}/`)).body).toBe(WWW_INDEX);
  });

  it('portForward(): a local port reaches the pod', async () => {
    const pf = await h.portForward(web.id, 80);
    try {
      expect((await httpGet(`http://127.0.0.1:${pf.localPort}/`)).body).toBe(WWW_INDEX);
    } finally {
      await pf.close();
    }
  });

  it('a second container reaches the first on 127.0.0.1, and another pod reaches podIP', async () => {
    const before = qemusUnder(h.dir);
    const side = await h.runContainer(web, { name: 'side', command: ['sleep', '600'] });
    expect(before, 'the pod runs one VM').toBe(HANDLER === 'vessel' ? 1 : 0);
    expect(qemusUnder(h.dir), 'a container added to a running pod boots no VM').toBe(before);
    expect(await h.exec(side, ['wget', '-qO-', 'http://127.0.0.1:80/'])).toEqual({ exitCode: 0, stdout: WWW_INDEX, stderr: '' });
    const other = await h.runPod({ name: 'other', handler: HANDLER });
    const client = await h.runContainer(other, { name: 'client', command: ['sleep', '600'] });
    const ip = await h.podIP(web.id);
    expect(await h.exec(client, ['wget', '-qO-', `http://${ip}:80/`])).toEqual({ exitCode: 0, stdout: WWW_INDEX, stderr: '' });
    // ... and not on its own 127.0.0.1 (its network is its own)
    expect((await h.exec(client, ['wget', '-qO-', 'http://127.0.0.1:80/'])).exitCode).not.toBe(0);
    await h.crictlOk(['rmp', '-f', other.id]);
  });

  it("the pod's DNS config and hostname reach its containers", async () => {
    const resolv = await h.exec(webId, ['cat', '/etc/resolv.conf']);
    expect(resolv.stdout.split('\n').filter(Boolean).sort()).toEqual(['nameserver 10.0.0.53', 'options ndots:2', 'search example.test']);
    expect((await h.exec(webId, ['hostname'])).stdout).toBe('vessel-web\n');
  });

  it('a memory limit OOM-kills its container only', async () => {
    const hog = await h.runContainer(web, {
      name: 'hog',
      command: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1'],
      memoryLimitBytes: 32 * 1024 * 1024,
    });
    const s = await h.waitContainer(hog, 'the hog to exit', (x) => x.state === 'CONTAINER_EXITED');
    expect({ reason: s.reason, exitCode: s.exitCode }).toEqual({ reason: 'OOMKilled', exitCode: 137 });
    expect((await h.containerStatus(webId)).state).toBe('CONTAINER_RUNNING');
    expect((await h.inspectPod(web.id)).status.state).toBe('SANDBOX_READY');
    // control: the same command with room to spare completes
    const fed = await h.runContainer(web, {
      name: 'fed',
      command: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1'],
      memoryLimitBytes: 256 * 1024 * 1024,
    });
    const f = await h.waitContainer(fed, 'the fed one to exit', (x) => x.state === 'CONTAINER_EXITED');
    expect({ reason: f.reason, exitCode: f.exitCode }).toEqual({ reason: 'Completed', exitCode: 0 });
  });

  it('readonly rootfs, dropped capabilities and a seccomp profile hold (a control container may do all three)', async () => {
    const profile = seccompDenying(path.join(h.dir, 'deny-mkdir.json'), ['mkdir', 'mkdirat']);
    // A writable volume of root's own (0755): neither needs CAP_DAC_OVERRIDE to write there.
    const volume = (name: string) => {
      const d = path.join(h.dir, `volume-${name}`);
      fs.mkdirSync(d, { mode: 0o755 });
      return [{ hostPath: d, containerPath: '/work' }];
    };
    const probes = {
      rootfs: ['touch', '/probe'],
      chown: ['sh', '-c', 'touch /work/c && chown 65534 /work/c'],
      mkdir: ['mkdir', '/work/d'],
    };
    const locked = await h.runContainer(web, {
      name: 'locked',
      command: ['sleep', '600'],
      mounts: volume('locked'),
      readonlyRootfs: true,
      capabilities: { drop: ['ALL'] },
      seccomp: profile,
    });
    const control = await h.runContainer(web, { name: 'control', command: ['sleep', '600'], mounts: volume('control') });
    for (const [what, cmd] of Object.entries(probes)) {
      expect((await h.exec(control, cmd)).exitCode, `control: ${what}`).toBe(0);
      const r = await h.exec(locked, cmd);
      expect(r.exitCode, `locked: ${what}`).not.toBe(0);
      expect(r.stderr, what).toMatch(what === 'rootfs' ? /Read-only file system/ : /Operation not permitted/);
    }
  });

  it('a read-only volume: the tmpfs the host mounted below it stays writable, and the host can remove it while the container runs', async () => {
    const vol = path.join(h.dir, 'volume-ro');
    const sub = path.join(vol, 'tmpfs');
    fs.mkdirSync(sub, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', 'none', sub]);
    try {
      const c = await h.runContainer(web, { name: 'ro-volume', command: ['sleep', '600'], mounts: [{ hostPath: vol, containerPath: '/mnt', readonly: true }] });
      expect((await h.exec(c, ['touch', '/mnt/tmpfs/file'])).exitCode).toBe(0);
      const r = await h.exec(c, ['touch', '/mnt/file']);
      expect({ exitCode: r.exitCode, stderr: r.stderr }).toEqual({ exitCode: 1, stderr: expect.stringMatching(/Read-only file system/) });
      // what the runtime staged of it must not pin the host's dirs (critest's cleanup does this)
      execFileSync('umount', ['-l', sub]);
      fs.rmSync(vol, { recursive: true });
      expect(fs.existsSync(vol)).toBe(false);
      expect((await h.exec(c, ['true'])).exitCode).toBe(0); // and the container runs on
    } finally {
      if (fs.existsSync(sub)) execFileSync('umount', ['-l', sub], { stdio: 'ignore' });
    }
  });

  it('containerd restarted: the pod stays usable', async () => {
    await h.restartContainerd();
    expect((await h.inspectPod(web.id)).status.state).toBe('SANDBOX_READY');
    expect(await h.exec(webId, ['echo', 'still'])).toEqual({ exitCode: 0, stdout: 'still\n', stderr: '' });
    expect((await waitHttp(`http://${await h.podIP(web.id)}:80/`)).body).toBe(WWW_INDEX);
  });

  it('stopp and rmp leave nothing behind', async () => {
    expect(await h.leftovers()).not.toEqual([]); // the checker sees a live pod
    await h.stopPod(web.id);
    await h.removePod(web.id);
    expect(await h.settledLeftovers()).toEqual([]);
  });
});
