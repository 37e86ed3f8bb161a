// REAL BUILD (network, once per $VESSEL_HOME): downloads Debian's current cloud kernel with
// apt into the default $VESSEL_HOME (so CI caches it across test files and runs), builds the
// repository's agent, writes the initramfs, then checks the result against the package and
// boots it under QEMU TCG when QEMU is installed. Cold: ~20-40 s here; warm: well under 1 s.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { vesselHome } from '../../../src/host/index.js';
import { AGENT_MODULES, ensureDefaultImage, listImages, type GuestImage } from '../../../src/image/index.js';
import { moduleDepends } from '../../../src/image/elf.js';
import { S_IFMT, S_IFREG } from '../../../src/image/cpio.js';
import { startQemu } from '../../support/test-vm.js';
import { parseNewc, type ParsedEntry } from './fixtures.js';

const exec = promisify(execFile);
const has = (tool: string): Promise<boolean> =>
  exec('sh', ['-c', `command -v ${tool}`]).then(
    () => true,
    () => false,
  );

let img: GuestImage;
let entries: Map<string, ParsedEntry>;
let coldMs = 0;

beforeAll(async () => {
  const t = performance.now();
  img = await ensureDefaultImage({ onProgress: (p) => (p.phase === 'log' ? console.log(`[image] ${p.message}`) : undefined) });
  coldMs = performance.now() - t;
  entries = new Map(parseNewc(await fs.readFile(img.initrdPath)).map((e) => [e.name, e]));
}, 120_000);

describe('real guest image (downloads the kernel once into $VESSEL_HOME)', () => {
  it('is built from the current linux-image-cloud-amd64 into the default home', async () => {
    console.log(`ensureDefaultImage: ${coldMs.toFixed(0)} ms (cold if the log above says "built image")`);
    expect(img.dir).toBe(path.join(vesselHome(), 'images', img.id));
    expect(img.kernelRelease).toMatch(/^\d+\.\d+\.\d+-\d+-cloud-amd64$/);
    expect(img.manifest.inputs.kernel.package).toBe(`linux-image-${img.kernelRelease}`);
    const { stdout } = await exec('apt-cache', ['depends', 'linux-image-cloud-amd64'], { env: { ...process.env, LC_ALL: 'C' } });
    expect(stdout).toContain(img.manifest.inputs.kernel.package);
    const vmlinuz = await fs.readFile(img.kernelPath);
    expect(vmlinuz.toString('latin1', 0x202, 0x206)).toBe('HdrS'); // x86 boot protocol header
    expect((await listImages()).find((i) => i.id === img.id)?.isDefault).toBe(true);
  });

  it('ships every wanted module (or it is built in), each after its dependencies, as the package says', async () => {
    const list = entries.get('etc/vessel/modules.list')!.data.toString().trim().split('\n');
    const names = list.map((p) => path.basename(p, '.ko').replace(/-/g, '_'));
    for (const m of AGENT_MODULES) expect(names.includes(m) || img.manifest.contents.builtinModules.includes(m), m).toBe(true);
    const useModinfo = await has('modinfo');
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'vessel-ko-'));
    try {
      for (const [i, p] of list.entries()) {
        const e = entries.get(p.slice(1));
        expect(e, p).toBeDefined();
        expect(e!.mode & S_IFMT).toBe(S_IFREG);
        expect(p.endsWith('.ko')).toBe(true);
        const deps = moduleDepends(e!.data);
        for (const d of deps) {
          const at = names.indexOf(d);
          expect(at, `${d} (needed by ${names[i]}) is loaded before it`).toBeGreaterThanOrEqual(0);
          expect(at).toBeLessThan(i);
        }
        if (useModinfo) {
          const f = path.join(tmp, path.basename(p));
          await fs.writeFile(f, e!.data);
          const { stdout } = await exec('modinfo', ['-F', 'depends', f]);
          expect(
            stdout
              .trim()
              .split(',')
              .filter((s) => s !== ''),
          ).toEqual(deps);
        }
      }
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  });

  it('has the static agent as /init and static busybox with its applets', () => {
    const init = entries.get('init')!;
    expect(init.mode).toBe(S_IFREG | 0o755);
    expect(init.data.includes(Buffer.from(img.manifest.contents.agent.version))).toBe(true);
    expect(entries.get('bin/busybox')!.mode).toBe(S_IFREG | 0o755);
    for (const a of ['sh', 'mount', 'ls', 'ip']) expect(entries.get(`bin/${a}`)?.data.toString(), a).toBe('busybox');
  });

  it('is reused, verified, in well under a second', async () => {
    const t = performance.now();
    const again = await ensureDefaultImage();
    const warmMs = performance.now() - t;
    console.log(
      `warm ensureDefaultImage: ${warmMs.toFixed(0)} ms; vmlinuz ${img.manifest.artifacts.kernel.size} B, initramfs ${img.manifest.artifacts.initrd.size} B`,
    );
    expect(again.id).toBe(img.id);
    expect(again.manifest.createdAt).toBe(img.manifest.createdAt);
    expect(warmMs).toBeLessThan(1500);
  });

  it('boots under QEMU TCG to "vessel-agent: ready"', async (ctx) => {
    if (!(await has('qemu-system-x86_64'))) ctx.skip();
    const vm = await startQemu({ kernelPath: img.kernelPath, initrdPath: img.initrdPath });
    try {
      await vm.waitForConsole('vessel-agent: ready', 60_000);
    } finally {
      await vm.stop();
    }
  }, 90_000);
});
