// Kill{all} reaches every process of the container (not only the init process's group),
// and the OCI spec's hostname becomes the VM's (one VM per container).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrivateContainerd } from '../support/containerd.js';
import { RUNTIME, IMAGE, containerdWithVessel, eventually, logTail } from './helpers.js';

describe('vessel runtime: kill --all and the spec hostname', () => {
  let c: PrivateContainerd;
  const why = () => logTail(c);

  beforeAll(async () => {
    c = await containerdWithVessel();
  }, 600_000);

  afterAll(async () => {
    await c?.stop();
  });

  it('ctr task kill --all ends the init process and an exec in its own process group', async () => {
    const run = await c.ctr(['run', '-d', '--runtime', RUNTIME, IMAGE, 'ka1', 'sleep', '600'], { timeoutMs: 120_000 });
    expect(run.code, `${run.stderr}\n${why()}`).toBe(0);
    const witness = c.spawnCtr(['task', 'exec', '--exec-id', 'w', 'ka1', 'sleep', '900']);
    const witnessExit = new Promise<number | null>((resolve) => witness.once('exit', (code) => resolve(code)));
    witness.stdin!.end();
    await eventually('the exec to run', async () => (await c.ctr(['task', 'ps', 'ka1'])).stdout.trim().split('\n').length === 3);
    const kill = await c.ctr(['task', 'kill', '--all', '-s', 'SIGKILL', 'ka1']);
    expect(kill.code, `${kill.stderr}\n${why()}`).toBe(0);
    expect(await witnessExit).toBe(137);
    await eventually('ka1 STOPPED', async () => /^ka1\s+\d+\s+STOPPED$/m.test((await c.ctr(['task', 'ls'])).stdout));
    const del = await c.ctr(['task', 'delete', 'ka1']);
    expect(del.code, del.stderr).toBe(0);
    expect(del.stdout + del.stderr).toMatch(/137/);
    expect((await c.ctr(['containers', 'rm', 'ka1'])).code).toBe(0);
  }, 240_000);

  it('the spec hostname is the hostname the container sees', async () => {
    // ctr run --config takes a whole spec (ctr has no --hostname); its root is a directory
    // here (no snapshot, so Create.rootfs is empty and the shim shares the directory as is)
    const root = path.join(c.dir, 'hn-rootfs');
    for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp']) fs.mkdirSync(path.join(root, d), { recursive: true });
    fs.copyFileSync('/bin/busybox', path.join(root, 'bin', 'busybox'));
    fs.symlinkSync('busybox', path.join(root, 'bin', 'sh'));
    const spec = JSON.parse(execFileSync('ctr', ['oci', 'spec'], { encoding: 'utf8' }));
    spec.hostname = 'vessel-hn-1';
    spec.root = { path: root };
    spec.process.args = ['/bin/busybox', 'sh', '-c', 'hostname; cat /proc/sys/kernel/hostname'];
    spec.process.env = ['PATH=/bin'];
    const specPath = path.join(c.dir, 'hn-spec.json');
    fs.writeFileSync(specPath, JSON.stringify(spec));
    const r = await c.ctr(['run', '--rm', '--runtime', RUNTIME, '--config', specPath, 'hn1'], { timeoutMs: 120_000 });
    expect({ code: r.code, stdout: r.stdout }, `${r.stderr}\n${why()}`).toEqual({ code: 0, stdout: 'vessel-hn-1\nvessel-hn-1\n' });
  }, 180_000);
});
