// A pod is one VM: containers carrying the CRI's annotations (container-type sandbox /
// container, sandbox-id) are grouped into the sandbox's shim and run in its VM — one QEMU
// for the pod, one network (localhost), one hostname, each container in its own rootfs.
// Driven with ctr --annotation, as the CRI plugin sets them.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountsBelow, type PrivateContainerd } from '../support/containerd.js';
import { waitHttp } from '../support/cri/reach.js';
import { VethNetns } from '../support/veth-netns.js';
import { IMAGE, RUNTIME, bundleOf, containerdWithVessel, eventually, logTail, vmHelpers } from './helpers.js';

const TYPE = 'io.kubernetes.cri.container-type';
const SANDBOX = 'io.kubernetes.cri.sandbox-id';

function podArgs(kind: 'sandbox' | 'container', pod: string): string[] {
  return ['--annotation', `${TYPE}=${kind}`, '--annotation', `${SANDBOX}=${pod}`];
}

describe('vessel runtime: a pod is one VM', () => {
  let c: PrivateContainerd;
  const why = () => logTail(c);
  const qemus = () => vmHelpers(c.dir).filter((h) => /qemu-system/.test(h));

  beforeAll(async () => {
    c = await containerdWithVessel();
  }, 600_000);

  const net = new VethNetns(`vessel-pod${process.pid}`, `vp${process.pid}h`, '10.231.9');

  afterAll(async () => {
    await c?.stop();
    net.remove();
  });

  /** The task's VM has `cpus` CPUs and `mib` MiB of RAM (less what the guest kernel reserves, at most 70 MiB). */
  async function expectVmSize(task: string, cpus: number, mib: number): Promise<void> {
    const size = await c.ctr(['task', 'exec', '--exec-id', 'size', task, 'sh', '-c', "nproc; awk '/MemTotal/ {print $2}' /proc/meminfo"]);
    const [n, memKiB] = size.stdout.trim().split('\n').map(Number);
    expect(n, size.stderr).toBe(cpus);
    expect(memKiB).toBeGreaterThan((mib - 70) * 1024);
    expect(memKiB).toBeLessThanOrEqual(mib * 1024);
  }

  async function killAndRemove(task: string): Promise<void> {
    expect((await c.ctr(['task', 'kill', '-s', 'SIGKILL', task])).code).toBe(0);
    await eventually(`${task} STOPPED`, async () => new RegExp(`^${task}\\s+\\d+\\s+STOPPED$`, 'm').test((await c.ctr(['task', 'ls'])).stdout));
    expect((await c.ctr(['task', 'delete', task])).code).toBe(0);
    expect((await c.ctr(['containers', 'rm', task])).code).toBe(0);
  }

  it('the sandbox boots the VM; its containers join it: shared localhost and hostname, own rootfs; the VM goes with the sandbox', async () => {
    const sandbox = await c.ctr(['run', '-d', '--runtime', RUNTIME, ...podArgs('sandbox', 'pod1'), IMAGE, 'pod1', 'sleep', '600'], { timeoutMs: 120_000 });
    expect(sandbox.code, `${sandbox.stderr}\n${why()}`).toBe(0);
    expect(qemus()).toHaveLength(1);

    // container 1 serves on the pod's localhost and leaves a file in its own rootfs
    const server = await c.ctr(
      [
        'run',
        '-d',
        '--runtime',
        RUNTIME,
        ...podArgs('container', 'pod1'),
        IMAGE,
        'web',
        'sh',
        '-c',
        'echo mine > /marker; echo hello-from-web > /www; exec httpd -f -p 8080 -h /',
      ],
      { timeoutMs: 120_000 },
    );
    expect(server.code, `${server.stderr}\n${why()}`).toBe(0);
    expect(qemus(), 'a container of a pod adds no VM').toHaveLength(1);

    // container 2 reaches it on 127.0.0.1, sees the pod's hostname, not container 1's files
    await eventually(
      'web to listen',
      async () => (await c.ctr(['task', 'exec', '--exec-id', 'probe', 'web', 'wget', '-qO-', 'http://127.0.0.1:8080/www'])).code === 0,
    );
    const client = await c.ctr(
      [
        'run',
        '--rm',
        '--runtime',
        RUNTIME,
        ...podArgs('container', 'pod1'),
        IMAGE,
        'client',
        'sh',
        '-c',
        'wget -qO- http://127.0.0.1:8080/www; hostname; test -e /marker && echo shared-rootfs || echo own-rootfs',
      ],
      { timeoutMs: 120_000 },
    );
    const hostnameOfWeb = await c.ctr(['task', 'exec', '--exec-id', 'hn', 'web', 'hostname']);
    expect(hostnameOfWeb.code, hostnameOfWeb.stderr).toBe(0);
    expect({ code: client.code, stdout: client.stdout }, `${client.stderr}\n${why()}`).toEqual({
      code: 0,
      stdout: `hello-from-web\n${hostnameOfWeb.stdout.trim()}\nown-rootfs\n`,
    });
    expect(qemus()).toHaveLength(1);

    // one container of the pod is paused (runc freezes it in the guest), the pod runs on
    expect((await c.ctr(['task', 'pause', 'web'])).code).toBe(0);
    expect((await c.ctr(['task', 'ls'])).stdout).toMatch(/^web\s+\d+\s+PAUSED$/m);
    const frozen = await c.ctr(['task', 'exec', '--exec-id', 'frozen', 'web', 'true']);
    expect(frozen.code, 'no exec in a paused container').not.toBe(0);
    expect((await c.ctr(['task', 'exec', '--exec-id', 'alive', 'pod1', 'true'])).code, 'the sandbox still runs').toBe(0);
    expect((await c.ctr(['task', 'resume', 'web'])).code).toBe(0);
    expect((await c.ctr(['task', 'exec', '--exec-id', 'thawed', 'web', 'wget', '-qO-', 'http://127.0.0.1:8080/www'])).stdout).toBe('hello-from-web\n');
    // and a paused one can be killed (the pod's end below kills a paused sandbox container too)
    expect((await c.ctr(['task', 'pause', 'web'])).code).toBe(0);

    // a container leaves the pod without taking the VM with it
    const kill = await c.ctr(['task', 'kill', '-s', 'SIGKILL', 'web']);
    expect(kill.code, kill.stderr).toBe(0);
    await eventually('web STOPPED', async () => /^web\s+\d+\s+STOPPED$/m.test((await c.ctr(['task', 'ls'])).stdout));
    expect((await c.ctr(['task', 'delete', 'web'])).code).toBe(0);
    expect((await c.ctr(['containers', 'rm', 'web'])).code).toBe(0);
    expect(qemus()).toHaveLength(1);
    expect(mountsBelow(bundleOf(c, 'web'))).toEqual([]);
    expect((await c.ctr(['task', 'ls'])).stdout).toMatch(/^pod1\s+\d+\s+RUNNING$/m);

    // the sandbox's end is the pod's: no QEMU, virtiofsd or mount is left
    expect((await c.ctr(['task', 'kill', '-s', 'SIGKILL', 'pod1'])).code).toBe(0);
    await eventually('pod1 STOPPED', async () => /^pod1\s+\d+\s+STOPPED$/m.test((await c.ctr(['task', 'ls'])).stdout));
    expect((await c.ctr(['task', 'delete', 'pod1'])).code).toBe(0);
    expect((await c.ctr(['containers', 'rm', 'pod1'])).code).toBe(0);
    await eventually('no qemu/virtiofsd left', () => vmHelpers(c.dir).length === 0);
    await eventually('no mount left below the containerd dir', () => mountsBelow(c.dir).length === 0);
  }, 480_000);

  it('a container of a pod whose sandbox is not running is refused, and leaves nothing', async () => {
    const r = await c.ctr(['run', '--rm', '--runtime', RUNTIME, ...podArgs('container', 'no-such-pod'), IMAGE, 'orphan', 'true'], { timeoutMs: 120_000 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/pod sandbox no-such-pod is not running/);
    expect(vmHelpers(c.dir)).toEqual([]);
    await eventually('no mount left below the containerd dir', () => mountsBelow(c.dir).length === 0);
  }, 180_000);

  it("the pod's network namespace is the VM's network: the pod IP answers from the host and from localhost in the namespace; the VM has the size the pod's annotations ask for", async () => {
    net.create();
    const sandbox = await c.ctr(
      [
        'run',
        '-d',
        '--runtime',
        RUNTIME,
        ...podArgs('sandbox', 'netpod'),
        '--with-ns',
        `network:${net.path}`,
        '--annotation',
        'io.vessel.vm.cpus=2',
        '--annotation',
        'io.vessel.vm.memory-mib=384',
        IMAGE,
        'netpod',
        'sh',
        '-c',
        'echo from-the-pod > /index.html; exec httpd -f -p 8080 -h /',
      ],
      { timeoutMs: 120_000 },
    );
    expect(sandbox.code, `${sandbox.stderr}\n${why()}`).toBe(0);
    expect((await waitHttp(`http://${net.podIp}:8080/index.html`)).body).toBe('from-the-pod\n');
    expect(execFileSync('ip', ['netns', 'exec', net.name, 'busybox', 'wget', '-qO-', 'http://127.0.0.1:8080/index.html'], { encoding: 'utf8' })).toBe(
      'from-the-pod\n',
    );
    await expectVmSize('netpod', 2, 384);
    await killAndRemove('netpod');
    await eventually('no qemu/virtiofsd left', () => vmHelpers(c.dir).length === 0);
    // passt, the one process vessel runs in the pod's namespace, is gone with the VM
    await eventually('no process left in the pod namespace', () => net.pids().length === 0);
  }, 300_000);

  it("the runtime's config (ConfigPath in its options, here from ctr --runtime-config-path) sizes a pod's VM; a bad one is refused and leaves nothing", async () => {
    const config = path.join(c.dir, 'vessel-runtime.json');
    fs.writeFileSync(config, JSON.stringify({ cpus: 2, memoryMiB: 320 }));
    const sandbox = await c.ctr(
      ['run', '-d', '--runtime', RUNTIME, '--runtime-config-path', config, ...podArgs('sandbox', 'cfgpod'), IMAGE, 'cfgpod', 'sleep', '600'],
      { timeoutMs: 120_000 },
    );
    expect(sandbox.code, `${sandbox.stderr}\n${why()}`).toBe(0);
    await expectVmSize('cfgpod', 2, 320);
    await killAndRemove('cfgpod');

    fs.writeFileSync(config, JSON.stringify({ cpu: 2 }));
    const bad = await c.ctr(['run', '--rm', '--runtime', RUNTIME, '--runtime-config-path', config, ...podArgs('sandbox', 'badcfg'), IMAGE, 'badcfg', 'true'], {
      timeoutMs: 120_000,
    });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/unknown key\(s\) cpu/);
    await eventually('no qemu/virtiofsd left', () => vmHelpers(c.dir).length === 0);
    await eventually('no mount left below the containerd dir', () => mountsBelow(c.dir).length === 0);
  }, 300_000);

  it('a hostNetwork pod is refused with the reason, and leaves nothing', async () => {
    const r = await c.ctr(['run', '--rm', '--runtime', RUNTIME, ...podArgs('sandbox', 'hostpod'), '--net-host', IMAGE, 'hostpod', 'true'], {
      timeoutMs: 120_000,
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/hostNetwork/);
    expect(vmHelpers(c.dir)).toEqual([]);
    await eventually('no mount left below the containerd dir', () => mountsBelow(c.dir).length === 0);
  }, 180_000);
});
