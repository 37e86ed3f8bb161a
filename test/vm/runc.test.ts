// runc in the guest (src/agent/runc.ts) on one real microVM (QEMU TCG): the host writes OCI
// bundles (a busybox-static rootfs and config.json from `runc spec`'s defaults) on a
// virtio-fs share, and runc, from the image's read-only tools disk, enforces each spec in
// the guest: namespaces, hostname, readonly rootfs, capabilities, seccomp, memory limits
// (an OOM kill ends only the container), masked/readonly paths, bind mounts, users,
// rlimits, sysctls, terminals, execs, kill, state, stats and delete. Each check that a
// setting holds is paired with one showing the same command behaves differently without it.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  containerOomKills,
  containerPids,
  containerState,
  containerStats,
  deleteContainer,
  ensureRuntime,
  execInContainer,
  killContainer,
  runContainer,
  type ContainerExit,
  type ContainerProcess,
} from '../../src/agent/index.js';
import { isVesselError } from '../../src/errors/index.js';
import { QemuManager, type QemuInstance } from '../../src/vm/index.js';
import { shInGuest } from '../support/guest-exec.js';
import { buildRootfs } from '../support/oci-image.js';
import { DEFAULT_CAPS, defaultSpec, type OciSpec } from '../support/oci-spec.js';
import { makePrivateTempDir } from '../support/tmpdir.js';

let tmp: { dir: string; remove: () => Promise<void> };
let inst: QemuInstance;
let share: string;
const GUEST_SHARE = '/mnt/oci';
const ROOTFS = `${GUEST_SHARE}/rootfs`;
let seq = 0;

beforeAll(async () => {
  tmp = await makePrivateTempDir('runc');
  share = path.join(tmp.dir, 'oci');
  fs.mkdirSync(path.join(share, 'bundles'), { recursive: true });
  await buildRootfs(path.join(share, 'rootfs'), { files: { 'etc/hostname': 'image\n' } });
  fs.mkdirSync(path.join(share, 'rootfs', 'data'));
  fs.mkdirSync(path.join(share, 'data'));
  fs.writeFileSync(path.join(share, 'data', 'hello.txt'), 'from the host\n');
  const stateDir = path.join(tmp.dir, 'state');
  fs.mkdirSync(stateDir);
  inst = await new QemuManager().newInstance(stateDir);
  inst.addFS('oci', share);
  await inst.start({ hostname: 'guest-vm' });
});

afterAll(async () => {
  await inst?.shutdown();
  await tmp?.remove();
});

/** Writes a bundle (config.json only; the rootfs is shared) and returns its guest path and id. */
function bundle(args: string[], change: (s: OciSpec) => void = () => {}): { id: string; dir: string } {
  const id = `t${++seq}`;
  const spec = defaultSpec(ROOTFS, args);
  change(spec);
  const dir = path.join(share, 'bundles', id);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec, null, 2));
  return { id, dir: `${GUEST_SHARE}/bundles/${id}` };
}

interface Finished extends ContainerExit {
  stdout: string;
  stderr: string;
}

