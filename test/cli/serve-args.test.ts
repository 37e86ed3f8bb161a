// Argument parsing and output formatting of `vessel serve` and its client commands (no
// daemon, no VM).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCreateArgs } from '../../src/cli/create.js';
import { UsageError } from '../../src/cli/errors.js';
import { parseExecArgs } from '../../src/cli/exec/args.js';
import { parseFlags } from '../../src/cli/flags.js';
import { age, psTable } from '../../src/cli/ps.js';
import { parseServeArgs } from '../../src/cli/serve.js';

const cwd = '/work/dir';

describe('parseFlags', () => {
  const spec = { socket: { value: true }, env: { short: 'e', value: true }, i: { short: 'i' }, t: { short: 't' } };
  it('long, --x=y, bundled shorts, attached values, `--`', () => {
    const f = parseFlags(['--socket=/s', '-it', '-eA=1', '-e', 'B=2', 'pos', '--', '-x'], spec);
    expect(f.last('socket')).toBe('/s');
    expect(f.has('i') && f.has('t')).toBe(true);
    expect(f.all('env')).toEqual(['A=1', 'B=2']);
    expect(f.positionals).toEqual(['pos']);
    expect(f.rest).toEqual(['-x']);
  });
  it('stopAtPositional leaves everything from the first positional unparsed', () => {
    expect(parseFlags(['-i', 'ID', 'ls', '-l'], spec, { stopAtPositional: true }).rest).toEqual(['ID', 'ls', '-l']);
  });
  it('unknown options and missing values are usage errors', () => {
    expect(() => parseFlags(['--nope'], spec)).toThrow(UsageError);
    expect(() => parseFlags(['-x'], spec)).toThrow(/unknown option -x/);
    expect(() => parseFlags(['--socket'], spec)).toThrow(/--socket needs a value/);
    expect(() => parseFlags(['--i=1'], spec)).toThrow(/takes no value/);
  });
});

describe('vessel serve arguments', () => {
  it('the socket defaults to $VESSEL_HOME/vessel.sock and is resolved against the cwd', () => {
    expect(parseServeArgs(['--socket', 'v.sock'], cwd).socketPath).toBe('/work/dir/v.sock');
    const saved = process.env.VESSEL_HOME;
    process.env.VESSEL_HOME = '/home/x/vh';
    try {
      expect(parseServeArgs([], cwd)).toEqual({ socketPath: '/home/x/vh/vessel.sock', allowPaths: [], liveRestore: true, debug: false, help: false });
    } finally {
      if (saved === undefined) delete process.env.VESSEL_HOME;
      else process.env.VESSEL_HOME = saved;
    }
  });
  it('TCP only with mutual TLS (certificate, key and client CA); TLS files only with TCP; HOST:PORT checked', () => {
    expect(parseServeArgs(['--tcp', '127.0.0.1:0', '--tls-cert', 'c.pem', '--tls-key', 'k.pem', '--tls-ca', 'ca.pem'], cwd)).toMatchObject({
      tcpAddress: '127.0.0.1:0',
      tls: { certPath: '/work/dir/c.pem', keyPath: '/work/dir/k.pem', caPath: '/work/dir/ca.pem' },
    });
    const tls = ['--tls-cert', 'c', '--tls-key', 'k', '--tls-ca', 'ca'];
    expect(parseServeArgs(['--tcp', '[::1]:7443', ...tls], cwd).tcpAddress).toBe('[::1]:7443');
    expect(() => parseServeArgs(['--tcp', '0.0.0.0:7443'], cwd)).toThrow(
      /^--tcp needs --tls-cert, --tls-key, --tls-ca: vessel serves TCP only with mutual TLS/,
    );
    expect(() => parseServeArgs(['--tcp', '0.0.0.0:7443', '--tls-key', 'k'], cwd)).toThrow(/^--tcp needs --tls-cert, --tls-ca:/);
    expect(() => parseServeArgs(['--tcp', '0.0.0.0:7443', '--tls-cert', 'c', '--tls-key', 'k'], cwd)).toThrow(
      /^--tcp needs --tls-ca: vessel serves TCP only with mutual TLS/,
    );
    expect(() => parseServeArgs(['--tls-cert', 'c', '--tls-key', 'k'], cwd)).toThrow(/only apply with --tcp/);
    expect(() => parseServeArgs(['--tcp', '7443', ...tls], cwd)).toThrow(/HOST:PORT/);
    expect(() => parseServeArgs(['--tcp', 'h:70000', ...tls], cwd)).toThrow(/HOST:PORT/);
    expect(() => parseServeArgs(['extra'], cwd)).toThrow(/unexpected argument "extra"/);
  });
  it('--allow-path repeats and is resolved against the cwd; --group takes a name', () => {
    expect(parseServeArgs(['--allow-path', 'a', '--allow-path=/srv/b', '--group', 'vessel'], cwd)).toMatchObject({
      allowPaths: ['/work/dir/a', '/srv/b'],
      group: 'vessel',
    });
    expect(() => parseServeArgs(['--group', ''], cwd)).toThrow(/--group wants a group name/);
  });
  it('live restore is on unless --no-live-restore', () => {
    expect(parseServeArgs([], cwd).liveRestore).toBe(true);
    expect(parseServeArgs(['--no-live-restore'], cwd).liveRestore).toBe(false);
    expect(() => parseServeArgs(['--no-live-restore=1'], cwd)).toThrow(/takes no value/);
  });
});

