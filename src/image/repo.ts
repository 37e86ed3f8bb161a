// The vessel repository this module runs from (src/ or dist/): where the agent's Go module
// is, the version stamped into the agent, and the tools install-deps builds.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { VesselError } from '../errors/index.js';

function findRepoRoot(start: string): string | undefined {
  let dir = start;
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'agent', 'go.mod'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

const repoRoot = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));

/** The repository's agent/ module (found from this file's location, in src/ or dist/). */
export function defaultAgentDir(): string {
  if (repoRoot === undefined) throw new VesselError('IMAGE_BUILD_FAILED', 'the vessel repository (with agent/go.mod) was not found: pass agentDir');
  return path.join(repoRoot, 'agent');
}

/** A path inside the repository (e.g. the tools scripts/install-deps.sh builds into .interop-bin), or undefined outside one. */
export function repoPath(...parts: string[]): string | undefined {
  return repoRoot === undefined ? undefined : path.join(repoRoot, ...parts);
}

/** package.json's version, or 0.0.0 when the repository cannot be read. */
export function vesselVersion(): string {
  try {
    if (repoRoot !== undefined) return (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    /* fall through */
  }
  return '0.0.0';
}
