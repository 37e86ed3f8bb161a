// `vessel run` argument parsing, exit-code mapping and disk type detection (no VM).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/index.js';
import { newTestManager } from '../support/backend.js';
import { UsageError, execFailureExit, statusExit } from '../../src/cli/errors.js';
import { parseRunArgs } from '../../src/cli/run/args.js';
import { guestEnv } from '../../src/cli/run/command.js';
import { diskFsType } from '../../src/cli/run/disk.js';
import { VesselError } from '../../src/errors/index.js';
import { makePrivateTempDir } from '../support/tmpdir.js';
import { sink } from './helpers.js';

const ctx = { cwd: '/work', env: { HOME_VAR: 'from-host' } as NodeJS.ProcessEnv };
const parse = (argv: string[]) => parseRunArgs(argv, ctx);

function usageError(argv: string[]): string {
  try {
    parse(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`${argv.join(' ')} was accepted`);
}

describe('vessel run arguments', () => {
  it('defaults, and the command after -- or at the first non-option', () => {
    const s = parse(['--', 'uname', '-a']);
    expect(s).toMatchObject({
      cpus: undefined,
      memoryMiB: undefined,
      volumes: [],
      disks: [],
      net: false,
      env: [],
      workdir: undefined,
      interactive: false,
      tty: false,
      console: false,
      command: ['uname', '-a'],
    });
    expect(parse(['ls', '-l', '--', 'x']).command).toEqual(['ls', '-l', '--', 'x']);
    expect(parse(['-i', 'cat', '-i']).command).toEqual(['cat', '-i']);
  });

  it('every option, in long, short, joined and = forms', () => {
    const s = parse([
      '--cpus',
      '2',
      '--memory=512',
      '-v',
      'data:/data',
      '-v/abs:/ro:ro',
      '--disk',
      'img.raw:/mnt/d:ro',
      '--disk=x.VMDK',
      '--net',
      '-e',
      'A=1',
      '-eB=x=y',
      '-e',
      'HOME_VAR',
      '-e',
      'UNSET_VAR',
      '-w',
      '/tmp/',
      '-it',
      '--console',
      '--debug',
      '--',
      'sh',
    ]);
    expect(s.cpus).toBe(2);
    expect(s.memoryMiB).toBe(512);
    expect(s.volumes).toEqual([
      { host: '/work/data', guest: '/data', readOnly: false },
      { host: '/abs', guest: '/ro', readOnly: true },
    ]);
    expect(s.disks).toEqual([
      { host: '/work/img.raw', mountPoint: '/mnt/d', readOnly: true, vmdk: false },
      { host: '/work/x.VMDK', mountPoint: undefined, readOnly: false, vmdk: true },
    ]);
    expect(s.env).toEqual(['A=1', 'B=x=y', 'HOME_VAR=from-host']);
    expect(s).toMatchObject({ net: true, workdir: '/tmp', interactive: true, tty: true, console: true, debug: true, command: ['sh'] });
    expect(parse(['-m', '300', 'true']).memoryMiB).toBe(300);
    expect(parse(['-m300', 'true']).memoryMiB).toBe(300);
    expect(parse(['-v', 'a:/b:rw', 'true']).volumes[0]!.readOnly).toBe(false);
  });

  it('--help needs no command', () => {
    expect(parse(['--help']).help).toBe(true);
    expect(parse(['-h']).help).toBe(true);
  });

  it('bad flags say what is wrong', () => {
    expect(usageError([])).toMatch(/no command/);
    expect(usageError(['--cpus', '0', 'true'])).toMatch(/--cpus needs a positive integer, got "0"/);
    expect(usageError(['--cpus', '1.5', 'true'])).toMatch(/positive integer/);
    expect(usageError(['--memory', 'lots', 'true'])).toMatch(/--memory needs a positive integer/);
    expect(usageError(['--cpus'])).toMatch(/--cpus needs a value/);
    expect(usageError(['-v'])).toMatch(/-v needs a value/);
    expect(usageError(['--frobnicate', 'true'])).toMatch(/unknown option --frobnicate/);
    expect(usageError(['-x', 'true'])).toMatch(/unknown option -x/);
    expect(usageError(['--net=yes', 'true'])).toMatch(/--net takes no value/);
    expect(usageError(['-v', '/a', 'true'])).toMatch(/HOST:GUEST/);
    expect(usageError(['-v', '/a:b', 'true'])).toMatch(/guest path must be absolute/);
    expect(usageError(['-v', '/a:/', 'true'])).toMatch(/cannot mount over/);
    expect(usageError(['-v', '/a:/b:/c:ro', 'true'])).toMatch(/HOST:GUEST/);
    expect(usageError(['--disk', 'a:b:c', 'true'])).toMatch(/IMAGE\[:GUEST_MOUNTPOINT\]/);
    expect(usageError(['-v', '/a:/m', '--disk', 'd.img:/m', 'true'])).toMatch(/mounted at \/m/);
    expect(usageError(['-e', '1X=2', 'true'])).toMatch(/KEY=VALUE/);
    expect(usageError(['-e', '=x', 'true'])).toMatch(/KEY=VALUE/);
    expect(usageError(['-w', 'rel', 'true'])).toMatch(/must be absolute/);
    expect(usageError(['--', ''])).toMatch(/empty/);
  });

  it('usage errors exit 2 through runCli, with the message on stderr', async () => {
    const err = sink();
    expect(await runCli(['run', '--cpus', 'x', '--', 'true'], newTestManager, sink(), err)).toBe(2);
    expect(err.text()).toBe('vessel run: --cpus needs a positive integer, got "x"\nSee \'vessel run --help\'.\n');
    const out = sink();
    expect(await runCli(['run', '--help'], newTestManager, out, sink())).toBe(0);
    expect(out.text()).toContain('Usage: vessel run [OPTIONS] [--] CMD [ARG...]');
    expect(await runCli(['gc', '--bogus'], newTestManager, sink(), sink())).toBe(2);
    expect(await runCli(['doctor', 'extra'], newTestManager, sink(), sink())).toBe(2);
  });

  it('the guest environment: a base PATH/HOME/TERM, -e replaces by key', () => {
    expect(guestEnv(parse(['true']), {})).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'TERM=dumb']);
    expect(guestEnv(parse(['-t', 'true']), { TERM: 'screen' })).toContain('TERM=screen');
    expect(guestEnv(parse(['-e', 'PATH=/x', '-e', 'A=1', '-e', 'A=2', 'true']), {})).toEqual(['HOME=/root', 'TERM=dumb', 'PATH=/x', 'A=2']);
  });
});

