// The image cache with a fake kernel package and a stand-in agent (no network, ~seconds):
// reuse, verification and rebuild after corruption, atomicity of failed builds, concurrency.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVesselError } from '../../../src/errors/index.js';
import { processStartTime, selfIdentity } from '../../../src/host/index.js';
import { sha256File } from '../../../src/image/kernel.js';
import { ensureImage, rebuildImage } from '../../../src/image/install.js';
import { listImagesIn } from '../../../src/image/list.js';
import { inspectLock } from '../../../src/image/lock.js';
import { pruneImagesIn } from '../../../src/image/prune.js';
import type { BuildProgress, ImageOptions, ImageSourceOverrides } from '../../../src/image/types.js';
import { verifyImage } from '../../../src/image/verify.js';
import { makePrivateTempDir } from '../../support/tmpdir.js';
import { FAKE_MODULES, FAKE_RELEASE, FakeKernelSource, FakeRuncSource, makeFakeKernelDeb, makeStandInAgent, parseNewc } from './fixtures.js';

const exec = promisify(execFile);
let tmp: { dir: string; remove: () => Promise<void> };
let source: FakeKernelSource;
const runcSource = new FakeRuncSource();
let agentDir: string;

beforeAll(async () => {
  tmp = await makePrivateTempDir('image-cache');
  const { deb, sha256 } = await makeFakeKernelDeb(tmp.dir);
  source = new FakeKernelSource(deb, sha256);
  agentDir = await makeStandInAgent(path.join(tmp.dir, 'agent'));
});
afterAll(async () => tmp.remove());

function opts(home: string, extra: ImageOptions & ImageSourceOverrides = {}): ImageOptions & ImageSourceOverrides & { phases: BuildProgress[] } {
  const phases: BuildProgress[] = [];
  return { home, agentDir, kernelSource: source, runcSource, modules: FAKE_MODULES, onProgress: (p) => phases.push(p), phases, ...extra };
}
const builds = (o: { phases: BuildProgress[] }): number => o.phases.filter((p) => p.phase === 'agent build').length;

async function homeDir(name: string): Promise<string> {
  const d = path.join(tmp.dir, name);
  await fs.mkdir(d);
  return d;
}

