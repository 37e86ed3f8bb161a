// `vessel containerd install --bin-dir DIR`: the launcher containerd finds on its PATH.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/index.js';
import { newTestManager } from '../support/backend.js';
import { makePrivateTempDir } from '../support/tmpdir.js';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => {
    text += c.toString();
  });
  return { stream, text: () => text };
}

describe('vessel containerd install', () => {
  let remove: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await remove?.();
  });

  it('writes an executable launcher and prints the runtime config', async () => {
    const tmp = await makePrivateTempDir('install');
    remove = tmp.remove;
    const out = capture();
    const err = capture();
    const code = await runCli(['containerd', 'install', '--bin-dir', path.join(tmp.dir, 'bin')], newTestManager, out.stream, err.stream);
    expect(code, err.text()).toBe(0);
    const launcher = path.join(tmp.dir, 'bin', 'containerd-shim-vessel-v2');
    expect(fs.statSync(launcher).mode & 0o777).toBe(0o755);
    expect(out.text()).toContain('runtime_type = "io.containerd.vessel.v2"');
    // The launcher runs the compiled shim: a bad invocation is refused with its message.
    let failed: { status: number; stderr: string } | undefined;
    try {
      execFileSync(launcher, ['-namespace', 'default', '-id', 'x', 'bogus'], { stdio: 'pipe' });
    } catch (e) {
      failed = { status: (e as { status: number }).status, stderr: String((e as { stderr: Buffer }).stderr) };
    }
    expect(failed?.status).toBe(1);
    expect(failed?.stderr).toContain('action must be start, delete or serve');
  });

  it('refuses a missing --bin-dir with exit 2', async () => {
    const err = capture();
    expect(await runCli(['containerd', 'install'], newTestManager, capture().stream, err.stream)).toBe(2);
    expect(err.text()).toContain('install --bin-dir DIR');
  });
});
