// The boot floor for bench/boot: the same kernel and QEMU line as the guest image, with a
// trivial static PID 1 (agent/cmd/vessel-bootfloor) that loads only the virtio-serial
// modules, finds the vessel.agent port and writes READY to it.
import fs from 'node:fs/promises';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CpioWriter } from '../src/image/cpio.js';
import { collectModules } from '../src/image/modules.js';
import { unpackKernel } from '../src/image/kernel.js';
import { vesselHome } from '../src/host/index.js';
import type { GuestImage } from '../src/image/index.js';
import type { Accelerator } from '../src/vm/qemu/index.js';
import { agentDir } from '../test/support/repo.js';
import { connectQemuSocket, startQemu } from '../test/support/test-vm.js';

const execFileAsync = promisify(execFile);

/** Writes the floor initramfs for `image`'s kernel into `dir`; returns its path. */
export async function buildFloorInitramfs(image: GuestImage, dir: string): Promise<string> {
  const k = image.manifest.inputs.kernel;
  const deb = path.join(vesselHome(), 'downloads', `${k.package}_${k.version}_amd64.deb`);
  const kernel = await unpackKernel(deb, path.join(dir, 'kernel'));
  const { modules } = await collectModules(kernel.root, kernel.release, ['virtio_mmio', 'virtio_console']);
  const floorBin = path.join(dir, 'vessel-bootfloor');
  await execFileAsync('go', ['build', '-trimpath', '-ldflags', '-s -w', '-o', floorBin, './cmd/vessel-bootfloor'], {
    cwd: agentDir,
    env: { ...process.env, CGO_ENABLED: '0' },
  });
  const w = new CpioWriter();
  for (const d of ['dev', 'sys', 'proc', 'etc', 'etc/vessel', 'lib', 'lib/modules', `lib/modules/${kernel.release}`]) w.dir(d);
  w.file('init', await fs.readFile(floorBin), 0o755);
  w.charDevice('dev/console', 5, 1);
  for (const m of modules) w.file(m.guestPath, m.data);
  w.file('etc/vessel/modules.list', modules.map((m) => `${m.guestPath}\n`).join(''));
  const out = path.join(dir, 'floor.cpio');
  await fs.writeFile(out, w.toBuffer());
  await fs.rm(path.join(dir, 'kernel'), { recursive: true, force: true });
  return out;
}

/** One floor boot: QEMU spawn → READY read from the agent port, in ms (TCG unless told). */
export async function floorBootMs(kernelPath: string, initrdPath: string, accelerator: Accelerator = 'tcg'): Promise<number> {
  const vm = await startQemu({ kernelPath, initrdPath, accelerator });
  try {
    const socket = await connectQemuSocket(vm, vm.agentSocket, Date.now() + 60_000);
    let text = '';
    await new Promise<void>((resolve, reject) => {
      socket.on('data', (c: Buffer) => {
        text += c.toString();
        if (text.includes('READY')) resolve();
      });
      socket.once('close', () => reject(new Error(`floor closed before READY; console:\n${vm.console().slice(-2000)}`)));
    });
    const ms = performance.now() - vm.startedAt;
    socket.destroy();
    return ms;
  } finally {
    await vm.stop();
  }
}