describe('image cache', () => {
  it('builds once, then reuses the verified image; the manifest matches the files', async () => {
    const home = await homeDir('reuse');
    const o1 = opts(home);
    const a = await ensureImage(o1);
    expect(builds(o1)).toBe(1);
    expect(a.dir).toBe(path.join(home, 'images', a.id));
    expect(a.kernelRelease).toBe(FAKE_RELEASE);
    expect(await sha256File(a.kernelPath)).toBe(a.manifest.artifacts.kernel.sha256);
    expect(await sha256File(a.initrdPath)).toBe(a.manifest.artifacts.initrd.sha256);
    expect(a.manifest.inputs.kernel).toEqual({ package: 'linux-image-fake', version: '1', debSha256: (await source.resolve()).debSha256 });
    expect(a.manifest.contents.modules.map((m) => m.name)).toEqual(['virtio_ring', 'virtio', 'virtio_console']);
    expect(a.manifest.contents.builtinModules).toEqual(['overlay']);

    const entries = new Map(parseNewc(await fs.readFile(a.initrdPath)).map((e) => [e.name, e]));
    expect(entries.get('init')!.data.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(entries.get('bin/sh')!.data.toString()).toBe('busybox');
    expect(entries.get('etc/vessel/modules.list')!.data.toString().trim().split('\n')).toEqual(a.manifest.contents.modules.map((m) => m.path));
    expect(JSON.parse(entries.get('etc/vessel/image.json')!.data.toString())).toEqual({ kernelRelease: FAKE_RELEASE, imageId: a.id });
    // The agent was stamped with the version.
    expect(entries.get('init')!.data.includes(Buffer.from(a.manifest.contents.agent.version))).toBe(true);
    // The tools disk: an ext4 image whose /bin/runc is what the runc source built (busybox here).
    expect(a.toolsDiskPath).toBe(path.join(a.dir, 'tools.ext4'));
    expect(await sha256File(a.toolsDiskPath!)).toBe(a.manifest.artifacts.tools!.sha256);
    expect(a.manifest.inputs.runc).toEqual(await runcSource.resolve());
    const busybox = await fs.readFile('/bin/busybox');
    const { stdout: runcOnDisk } = await exec('debugfs', ['-R', 'cat /bin/runc', a.toolsDiskPath!], { encoding: 'buffer', maxBuffer: 64 << 20 });
    expect(runcOnDisk.equals(busybox)).toBe(true);
    expect((await exec('debugfs', ['-R', 'stat /bin/runc', a.toolsDiskPath!])).stdout).toMatch(/Mode:\s+0755/);
    expect(a.manifest.contents.runc).toMatchObject({ path: '/bin/runc', size: busybox.length });

    const o2 = opts(home);
    const b = await ensureImage(o2);
    expect(builds(o2)).toBe(0);
    expect(b.id).toBe(a.id);
    expect(b.manifest).toEqual(a.manifest);
  });

  it('rebuilds (and says why) when an artifact is corrupted or missing, and the sha matches again', async () => {
    const home = await homeDir('corrupt');
    const a = await ensureImage(opts(home));
    const good = a.manifest.artifacts.initrd.sha256;
    const buf = await fs.readFile(a.initrdPath);
    buf[buf.length >> 1]! ^= 0x01; // flip one bit in the middle
    await fs.writeFile(a.initrdPath, buf);
    await expect(verifyImage(a.dir)).rejects.toSatisfy((e) => isVesselError(e, 'IMAGE_CORRUPT'));

    const o = opts(home);
    const b = await ensureImage(o);
    expect(builds(o)).toBe(1);
    expect(o.phases.some((p) => p.phase === 'log' && /failed verification.*sha256/.test(p.message ?? ''))).toBe(true);
    expect(b.id).toBe(a.id);
    expect(await sha256File(b.initrdPath)).toBe(good); // deterministic build: same bytes again

    await fs.rm(b.kernelPath);
    const o3 = opts(home);
    const c = await ensureImage(o3);
    expect(builds(o3)).toBe(1);
    expect(o3.phases.some((p) => p.phase === 'log' && /missing/.test(p.message ?? ''))).toBe(true);
    expect(await sha256File(c.kernelPath)).toBe(c.manifest.artifacts.kernel.sha256);
    expect((await fs.readdir(path.join(home, 'images'))).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('a failed build leaves no image directory and no temp directory behind', async () => {
    const home = await homeDir('failed');
    const broken = await makeStandInAgent(path.join(tmp.dir, 'broken-agent'), 'this is not Go');
    const err = await ensureImage(opts(home, { agentDir: broken })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isVesselError(err, 'IMAGE_BUILD_FAILED')).toBe(true);
    expect(String((err as Error).message)).toMatch(/go build/);
    expect(await fs.readdir(path.join(home, 'images'))).toEqual([]);
  });

  it('changes the image id when the agent source changes, not when only its tests change', async () => {
    const home = await homeDir('inputs');
    const dir = await makeStandInAgent(path.join(tmp.dir, 'agent-inputs'));
    const a = await ensureImage(opts(home, { agentDir: dir }));
    await fs.writeFile(path.join(dir, 'cmd', 'vessel-agent', 'main_test.go'), 'package main\n');
    await fs.mkdir(path.join(dir, 'bin'));
    await fs.writeFile(path.join(dir, 'bin', 'junk'), 'x');
    const o = opts(home, { agentDir: dir });
    expect((await ensureImage(o)).id).toBe(a.id);
    expect(builds(o)).toBe(0);
    await fs.writeFile(path.join(dir, 'internal', 'version', 'extra.go'), 'package version\n\nconst X = 1\n');
    const c = await ensureImage(opts(home, { agentDir: dir }));
    expect(c.id).not.toBe(a.id);
    // A different runc (version, sum, Go, tags or linked -dev packages) is a different image.
    const otherRunc = await ensureImage(opts(home, { agentDir: dir, runcSource: new FakeRuncSource('v0.0.1-fake') }));
    expect(otherRunc.id).not.toBe(c.id);
    const gz = await ensureImage(opts(home, { agentDir: dir, compression: 'gzip' }));
    expect(gz.id).not.toBe(c.id);
    expect(path.basename(gz.initrdPath)).toBe('initramfs.cpio.gz');
    expect(gz.manifest.inputs.compression).toBe('gzip');
    // gzip of the same archive the uncompressed image holds (only image.json names another id)
    const strip = (b: Buffer): Array<[string, string]> =>
      parseNewc(b).map((e) => [e.name, e.name === 'etc/vessel/image.json' ? '' : e.data.toString('base64')]);
    expect(strip(zlib.gunzipSync(await fs.readFile(gz.initrdPath)))).toEqual(strip(await fs.readFile(c.initrdPath)));

    const list = await listImagesIn(home, { agentDir: dir, kernelSource: source, runcSource, modules: FAKE_MODULES });
    expect(list.map((i) => i.id).sort()).toEqual([a.id, c.id, otherRunc.id, gz.id].sort());
    expect(list.filter((i) => i.isDefault).map((i) => i.id)).toEqual([c.id]);
    expect(list.every((i) => i.sizeBytes > 0 && i.kernelRelease === FAKE_RELEASE)).toBe(true);

    const pruned = await pruneImagesIn({ home, agentDir: dir, kernelSource: source, runcSource, modules: FAKE_MODULES });
    expect(pruned.removed.sort()).toEqual([a.id, otherRunc.id].sort()); // both compressions of the current inputs stay
    expect((await listImagesIn(home, { agentDir: dir, kernelSource: source, runcSource, modules: FAKE_MODULES })).map((i) => i.id).sort()).toEqual(
      [c.id, gz.id].sort(),
    );
    const all = await pruneImagesIn({ home, all: true });
    expect(all.removed.filter((r) => !r.startsWith('downloads/')).sort()).toEqual([c.id, gz.id].sort());
    expect(await listImagesIn(home)).toEqual([]);
  });

  it('concurrent ensures of the same image build it once; --force rebuilds a valid image', async () => {
    const home = await homeDir('concurrent');
    const os = [opts(home), opts(home), opts(home)];
    const imgs = await Promise.all(os.map((o) => ensureImage(o)));
    expect(os.map(builds).reduce((x, y) => x + y, 0)).toBe(1);
    expect(new Set(imgs.map((i) => i.dir)).size).toBe(1);
    await verifyImage(imgs[0]!.dir);
    const o = opts(home);
    const r = await rebuildImage(o);
    expect(builds(o)).toBe(1);
    expect(r.manifest.artifacts).toEqual(imgs[0]!.manifest.artifacts);
    expect((await fs.readdir(path.join(home, 'images'))).sort()).toEqual([r.id]);
  });

  it('breaks the lock of a builder that died', async () => {
    const home = await homeDir('stale-lock');
    const id = (await ensureImage(opts(home))).id;
    await fs.rm(path.join(home, 'images', id), { recursive: true });
    // A pid that cannot be running: pids are always below pid_max.
    const deadPid = Number((await fs.readFile('/proc/sys/kernel/pid_max', 'utf8')).trim());
    await fs.writeFile(path.join(home, 'images', `.lock-${id}`), `${deadPid}\n`);
    // ... and the temp directory that crashed builder left behind.
    const leftover = path.join(home, 'images', `.tmp-${id}-${deadPid}-abcdef`);
    await fs.mkdir(leftover);
    await fs.writeFile(path.join(leftover, 'manifest.json'), '{}');
    const o = opts(home);
    await ensureImage(o);
    expect(builds(o)).toBe(1);
    expect(o.phases.some((p) => /stale image lock/.test(p.message ?? ''))).toBe(true);
    expect((await listImagesIn(home, { agentDir, kernelSource: source, runcSource, modules: FAKE_MODULES })).map((i) => i.id)).toEqual([id]);
    const pruned = await pruneImagesIn({ home, agentDir, kernelSource: source, runcSource, modules: FAKE_MODULES });
    expect(pruned.removed).toEqual([]);
    await expect(fs.access(leftover)).rejects.toThrow(/ENOENT/);
  });

  it('breaks a lock whose pid now names another process (its start time differs)', async () => {
    const home = await homeDir('reused-pid-lock');
    const id = (await ensureImage(opts(home))).id;
    await fs.rm(path.join(home, 'images', id), { recursive: true });
    // This test process is alive, but it is not the process that took the lock.
    const otherStart = String(Number(processStartTime(process.pid)) + 1);
    await fs.writeFile(path.join(home, 'images', `.lock-${id}`), `${process.pid} ${otherStart}\n`);
    const o = opts(home);
    await ensureImage(o);
    expect(builds(o)).toBe(1);
    expect(
      o.phases.some((p) => p.message === `breaking stale image lock ${path.join(home, 'images', `.lock-${id}`)} (holder pid ${process.pid} is gone)`),
    ).toBe(true);
  });

  it('tells a live lock holder from a gone one, and prune keeps what live builders hold', async () => {
    const home = await homeDir('live-lock');
    const id = (await ensureImage(opts(home))).id;
    const images = path.join(home, 'images');
    const deadPid = Number((await fs.readFile('/proc/sys/kernel/pid_max', 'utf8')).trim());
    const self = selfIdentity();
    const lock = (name: string): string => path.join(images, `.lock-${name}`);
    await fs.writeFile(lock('aa'), `${self.pid} ${self.startTime}\n`); // this process, by identity
    await fs.writeFile(lock('bb'), `${self.pid}\n`); // this process, by pid only (older vessels)
    await fs.writeFile(lock('cc'), ''); // a holder between open and write
    await fs.writeFile(lock('dd'), `${self.pid} ${Number(self.startTime) + 1}\n`); // a reused pid
    await fs.writeFile(lock('ee'), `${deadPid}\n`);
    expect(await Promise.all(['aa', 'bb', 'cc', 'dd', 'ee'].map(async (n) => (await inspectLock(lock(n))).stale))).toEqual([false, false, false, true, true]);
    const liveTmp = path.join(images, `.tmp-${id}-${process.pid}-abcdef`);
    await fs.mkdir(liveTmp);
    const pruned = await pruneImagesIn({ home, agentDir, kernelSource: source, runcSource, modules: FAKE_MODULES });
    expect(pruned.removed).toEqual([]);
    expect((await fs.readdir(images)).sort()).toEqual(['.lock-aa', '.lock-bb', '.lock-cc', path.basename(liveTmp), id].sort());
  });
});
