import { fileURLToPath } from 'node:url';
import { loadVerifiedImage } from '../src/image/index.js';
import { runShim } from '../src/shim/index.js';
import { IMAGE_DIR_ENV } from '../src/shim/launcher.js';
import { QemuManager } from '../src/vm/index.js';

// The launcher `vessel containerd install` writes names the guest image it verified: boot
// that one, checked again (sha256s against its manifest; no toolchain needed), or fail the
// VM's start (Create) saying what to rerun. Without it, the default image (built on first use).
const recorded = process.env[IMAGE_DIR_ENV];
const image = recorded ? () => loadVerifiedImage(recorded, 'rerun `vessel containerd install --bin-dir DIR` to build and record it') : undefined;

// The server (`serve`) resolves only after Shutdown: exit then, even with handles left.
process.exit(await runShim(process.argv.slice(2), fileURLToPath(import.meta.url), (o) => new QemuManager({ ...o, ...(image ? { image } : {}) })));
