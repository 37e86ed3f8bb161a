// Paths inside the repository, for tests and benchmarks.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';

function findRepoRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'agent', 'go.mod'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`repository root not found above ${start}`);
    dir = parent;
  }
}

/** Works both from test/ (vitest, TypeScript) and from dist/ (compiled benchmarks). */
export const repoRoot = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));
export const agentDir = path.join(repoRoot, 'agent');
export const protoDir = path.join(repoRoot, 'proto');
export const interopProto = path.join(protoDir, 'vessel', 'test', 'v1', 'interop.proto');
export const testPeerBinary = path.join(agentDir, 'bin', 'vessel-testpeer');