describe('exit codes', () => {
  it('128+N for signals, the code otherwise; 127 / 126 for exec failures; nothing for others', () => {
    expect(statusExit({ exitCode: 0, signal: 0 })).toBe(0);
    expect(statusExit({ exitCode: 7, signal: 0 })).toBe(7);
    expect(statusExit({ exitCode: 0, signal: 9 })).toBe(137);
    expect(execFailureExit(new VesselError('COMMAND_NOT_FOUND', 'x'))).toBe(127);
    expect(execFailureExit(new VesselError('COMMAND_NOT_EXECUTABLE', 'x'))).toBe(126);
    // the daemon's own NOT_FOUND / INVALID_ARGUMENT (no such instance, a bad request) are vessel's failures
    expect(execFailureExit(new VesselError('NOT_FOUND', 'x'))).toBeUndefined();
    expect(execFailureExit(new VesselError('INVALID_ARGUMENT', 'x'))).toBeUndefined();
    expect(execFailureExit(new VesselError('UNAVAILABLE', 'x'))).toBeUndefined();
    expect(execFailureExit(new Error('x'))).toBeUndefined();
  });
});

describe('--disk filesystem type', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  beforeAll(async () => {
    tmp = await makePrivateTempDir('cli-disk');
  });
  afterAll(async () => {
    await tmp.remove();
  });

  it('ext2, ext3 and ext4 images are mounted as ext4; other raw images are refused; VMDK assumes ext4', async () => {
    for (const t of ['ext2', 'ext3', 'ext4']) {
      const img = path.join(tmp.dir, `${t}.img`);
      execFileSync(`mkfs.${t}`, ['-q', '-F', img, '4M']);
      expect(await diskFsType(img, false)).toBe('ext4');
    }
    const zero = path.join(tmp.dir, 'zero.img');
    fs.writeFileSync(zero, Buffer.alloc(4096));
    await expect(diskFsType(zero, false)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/no ext2\/3\/4 filesystem/) });
    await expect(diskFsType(path.join(tmp.dir, 'missing.img'), false)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await diskFsType(path.join(tmp.dir, 'any.vmdk'), true)).toBe('ext4');
  });
});
