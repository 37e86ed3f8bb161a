// Contract: `vessel containerd install --bin-dir DIR` prepares everything the shim needs at
// run time, then installs it: it builds or verifies the default guest image (progress on
// stderr), writes the `containerd-shim-vessel-v2` launcher (this Node, this checkout's
// compiled shim, the verified image's directory and VESSEL_HOME recorded in it) into DIR,
// mode 0755, replacing an older one, and prints the containerd config snippet for a CRI
// runtime named `vessel` (`io.containerd.vessel.v2`, found on containerd's PATH). The shim
// then boots the recorded image after checking its sha256s: no Go toolchain on containerd's
// PATH. Exit 0; 2 on a usage error; 125 when the image cannot be prepared or DIR written.
import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { vesselHome } from '../host/index.js';
import { ensureDefaultImage, type GuestImage } from '../image/index.js';
import { shimLauncher } from '../shim/index.js';
import { progressReporter } from './progress.js';

export const CONTAINERD_USAGE = `Usage: vessel containerd install --bin-dir DIR

Builds or verifies the guest image, writes the containerd-shim-vessel-v2 launcher (which
records that image) into DIR (put DIR on containerd's PATH), and prints the containerd
config for a CRI runtime named "vessel". Rerun it after the image was pruned or rebuilt.
`;

const SNIPPET = `# containerd config.toml (version 2); with the CRI plugin:
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.vessel]
  runtime_type = "io.containerd.vessel.v2"
  # pod annotations that may size a pod's VM (they override the config below)
  pod_annotations = ["io.vessel.vm.cpus", "io.vessel.vm.memory-mib"]
# optional: the pod VMs' default size, a JSON file such as {"cpus": 2, "memoryMiB": 512}
# [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.vessel.options]
#   ConfigPath = "/etc/vessel/runtime.json"
# ctr: ctr run --runtime io.containerd.vessel.v2 [--runtime-config-path FILE] IMAGE ID CMD...
`;

function parseBinDir(rest: string[]): string | undefined {
  if (rest.length === 2 && rest[0] === '--bin-dir') return rest[1];
  if (rest.length === 1 && rest[0]!.startsWith('--bin-dir=')) return rest[0]!.slice('--bin-dir='.length);
  return undefined;
}

async function prepareImage(stderr: Writable & { isTTY?: boolean }): Promise<GuestImage> {
  const bar = progressReporter(stderr);
  try {
    return await ensureDefaultImage({ onProgress: bar.onProgress });
  } finally {
    bar.finish();
  }
}

export async function runContainerd(argv: string[], stdout: Writable, stderr: Writable & { isTTY?: boolean }): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '-h' || sub === '--help') {
    stdout.write(CONTAINERD_USAGE);
    return 0;
  }
  const binDir = parseBinDir(rest);
  if (sub !== 'install' || !binDir) {
    stderr.write(`vessel containerd: expected \`install --bin-dir DIR\`\n\n${CONTAINERD_USAGE}`);
    return 2;
  }
  let image: GuestImage;
  try {
    image = await prepareImage(stderr);
  } catch (err) {
    stderr.write(`vessel containerd: cannot prepare the guest image: ${(err as Error).message}\n`);
    return 125;
  }
  stderr.write(`vessel containerd: guest image ${image.id} verified (${image.dir})\n`);
  const target = path.join(path.resolve(binDir), 'containerd-shim-vessel-v2');
  try {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const tmp = `${target}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, shimLauncher({ imageDir: image.dir, home: vesselHome() }), { mode: 0o755 });
    fs.renameSync(tmp, target);
  } catch (err) {
    stderr.write(`vessel containerd: cannot write ${target}: ${(err as Error).message}\n`);
    return 125;
  }
  stdout.write(`wrote ${target} (guest image ${image.id})\n\n${SNIPPET}`);
  return 0;
}