describe('vessel exec arguments', () => {
  it('options before the id; the command keeps its own flags, with or without --', () => {
    expect(parseExecArgs(['-it', '-e', 'A=1', '-e', 'HOME', '-w', '/srv/', 'vm1', 'ls', '-l'], { HOME: '/root2' })).toEqual({
      socket: undefined,
      interactive: true,
      tty: true,
      env: ['A=1', 'HOME=/root2'],
      workdir: '/srv',
      id: 'vm1',
      command: ['ls', '-l'],
      help: false,
    });
    expect(parseExecArgs(['--socket', '/s', 'vm1', '--', 'sh', '-c', 'x'], {})).toMatchObject({ socket: '/s', id: 'vm1', command: ['sh', '-c', 'x'] });
  });
  it('usage errors say what is missing', () => {
    expect(() => parseExecArgs([], {})).toThrow(/no instance given/);
    expect(() => parseExecArgs(['vm1'], {})).toThrow(/no command given/);
    expect(() => parseExecArgs(['vm1', '--'], {})).toThrow(/no command given/);
    expect(() => parseExecArgs(['-w', 'rel', 'vm1', 'true'], {})).toThrow(/must be absolute/);
    expect(() => parseExecArgs(['-e', '1A=x', 'vm1', 'true'], {})).toThrow(/-e wants KEY=VALUE/);
  });
});

describe('vessel create arguments', () => {
  it('id, CPUs, memory and volumes (host paths made absolute)', () => {
    expect(parseCreateArgs(['--id', 'a', '--cpus', '2', '-m512', '-v', 'share:/data:ro'], cwd)).toEqual({
      socket: undefined,
      id: 'a',
      cpus: 2,
      memoryMiB: 512,
      volumes: [{ host: path.join(cwd, 'share'), guest: '/data', readOnly: true }],
      help: false,
    });
    expect(() => parseCreateArgs(['--cpus', '0'], cwd)).toThrow(/positive integer/);
    expect(() => parseCreateArgs(['-v', '/a:/x', '-v', '/b:/x/'], cwd)).toThrow(/two volumes are mounted at \/x/);
    expect(() => parseCreateArgs(['stray'], cwd)).toThrow(/unexpected argument/);
  });
});

describe('vessel ps table', () => {
  const now = Date.UTC(2025, 0, 1, 12);
  const ns = (ms: number) => (BigInt(ms) * 1_000_000n).toString();
  it('ages in s/m/h/d', () => {
    expect([age(ns(now - 5_000), now), age(ns(now - 125_000), now), age(ns(now - 3 * 3600_000), now), age(ns(now - 2 * 86400_000), now)]).toEqual([
      '5s',
      '2m',
      '3h',
      '2d',
    ]);
  });
  it('one aligned row per instance; a failed one shows its error code', () => {
    const table = psTable(
      [
        { id: 'web', state: 'STATE_RUNNING', accelerator: 'kvm', config: { cpu: 2, ramMib: 512 }, timings: { createdAtUnixNano: ns(now - 61_000) } },
        {
          id: 'b',
          state: 'STATE_FAILED',
          accelerator: 'tcg',
          config: { cpu: 1, ramMib: 256 },
          timings: { createdAtUnixNano: ns(now) },
          error: { code: 'VM_EXITED', message: 'x' },
        },
      ],
      now,
    );
    expect(table).toBe(
      [
        'ID   STATE               ACCEL  CPUS  MEMORY   AGE',
        'web  running             kvm    2     512 MiB  1m',
        'b    failed (VM_EXITED)  tcg    1     256 MiB  0s',
        '',
      ].join('\n'),
    );
  });
});
