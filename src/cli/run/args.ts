// Contract: parses `vessel run` arguments into a RunSpec, or throws UsageError (exit 2)
// saying what is wrong. Pure: no file system access; host paths are made absolute against
// `cwd`, and their existence is checked when the VM is configured. Options end at `--` or
// at the first argument that is not an option (docker style), so `vessel run ls -l` works.
import path from 'node:path';
import { UsageError } from '../errors.js';

export interface VolumeSpec {
  host: string;
  guest: string;
  readOnly: boolean;
}
export interface DiskSpec {
  host: string;
  mountPoint: string | undefined;
  readOnly: boolean;
  vmdk: boolean;
}

export interface RunSpec {
  cpus: number | undefined;
  memoryMiB: number | undefined;
  volumes: VolumeSpec[];
  disks: DiskSpec[];
  net: boolean;
  /** KEY=VALUE entries from -e, in order (later ones win in the guest). */
  env: string[];
  workdir: string | undefined;
  interactive: boolean;
  tty: boolean;
  console: boolean;
  debug: boolean;
  help: boolean;
  command: string[];
}

export const RUN_USAGE = `Usage: vessel run [OPTIONS] [--] CMD [ARG...]

Boots a microVM from the default guest image, runs CMD in it, and removes the VM.
The exit status is CMD's (128+N when signal N ended it); 125 when vessel failed,
126 when CMD cannot be executed, 127 when it is not found in the guest.

Options:
      --cpus N                    virtual CPUs (default 1)
  -m, --memory MiB                guest memory in MiB (default 256)
  -v, --volume HOST:GUEST[:ro]    share a host directory over virtio-fs at GUEST
      --disk IMAGE[:GUEST][:ro]   attach a raw or .vmdk disk image (serial diskN), and mount
                                  it at GUEST if given (ext2/3/4; see README)
      --net                       network through passt: the guest gets the host's
                                  addresses; its gateway reaches the host's 127.0.0.1
  -e, --env KEY=VALUE             set a variable (KEY alone: take the host's value)
  -w, --workdir DIR               working directory in the guest (absolute)
  -i, --interactive               forward stdin to CMD
  -t, --tty                       run CMD on a terminal (raw mode, window size follows)
      --console                   copy the guest's console to stderr
      --debug                     vessel's own logs on stderr
  -h, --help                      show this help
`;

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function positiveInt(flag: string, v: string): number {
  if (!/^[0-9]+$/.test(v) || Number(v) < 1 || !Number.isSafeInteger(Number(v)))
    throw new UsageError(`${flag} needs a positive integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

export function guestPath(flag: string, p: string): string {
  if (!p.startsWith('/')) throw new UsageError(`${flag}: the guest path must be absolute, got ${JSON.stringify(p)}`);
  const clean = path.posix.normalize(p);
  if (clean === '/') throw new UsageError(`${flag}: cannot mount over the guest's /`);
  return clean.replace(/\/+$/, '');
}

/** Splits a trailing `:ro` / `:rw`. */
function accessMode(parts: string[]): boolean {
  const last = parts[parts.length - 1];
  if (parts.length > 1 && (last === 'ro' || last === 'rw')) {
    parts.pop();
    return last === 'ro';
  }
  return false;
}

export function parseVolume(v: string, cwd: string): VolumeSpec {
  const parts = v.split(':');
  const readOnly = accessMode(parts);
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
    throw new UsageError(`-v wants HOST:GUEST[:ro], got ${JSON.stringify(v)}`);
  }
  return { host: path.resolve(cwd, parts[0]!), guest: guestPath('-v', parts[1]!), readOnly };
}

export function parseDisk(v: string, cwd: string): DiskSpec {
  const parts = v.split(':');
  const readOnly = accessMode(parts);
  if (parts.length > 2 || parts[0] === '' || parts[1] === '') {
    throw new UsageError(`--disk wants IMAGE[:GUEST_MOUNTPOINT][:ro], got ${JSON.stringify(v)}`);
  }
  const host = path.resolve(cwd, parts[0]!);
  return { host, mountPoint: parts[1] === undefined ? undefined : guestPath('--disk', parts[1]), readOnly, vmdk: /\.vmdk$/i.test(host) };
}

