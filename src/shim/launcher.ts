// The `containerd-shim-vessel-v2` executable containerd looks up on its PATH: a shell
// launcher that runs the compiled entry point with this Node.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/cmd/containerd-shim-vessel-v2.js, found from this module (src/ or dist/src/). */
export function shimEntryPoint(): string {
  const here = path.dirname(fileURLToPath(import.meta.url)); // <repo>/dist/src/shim or <repo>/src/shim
  const repo = here.includes(`${path.sep}dist${path.sep}`) ? path.resolve(here, '..', '..', '..') : path.resolve(here, '..', '..');
  return path.join(repo, 'dist', 'cmd', 'containerd-shim-vessel-v2.js');
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function shimLauncher(entry = shimEntryPoint(), node = process.execPath): string {
  return `#!/bin/sh\n# containerd-shim-vessel-v2: written by \`vessel containerd install\`\nexec ${quote(node)} ${quote(entry)} "$@"\n`;
}
