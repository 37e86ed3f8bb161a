// `vessel containerd install --bin-dir DIR`: the launcher containerd finds on its PATH, with
// the guest image the install verified recorded in it, so the shim needs no Go at run time.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/index.js';
import { ensureDefaultImage, verifyImage } from '../../src/image/index.js';
import { shimLauncher } from '../../src/shim/index.js';
import { newTestManager } from '../support/backend.js';
import { containerdLog, mountsBelow, startContainerd, type PrivateContainerd } from '../support/containerd.js';
import { buildOciImage } from '../support/oci-image.js';
import { pathWithout, whichIn } from '../support/search-path.js';
import { makePrivateTempDir } from '../support/tmpdir.js';

const RUNTIME = 'io.containerd.vessel.v2';
const IMAGE = 'docker.io/library/vessel-install:latest';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => {
    text += c.toString();
  });
  return { stream, text: () => text };
}

async function install(binDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = capture();
  const err = capture();
  const code = await runCli(['containerd', 'install', '--bin-dir', binDir], newTestManager, out.stream, err.stream);
  return { code, stdout: out.text(), stderr: err.text() };
}

/** The value the launcher script exports for `name` (single-quoted as shimLauncher writes it). */
function exported(script: string, name: string): string | undefined {
  const m = new RegExp(`^export ${name}='((?:[^']|'\\\\'')*)'$`, 'm').exec(script);
  return m?.[1]?.replaceAll(`'\\''`, `'`);
}

describe('vessel containerd install', () => {
  let remove: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await remove?.();
    remove = undefined;
  });

  it('verifies the guest image, writes an executable launcher that records it, and prints the runtime config', async () => {
    const tmp = await makePrivateTempDir('install');
    remove = tmp.remove;
    const r = await install(path.join(tmp.dir, 'bin'));
    expect(r.code, r.stderr).toBe(0);
    const launcher = path.join(tmp.dir, 'bin', 'containerd-shim-vessel-v2');
    expect(fs.statSync(launcher).mode & 0o777).toBe(0o755);
    expect(r.stdout).toContain('runtime_type = "io.containerd.vessel.v2"');
    // The recorded image is the default image, verified, and its id is named on both streams.
    const want = await ensureDefaultImage();
    const script = fs.readFileSync(launcher, 'utf8');
    expect(exported(script, 'VESSEL_IMAGE_DIR')).toBe(want.dir);
    expect((await verifyImage(want.dir)).id).toBe(want.id);
    expect(exported(script, 'VESSEL_HOME')).toBe(path.dirname(path.dirname(want.dir)));
    expect(r.stderr).toContain(`guest image ${want.id} verified`);
    expect(r.stdout).toContain(`(guest image ${want.id})`);
    // The launcher runs the compiled shim: a bad invocation is refused with its message.
    let failed: { status: number; stderr: string } | undefined;
    try {
      execFileSync(launcher, ['-namespace', 'default', '-id', 'x', 'bogus'], { stdio: 'pipe' });
    } catch (e) {
      failed = { status: (e as { status: number }).status, stderr: String((e as { stderr: Buffer }).stderr) };
    }
    expect(failed?.status).toBe(1);
    expect(failed?.stderr).toContain('action must be start, delete or serve');
  });

  it('refuses a missing --bin-dir with exit 2', async () => {
    const err = capture();
    expect(await runCli(['containerd', 'install'], newTestManager, capture().stream, err.stream)).toBe(2);
    expect(err.text()).toContain('install --bin-dir DIR');
  });
});

describe('the installed shim under a containerd whose PATH has no Go', () => {
  let c: PrivateContainerd;
  let noGoPath: string;
  const why = () => containerdLog(c).slice(-6000);
  const shim = () => path.join(c.binDir, 'containerd-shim-vessel-v2');

  beforeAll(async () => {
    noGoPath = pathWithout(process.env.PATH ?? '', 'go');
    c = await startContainerd({ path: noGoPath, prefix: 'install-nogo' });
    const work = path.join(c.dir, 'image');
    fs.mkdirSync(work);
    const img = await buildOciImage(work, { name: IMAGE });
    const r = await c.ctr(['images', 'import', img.tarPath]);
    expect(r.code, r.stderr).toBe(0);
  }, 600_000);

  afterAll(async () => {
    await c?.stop();
  });

  it('containerd really runs without go: it is not on its PATH', () => {
    expect(whichIn(process.env.PATH ?? '', 'go'), 'this test needs go on the test PATH').toBeDefined();
    const environ = fs.readFileSync(`/proc/${c.pid()}/environ`, 'utf8').split('\0');
    const containerdPath = environ.find((e) => e.startsWith('PATH='))!.slice('PATH='.length);
    expect(whichIn(containerdPath, 'go')).toBeUndefined();
  });

  it('control: a launcher that records no image fails Create here (the shim would need go)', async () => {
    fs.writeFileSync(shim(), shimLauncher(), { mode: 0o755 });
    const r = await c.ctr(['run', '--rm', '--runtime', RUNTIME, IMAGE, 'nogo0', 'true'], { timeoutMs: 120_000 });
    expect(r.code, why()).not.toBe(0);
    expect(r.stderr).toContain('go not found');
    await c.ctr(['containers', 'rm', 'nogo0']);
  }, 180_000);

  it('after install, ctr run keeps stdout and stderr apart and the exit code', async () => {
    const r0 = await install(c.binDir);
    expect(r0.code, r0.stderr).toBe(0);
    const r = await c.ctr(['run', '--rm', '--runtime', RUNTIME, IMAGE, 'nogo1', 'sh', '-c', 'echo hi; echo oops >&2; exit 3'], { timeoutMs: 180_000 });
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }, why()).toEqual({ code: 3, stdout: 'hi\n', stderr: 'oops\n' });
    expect((await c.ctr(['containers', 'ls', '-q'])).stdout.trim()).toBe('');
    expect(mountsBelow(c.dir)).toEqual([]);
  }, 240_000);

  it('a missing or corrupt recorded image fails Create with FAILED_PRECONDITION naming the install command', async () => {
    const tmp = await makePrivateTempDir('install-bad-image');
    try {
      const good = await ensureDefaultImage();
      const corrupt = path.join(tmp.dir, 'corrupt');
      fs.cpSync(good.dir, corrupt, { recursive: true });
      const kernel = path.join(corrupt, path.basename(good.kernelPath));
      const fd = fs.openSync(kernel, 'r+');
      const b = Buffer.alloc(1);
      fs.readSync(fd, b, 0, 1, 4096);
      b[0] = b[0]! ^ 0xff; // same size, another sha256
      fs.writeSync(fd, b, 0, 1, 4096);
      fs.closeSync(fd);
      for (const [n, dir, why2] of [
        [2, path.join(tmp.dir, 'missing'), 'missing'],
        [3, corrupt, 'corrupt'],
      ] as const) {
        fs.writeFileSync(shim(), shimLauncher({ imageDir: dir }), { mode: 0o755 });
        const id = `nogo${n}`;
        const r = await c.ctr(['run', '--rm', '--runtime', RUNTIME, IMAGE, id, 'true'], { timeoutMs: 120_000 });
        expect(r.code, why()).not.toBe(0);
        expect(r.stderr).toContain('failed precondition');
        expect(r.stderr).toContain(`recorded guest image ${dir} is ${why2}`);
        expect(r.stderr).toContain('rerun `vessel containerd install');
        await c.ctr(['containers', 'rm', id]);
      }
      expect(mountsBelow(c.dir)).toEqual([]);
    } finally {
      await tmp.remove();
    }
  }, 240_000);
});