async function collect(p: ContainerProcess): Promise<Finished> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  p.exec.stdout?.on('data', (c: Buffer) => out.push(c));
  p.exec.stderr?.on('data', (c: Buffer) => err.push(c));
  const exit = await p.exited;
  p.exec.close();
  return { ...exit, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

/** Runs a container to its end, deletes it, and returns its output and exit. */
async function run(args: string[], change?: (s: OciSpec) => void): Promise<Finished> {
  const b = bundle(args, change);
  try {
    return await collect(await runContainer(inst.client(), { id: b.id, bundle: b.dir }, { stdout: 'open', stderr: 'open' }));
  } finally {
    await deleteContainer(inst.client(), b.id);
  }
}

const sh = (script: string): string[] => ['/bin/sh', '-c', script];

describe('runc in the guest', () => {
  it('mounts the tools disk read-only on first use, once; runc is 1.5 with seccomp', async () => {
    await ensureRuntime(inst.client());
    await ensureRuntime(inst.client());
    const mounts = await shInGuest(inst, 'grep " /run/vessel/tools " /proc/mounts');
    expect(mounts.trim().split('\n')).toHaveLength(1);
    expect(mounts).toMatch(/^\/dev\/disk\/by-id\/virtio-vessel-tools \/run\/vessel\/tools ext4 ro,/);
    const version = await shInGuest(inst, '/run/vessel/tools/bin/runc --version');
    expect(version).toMatch(/^runc version 1\.5\.\d+/m);
    expect(version).toMatch(/^libseccomp: 2\.5\.\d+/m);
    expect(await shInGuest(inst, 'cat /sys/fs/cgroup/cgroup.controllers')).toMatch(/\bmemory\b.*\bpids\b/);
  });

  it('runs a bundle: its own hostname and PID namespace (pid 1), stdout and stderr apart, the exit status', async () => {
    const r = await run(sh('echo "$(hostname) $$ $(cat /etc/hostname)"; echo oops >&2; exit 7'), (s) => (s.hostname = 'ctr-one'));
    // (runc jails it with pivot_root, no --no-pivot: that works because the agent made the
    // guest's root a bind mount; on the initramfs itself runc fails with EINVAL.)
    expect(r).toEqual({ exitCode: 7, signal: 0, stdout: 'ctr-one 1 image\n', stderr: 'oops\n' });
    expect((await shInGuest(inst, 'hostname')).trim()).toBe('guest-vm');
  });

  it('readonly rootfs: writing to / fails with EROFS (and works with readonly off)', async () => {
    const ro = await run(sh('touch /probe'));
    expect(ro.exitCode).not.toBe(0);
    expect(ro.stderr).toMatch(/Read-only file system/);
    const rw = await run(sh('touch /probe && rm /probe && echo ok'), (s) => (s.root.readonly = false));
    expect(rw).toMatchObject({ exitCode: 0, stdout: 'ok\n' });
  });

  it('capabilities: without CAP_CHOWN chown fails and CapEff is the mask; with it chown works', async () => {
    const tmpMount = (s: OciSpec): void => {
      s.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev'] });
    };
    const without = await run(sh('grep CapEff /proc/self/status; touch /tmp/f; chown 1:1 /tmp/f'), tmpMount);
    expect(without.exitCode).not.toBe(0);
    expect(without.stdout).toBe('CapEff:\t0000000020000420\n'); // AUDIT_WRITE, KILL, NET_BIND_SERVICE
    expect(without.stderr).toMatch(/Operation not permitted/);
    const withChown = await run(sh('touch /tmp/f; chown 1:1 /tmp/f && stat -c %u:%g /tmp/f'), (s) => {
      tmpMount(s);
      for (const set of [s.process.capabilities.bounding, s.process.capabilities.effective, s.process.capabilities.permitted]) set.push('CAP_CHOWN');
    });
    expect(withChown).toMatchObject({ exitCode: 0, stdout: '1:1\n' });
  });

  it('seccomp: a profile that blocks sethostname makes `hostname x` fail with EPERM (it works without it)', async () => {
    const sysAdmin = (s: OciSpec): void => {
      for (const set of [s.process.capabilities.bounding, s.process.capabilities.effective, s.process.capabilities.permitted]) set.push('CAP_SYS_ADMIN');
    };
    const blocked = await run(sh('hostname changed; echo rc=$? $(hostname)'), (s) => {
      sysAdmin(s);
      s.linux.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        architectures: ['SCMP_ARCH_X86_64'],
        syscalls: [{ names: ['sethostname'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
      };
    });
    expect(blocked.stdout).toBe('rc=1 runc\n');
    expect(blocked.stderr).toMatch(/Operation not permitted/);
    const allowed = await run(sh('hostname changed; echo rc=$? $(hostname)'), sysAdmin);
    expect(allowed.stdout).toBe('rc=0 changed\n');
    expect((await shInGuest(inst, 'hostname')).trim()).toBe('guest-vm');
  });

  it('memory limit: a 32 MiB container allocating 64 MiB is OOM-killed (137) while the agent answers; memory.events counts it', async () => {
    // dd's buffer is one 64 MiB allocation, filled by one read of /dev/zero; dd is the init.
    const b = bundle(['/bin/dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1'], (s) => {
      s.linux.resources = { ...s.linux.resources, memory: { limit: 32 << 20 } };
      s.linux.cgroupsPath = '/vessel/containers/oom-test';
    });
    const r = await collect(await runContainer(inst.client(), { id: b.id, bundle: b.dir }, { stdout: 'open', stderr: 'open' }));
    expect(r).toMatchObject({ exitCode: 137, signal: 0, stdout: '', stderr: '' });
    expect(r.runtimeError).toBeUndefined();
    await inst.client().ping();
    expect(await shInGuest(inst, 'cat /sys/fs/cgroup/vessel/containers/oom-test/memory.max')).toBe(`${32 << 20}\n`);
    expect(await containerOomKills(inst.client(), b.id, '/vessel/containers/oom-test')).toBeGreaterThan(0);
    expect((await containerState(inst.client(), b.id)).status).toBe('stopped');
    await deleteContainer(inst.client(), b.id);
    expect(await shInGuest(inst, 'test -e /sys/fs/cgroup/vessel/containers/oom-test && echo left || echo gone')).toBe('gone\n');
    await expect(containerOomKills(inst.client(), b.id, '/vessel/containers/oom-test')).rejects.toSatisfy((err) => isVesselError(err, 'NOT_FOUND'));
    // The same program within its limit, and the agent is unharmed.
    // (no cgroupsPath: runc's default in the guest, /vessel/exec/<id>)
    const small = bundle(['/bin/dd', 'if=/dev/zero', 'of=/dev/null', 'bs=16M', 'count=1'], (s) => {
      s.linux.resources = { ...s.linux.resources, memory: { limit: 32 << 20 } };
    });
    const fits = await collect(await runContainer(inst.client(), { id: small.id, bundle: small.dir }, { stdout: 'open', stderr: 'open' }));
    expect(fits.exitCode).toBe(0);
    expect(fits.stderr).toMatch(/^1\+0 records in\n1\+0 records out\n/);
    expect(await containerOomKills(inst.client(), small.id)).toBe(0);
    await deleteContainer(inst.client(), small.id);
  });

  it('masked and readonly paths: /proc/kcore is /dev/null, /proc/sys is read-only (neither outside the container)', async () => {
    const r = await run(sh('stat -c %t:%T /proc/kcore; wc -c </proc/kcore; ls /proc/acpi | wc -l; echo x >/proc/sys/kernel/domainname'));
    expect(r.stdout).toBe('1:3\n0\n0\n');
    expect(r.stderr).toMatch(/Read-only file system/);
    expect(await shInGuest(inst, 'stat -c %t:%T /proc/kcore')).not.toBe('1:3\n');
  });

  it('a bind mount from the spec appears, and its ro holds', async () => {
    const r = await run(sh('cat /data/hello.txt; touch /data/new'), (s) => {
      s.mounts.push({ destination: '/data', type: 'bind', source: `${GUEST_SHARE}/data`, options: ['rbind', 'ro'] });
    });
    expect(r.stdout).toBe('from the host\n');
    expect(r.stderr).toMatch(/Read-only file system/);
    expect(fs.existsSync(path.join(share, 'data', 'new'))).toBe(false);
    const rw = await run(sh('touch /data/new && echo ok'), (s) => {
      s.mounts.push({ destination: '/data', type: 'bind', source: `${GUEST_SHARE}/data`, options: ['rbind', 'rw'] });
    });
    expect(rw.stdout).toBe('ok\n');
    expect(fs.existsSync(path.join(share, 'data', 'new'))).toBe(true);
  });

  it('user, groups, rlimits, sysctls and no_new_privs come from the spec', async () => {
    const r = await run(sh('id; ulimit -n; cat /proc/sys/kernel/domainname; grep NoNewPrivs /proc/self/status'), (s) => {
      s.process.user = { uid: 1000, gid: 1001, additionalGids: [1002] };
      s.process.rlimits = [{ type: 'RLIMIT_NOFILE', hard: 123, soft: 77 }];
      s.linux.sysctl = { 'kernel.domainname': 'vessel.test' };
    });
    expect(r.stdout).toBe('uid=1000 gid=1001 groups=1002\n77\nvessel.test\nNoNewPrivs:\t1\n');
    expect(r.exitCode).toBe(0);
  });

  it('a terminal: the process has a pty of its own, and its exit status comes back', async () => {
    const b = bundle(sh('tty; test -t 0 && echo stdin-is-a-tty; exit 5'), (s) => {
      s.process.terminal = true;
    });
    const p = await runContainer(inst.client(), { id: b.id, bundle: b.dir, terminal: true, rows: 24, cols: 80 }, { stdin: 'stdout', stdout: 'open' });
    const r = await collect(p);
    await deleteContainer(inst.client(), b.id);
    expect(r.exitCode).toBe(5);
    expect(r.stdout.replace(/\r/g, '')).toMatch(/^\/dev\/pts\/0\nstdin-is-a-tty\n/);
  });

  it('exec, state, pids, stats, kill and delete of a running container', async () => {
    const b = bundle(['/bin/sleep', '600'], (s) => (s.hostname = 'long'));
    const c = inst.client();
    const init = await runContainer(c, { id: b.id, bundle: b.dir }, { stdout: 'open', stderr: 'open' });
    const pid = await init.started;
    expect(pid).toBeGreaterThan(1);
    expect(await containerState(c, b.id)).toMatchObject({ id: b.id, pid, status: 'running', bundle: b.dir });

    const e = await collect(
      await execInContainer(c, { id: b.id, args: ['/bin/sh', '-c', 'echo $(hostname) $$; echo err >&2; exit 3'] }, { stdout: 'open', stderr: 'open' }),
    );
    expect(e.exitCode).toBe(3);
    expect(e.stdout).toMatch(/^long \d+\n$/);
    expect(e.stdout).not.toBe('long 1\n'); // the init is pid 1 of the namespace, the exec another
    expect(e.stderr).toBe('err\n');
    const asUser = await collect(
      await execInContainer(c, { id: b.id, args: ['id'], user: { uid: 5, gid: 6 }, env: ['X=1'], cwd: '/data' }, { stdout: 'open' }),
    );
    expect(asUser.stdout).toBe('uid=5 gid=6\n');
    const missing = await collect(await execInContainer(c, { id: b.id, args: ['/no/such/program'] }, { stdout: 'open', stderr: 'open' }));
    expect(missing.exitCode).toBe(255);
    expect(missing.runtimeError).toMatch(/no such file or directory/);

    const pids = await containerPids(c, b.id);
    expect(pids).toContain(pid);
    const stats = await containerStats(c, b.id);
    expect(stats.memory?.usage?.usage).toBeGreaterThan(0);
    expect(stats.pids?.current).toBe(1);

    await killContainer(c, b.id, 'KILL');
    const exit = await collect(init);
    expect(exit).toMatchObject({ exitCode: 137, signal: 0 });
    expect((await containerState(c, b.id)).status).toBe('stopped');
    await killContainer(c, b.id, 'KILL', { all: true }); // stopped: no error with all
    await deleteContainer(c, b.id);
    await deleteContainer(c, b.id); // twice is fine
    await expect(containerState(c, b.id)).rejects.toSatisfy((err) => isVesselError(err, 'NOT_FOUND'));
    await expect(killContainer(c, b.id, 'KILL')).rejects.toSatisfy((err) => isVesselError(err, 'NOT_FOUND'));
    expect(await shInGuest(inst, `ls /run/runc; ls /run/vessel/runc-logs`)).not.toContain(b.id);
  });

  it("runc's own failure is told apart from the container's exit status", async () => {
    const b = bundle(['/no/such/program']);
    const p = await runContainer(inst.client(), { id: b.id, bundle: b.dir }, { stdout: 'open', stderr: 'open' });
    const done = collect(p);
    await expect(p.started).rejects.toSatisfy((err) => isVesselError(err, 'FAILED_PRECONDITION') && /no such file or directory/.test((err as Error).message));
    const r = await done;
    await deleteContainer(inst.client(), b.id);
    expect(r.exitCode).toBe(1);
    expect(r.runtimeError).toMatch(/no such file or directory/);
    const plain = await run(sh('exit 1'));
    expect(plain).toMatchObject({ exitCode: 1 });
    expect(plain.runtimeError).toBeUndefined();
    await expect(runContainer(inst.client(), { id: '../x', bundle: '/' })).rejects.toSatisfy((err) => isVesselError(err, 'INVALID_ARGUMENT'));
  });

  it('DEFAULT_CAPS is what `runc spec` grants', () => {
    expect(DEFAULT_CAPS).toEqual(['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']);
  });
});
