// The harness itself, with runc as the runtime: a private containerd, an OCI image built
// here and imported without a registry, and `ctr run --rm` behaving as the shim tests
// expect vessel to (stdout and the exact exit code).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerdLog, mountsBelow, startContainerd, type PrivateContainerd } from '../support/containerd.js';
import { buildOciImage } from '../support/oci-image.js';

describe('private containerd with runc', () => {
  let c: PrivateContainerd;
  const image = 'docker.io/library/vessel-harness:latest';

  beforeAll(async () => {
    c = await startContainerd();
    const work = path.join(c.dir, 'image');
    fs.mkdirSync(work);
    const img = await buildOciImage(work, { name: image, files: { 'etc/hostname': 'harness\n' } });
    const r = await c.ctr(['images', 'import', img.tarPath]);
    expect(r.code, r.stderr).toBe(0);
  });

  afterAll(async () => {
    const dir = c?.dir;
    await c?.stop();
    if (dir) expect(fs.existsSync(dir)).toBe(false);
  });

  it('lists the imported image', async () => {
    const r = await c.ctr(['images', 'ls', '-q']);
    expect(r.stdout.split('\n')).toContain(image);
  });

  it('ctr run --rm prints the output and exits with the process status', async () => {
    const r = await c.ctr(['run', '--rm', ...c.runcFlags(), image, 'r1', 'sh', '-c', 'cat /etc/hostname; echo hi; exit 3']);
    expect({ code: r.code, stdout: r.stdout }, `${r.stderr}\n${containerdLog(c).slice(-3000)}`).toEqual({ code: 3, stdout: 'harness\nhi\n' });
    expect((await c.ctr(['containers', 'ls', '-q'])).stdout.trim()).toBe('');
    expect(mountsBelow(c.dir)).toEqual([]);
  });
});
