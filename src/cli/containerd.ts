// Contract: `vessel containerd install --bin-dir DIR` writes the `containerd-shim-vessel-v2`
// launcher (this Node, this checkout's compiled shim) into DIR, mode 0755, replacing an
// older one, and prints the containerd config snippet for a runtime named `vessel`
// (`io.containerd.vessel.v2`, found on containerd's PATH). Exit 0; 2 on a usage error;
// 125 when DIR cannot be written.
import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { shimLauncher } from '../shim/index.js';

export const CONTAINERD_USAGE = `Usage: vessel containerd install --bin-dir DIR

Writes the containerd-shim-vessel-v2 launcher into DIR (put DIR on containerd's PATH)
and prints the containerd config for a runtime named "vessel".
`;

const SNIPPET = `# containerd config.toml (version 2); with the CRI plugin:
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.vessel]
  runtime_type = "io.containerd.vessel.v2"
# ctr: ctr run --runtime io.containerd.vessel.v2 IMAGE ID CMD...
`;

export function runContainerd(argv: string[], stdout: Writable, stderr: Writable): number {
  const [sub, ...rest] = argv;
  if (sub === '-h' || sub === '--help') {
    stdout.write(CONTAINERD_USAGE);
    return 0;
  }
  const binDir =
    rest.length === 2 && rest[0] === '--bin-dir'
      ? rest[1]
      : rest.length === 1 && rest[0]!.startsWith('--bin-dir=')
        ? rest[0]!.slice('--bin-dir='.length)
        : undefined;
  if (sub !== 'install' || !binDir) {
    stderr.write(`vessel containerd: expected \`install --bin-dir DIR\`\n\n${CONTAINERD_USAGE}`);
    return 2;
  }
  const target = path.join(path.resolve(binDir), 'containerd-shim-vessel-v2');
  try {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const tmp = `${target}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, shimLauncher(), { mode: 0o755 });
    fs.renameSync(tmp, target);
  } catch (err) {
    stderr.write(`vessel containerd: cannot write ${target}: ${(err as Error).message}\n`);
    return 125;
  }
  stdout.write(`wrote ${target}\n\n${SNIPPET}`);
  return 0;
}
