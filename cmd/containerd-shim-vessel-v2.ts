import { fileURLToPath } from 'node:url';
import { runShim } from '../src/shim/index.js';
import { IMAGE_DIR_ENV } from '../src/shim/launcher.js';

// The VM backend is loaded by `serve` alone (`start` runs once per container and must answer
// fast). The launcher `vessel containerd install` writes names the guest image it verified:
// boot that one, checked again (sha256s against its manifest; no toolchain needed), or fail
// the VM's start (Create) saying what to rerun. Without it, the default image (built on first use).
async function loadManager() {
  const [{ loadVerifiedImage }, { QemuManager }] = await Promise.all([import('../src/image/index.js'), import('../src/vm/index.js')]);
  const recorded = process.env[IMAGE_DIR_ENV];
  const image = recorded ? () => loadVerifiedImage(recorded, 'rerun `vessel containerd install --bin-dir DIR` to build and record it') : undefined;
  return (o: ConstructorParameters<typeof QemuManager>[0]) => new QemuManager({ ...o, ...(image ? { image } : {}) });
}

// The server (`serve`) resolves only after Shutdown: exit then, even with handles left.
process.exit(await runShim(process.argv.slice(2), fileURLToPath(import.meta.url), loadManager));
