import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/index.js';
import { newTestManager } from '../../support/backend.js';
import { progressReporter } from '../../../src/cli/progress.js';
import { makePrivateTempDir } from '../../support/tmpdir.js';

function sink(tty = false): PassThrough & { isTTY?: boolean; text: () => string } {
  const s = new PassThrough() as PassThrough & { isTTY?: boolean; text: () => string };
  let buf = '';
  s.on('data', (c: Buffer) => (buf += c.toString()));
  s.isTTY = tty;
  s.text = () => buf;
  return s;
}

describe('vessel image (CLI)', () => {
  let home: { dir: string; remove: () => Promise<void> };
  let saved: string | undefined;
  beforeEach(async () => {
    home = await makePrivateTempDir('cli-home');
    saved = process.env.VESSEL_HOME;
    process.env.VESSEL_HOME = home.dir;
  });
  afterEach(async () => {
    if (saved === undefined) delete process.env.VESSEL_HOME;
    else process.env.VESSEL_HOME = saved;
    await home.remove();
  });

  it('is listed in the help; keeps --version; has its own usage', async () => {
    const out = sink();
    expect(await runCli(['--help'], newTestManager, out, sink())).toBe(0);
    expect(out.text()).toMatch(/image\s+build, list and prune/);
    const v = sink();
    expect(await runCli(['--version'], newTestManager, v, sink())).toBe(0);
    expect(v.text()).toMatch(/^vessel \d+\.\d+\.\d+\n$/);
    const u = sink();
    expect(await runCli(['image'], newTestManager, u, sink())).toBe(2);
    expect(u.text()).toContain('vessel image <command>');
  });

  it('rejects unknown subcommands, flags and compressions with exit code 2', async () => {
    const err = sink();
    expect(await runCli(['image', 'frobnicate'], newTestManager, sink(), err)).toBe(2);
    expect(err.text()).toContain('unknown command "frobnicate"');
    expect(await runCli(['image', 'build', '--compression', 'lz4'], newTestManager, sink(), sink())).toBe(2);
    expect(await runCli(['image', 'list', '--bogus'], newTestManager, sink(), sink())).toBe(2);
  });

  it('lists an empty home as JSON and as text', async () => {
    const j = sink();
    expect(await runCli(['image', 'list', '--json'], newTestManager, j, sink())).toBe(0);
    expect(JSON.parse(j.text())).toEqual([]);
    const t = sink();
    expect(await runCli(['image', 'list'], newTestManager, t, sink())).toBe(0);
    expect(t.text()).toContain('no images');
    const p = sink();
    expect(await runCli(['image', 'prune', '--all'], newTestManager, p, sink())).toBe(0);
    expect(p.text()).toContain('nothing to remove');
  });
});

describe('build progress on stderr', () => {
  it('prints one plain line per phase when stderr is not a TTY', () => {
    const err = sink(false);
    const r = progressReporter(err);
    r.onProgress({ phase: 'download kernel', message: 'linux-image-x 1' });
    r.onProgress({ phase: 'download kernel', done: 10, total: 100 });
    r.onProgress({ phase: 'download kernel', done: 100, total: 100 });
    r.onProgress({ phase: 'modules', done: 1, total: 3 });
    r.onProgress({ phase: 'log', message: 'built image abc' });
    r.finish();
    expect(err.text()).toBe('download kernel  linux-image-x 1\nmodules\nvessel: built image abc\n');
  });

  it('draws a bar with percent on a TTY', () => {
    const err = sink(true);
    const r = progressReporter(err);
    r.onProgress({ phase: 'initramfs write', done: 50, total: 200 });
    r.finish();
    expect(err.text()).toContain('[######------------------]  25%');
    expect(err.text().endsWith('\n')).toBe(true);
  });
});