export function parseEnv(v: string, hostEnv: NodeJS.ProcessEnv): string | undefined {
  const eq = v.indexOf('=');
  const key = eq < 0 ? v : v.slice(0, eq);
  if (!ENV_KEY.test(key)) throw new UsageError(`-e wants KEY=VALUE with KEY of [A-Za-z0-9_] not starting with a digit, got ${JSON.stringify(v)}`);
  if (v.includes('\0')) throw new UsageError('-e: values cannot contain NUL bytes');
  if (eq >= 0) return v;
  const host = hostEnv[key];
  return host === undefined ? undefined : `${key}=${host}`;
}

type Flag = { kind: 'bool'; set: (s: RunSpec) => void } | { kind: 'value'; set: (s: RunSpec, v: string, name: string) => void };

export function parseRunArgs(argv: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): RunSpec {
  const spec: RunSpec = {
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
    debug: false,
    help: false,
    command: [],
  };
  const cpus: Flag = {
    kind: 'value',
    set: (s, v, n) => {
      s.cpus = positiveInt(n, v);
    },
  };
  const memory: Flag = {
    kind: 'value',
    set: (s, v, n) => {
      s.memoryMiB = positiveInt(n, v);
    },
  };
  const volume: Flag = {
    kind: 'value',
    set: (s, v) => {
      s.volumes.push(parseVolume(v, opts.cwd));
    },
  };
  const disk: Flag = {
    kind: 'value',
    set: (s, v) => {
      s.disks.push(parseDisk(v, opts.cwd));
    },
  };
  const env: Flag = {
    kind: 'value',
    set: (s, v) => {
      const e = parseEnv(v, opts.env);
      if (e !== undefined) s.env.push(e);
    },
  };
  const workdir: Flag = {
    kind: 'value',
    set: (s, v, n) => {
      s.workdir = guestPath(n, v);
    },
  };
  const interactive: Flag = {
    kind: 'bool',
    set: (s) => {
      s.interactive = true;
    },
  };
  const tty: Flag = {
    kind: 'bool',
    set: (s) => {
      s.tty = true;
    },
  };
  const help: Flag = {
    kind: 'bool',
    set: (s) => {
      s.help = true;
    },
  };
  const long: Record<string, Flag> = {
    cpus,
    memory,
    volume,
    disk,
    env,
    workdir,
    interactive,
    tty,
    help,
    net: {
      kind: 'bool',
      set: (s) => {
        s.net = true;
      },
    },
    console: {
      kind: 'bool',
      set: (s) => {
        s.console = true;
      },
    },
    debug: {
      kind: 'bool',
      set: (s) => {
        s.debug = true;
      },
    },
  };
  const short: Record<string, Flag> = { m: memory, v: volume, e: env, w: workdir, i: interactive, t: tty, h: help };

  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const flag = long[name];
      if (!flag) throw new UsageError(`unknown option --${name}`);
      if (flag.kind === 'bool') {
        if (eq >= 0) throw new UsageError(`--${name} takes no value`);
        flag.set(spec);
        continue;
      }
      let value: string | undefined;
      if (eq >= 0) value = a.slice(eq + 1);
      else value = argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      flag.set(spec, value, `--${name}`);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      // -it, -v HOST:GUEST, -vHOST:GUEST, -m512
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        const flag = short[c];
        if (!flag) throw new UsageError(`unknown option -${c}`);
        if (flag.kind === 'bool') {
          flag.set(spec);
          continue;
        }
        const rest = a.slice(j + 1);
        const value = rest !== '' ? rest : argv[++i];
        if (value === undefined) throw new UsageError(`-${c} needs a value`);
        flag.set(spec, value, `-${c}`);
        break;
      }
      continue;
    }
    break; // the command
  }
  spec.command = argv.slice(i);
  if (!spec.help && spec.command.length === 0) throw new UsageError('no command given (vessel run [OPTIONS] -- CMD [ARG...])');
  if (spec.command.some((c) => c.includes('\0'))) throw new UsageError('the command cannot contain NUL bytes');
  if (spec.command[0] === '') throw new UsageError('the command name is empty');
  const mounts = [...spec.volumes.map((v) => v.guest), ...spec.disks.flatMap((d) => (d.mountPoint ? [d.mountPoint] : []))];
  const dup = mounts.find((m, k) => mounts.indexOf(m) !== k);
  if (dup !== undefined) throw new UsageError(`two volumes or disks are mounted at ${dup}`);
  return spec;
}
