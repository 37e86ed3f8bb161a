// Contract: the guest agent as an image input. `hashAgentTree(dir)` is the sha256 over the
// sorted relative paths and contents of the Go module's sources (**/*.go except *_test.go,
// go.mod, go.sum; bin/, testdata/ and dot-directories skipped), so it changes exactly when
// the shipped binary can change. `buildAgent()` runs `go build` (CGO off, -trimpath, stripped,
// version stamped) and checks the result is a static ELF.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { VesselError } from '../errors/index.js';
import { isStaticElf } from './elf.js';
import { run, runText } from './tools.js';

export const AGENT_PACKAGE = './cmd/vessel-agent';
export const AGENT_VERSION_SYMBOL = 'vessel.dev/agent/internal/version.Version';

async function listSources(root: string, rel: string, out: string[]): Promise<void> {
  for (const e of await fs.readdir(path.join(root, rel), { withFileTypes: true })) {
    const r = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) {
      if (e.name.startsWith('.') || e.name === 'testdata' || (rel === '' && e.name === 'bin')) continue;
      await listSources(root, r, out);
    } else if (e.isFile()) {
      if ((e.name.endsWith('.go') && !e.name.endsWith('_test.go')) || (rel === '' && (e.name === 'go.mod' || e.name === 'go.sum'))) out.push(r);
    }
  }
}

export async function hashAgentTree(dir: string): Promise<string> {
  const files: string[] = [];
  try {
    await listSources(dir, '', files);
  } catch (err) {
    throw new VesselError('IMAGE_BUILD_FAILED', `cannot read the agent source tree ${dir}: ${(err as Error).message}`, { cause: err });
  }
  if (!files.includes('go.mod')) throw new VesselError('IMAGE_BUILD_FAILED', `${dir} is not a Go module (no go.mod)`);
  const h = crypto.createHash('sha256');
  for (const f of files.sort()) {
    const data = await fs.readFile(path.join(dir, f));
    h.update(`${f}\0${data.length}\0`);
    h.update(data);
  }
  return h.digest('hex');
}

export async function goVersion(): Promise<string> {
  return (await runText('go', ['env', 'GOVERSION'])).trim();
}

/** Builds `<dir>/cmd/vessel-agent` into `out` and returns the binary. */
export async function buildAgent(dir: string, out: string, version: string): Promise<Buffer> {
  const env = { ...process.env, CGO_ENABLED: '0', GOOS: 'linux', GOARCH: 'amd64' };
  await run('go', ['build', '-trimpath', '-ldflags', `-s -w -X ${AGENT_VERSION_SYMBOL}=${version}`, '-o', out, AGENT_PACKAGE], { cwd: dir, env });
  const bin = await fs.readFile(out);
  let ok: boolean;
  try {
    ok = isStaticElf(bin);
  } catch (err) {
    throw new VesselError('IMAGE_BUILD_FAILED', `go build produced no ELF binary: ${(err as Error).message}`);
  }
  if (!ok) throw new VesselError('IMAGE_BUILD_FAILED', `the agent binary is dynamically linked (it must be static to run as PID 1)`);
  return bin;
}
