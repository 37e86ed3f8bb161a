// Contract: `vessel serve` (SERVE_USAGE) runs the gRPC daemon (src/api VesselDaemon) until
// SIGTERM / SIGINT / SIGHUP: then it stops accepting calls, shuts every VM down, removes
// its socket and exits 0. A second signal exits at once (128+N). Live restore (default;
// --no-live-restore turns it off): VMs do not die with the daemon (SIGKILL, a crash, a
// second signal, an upgrade), and the next daemon on the same instances dir re-attaches
// every one still running and clears the rest; without it the VMs' helpers die with the
// process, by their parent-death signal. TCP is served only when asked, and only with
// mutual TLS: --tcp without --tls-cert, --tls-key and --tls-ca is a usage error (2), and
// so are an --allow-path that is no directory and an unknown --group, all before
// listening. Host paths for AddFS/AddDisk: under --allow-path dirs if given, else none
// with --tcp, else any. Logs are pino JSON lines on stderr (info; debug with --debug). A
// daemon that cannot listen exits 125.
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { PathPolicy, VesselDaemon, type TlsOptions } from '../api/index.js';
import { isVesselError } from '../errors/index.js';
import { groupId } from '../host/index.js';
import type { NewManager } from '../vm/index.js';
import { EXIT_USAGE, EXIT_VESSEL, UsageError, reportError } from './errors.js';
import { parseFlags } from './flags.js';
import type { CliIo, HostSignal } from './io.js';
import { socketPathOf } from './daemon/client.js';

export const SERVE_USAGE = `Usage: vessel serve [--socket PATH] [--group NAME]
                    [--tcp HOST:PORT --tls-cert FILE --tls-key FILE --tls-ca FILE]
                    [--allow-path DIR]... [--no-live-restore] [--debug]

Serves the vessel.vm.v1 gRPC API (proto/vessel/vm/v1/vm.proto) until SIGTERM or SIGINT,
then shuts every VM down and exits 0 (a second signal exits at once).

Live restore: VMs outlive the daemon when it dies without shutting them down (SIGKILL, a
crash, a second signal, an upgrade); the next \`vessel serve\` re-attaches every one still
running (\`vessel ps\`, \`exec\`, \`rm\` work as before) and clears the ones whose VMM died.

Whoever can call the API can have VMs read and write the host paths AddFS and AddDisk
name. Without --allow-path that is any path on the unix socket (so its access is the
daemon user's, or its group's), and none over TCP.

Options:
      --socket PATH      unix socket, mode 0600 (default $VESSEL_HOME/vessel.sock)
      --group NAME       make the socket 0660 and owned by group NAME: its members may
                         drive VMs (as with docker's group, that is host access unless
                         --allow-path restricts the paths)
      --tcp HOST:PORT    also listen on TCP (port 0: any free port), with mutual TLS only:
      --tls-cert FILE    server certificate chain (PEM)
      --tls-key FILE     its private key (PEM)
      --tls-ca FILE      clients must present a certificate this CA signed (PEM)
      --allow-path DIR   AddFS and AddDisk may name only paths under DIR (repeatable),
                         symlinks resolved; disks only as regular raw files
      --no-live-restore  VMs die with the daemon, however it ends (their helpers get a
                         parent-death signal); the next daemon clears their state dirs
      --debug            debug logs (default: info) on stderr
  -h, --help             show this help
`;

const STOP_SIGNALS: HostSignal[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

export interface ServeSpec {
  socketPath: string;
  tcpAddress?: string;
  tls?: TlsOptions;
  /** --group: the socket's group, by name. */
  group?: string;
  /** --allow-path dirs, absolute. */
  allowPaths: string[];
  /** VMs outlive the daemon and the next one re-attaches them (off with --no-live-restore). */
  liveRestore: boolean;
  debug: boolean;
  help: boolean;
}

export function parseServeArgs(argv: string[], cwd: string): ServeSpec {
  const f = parseFlags(argv, {
    socket: { value: true },
    tcp: { value: true },
    'tls-cert': { value: true },
    'tls-key': { value: true },
    'tls-ca': { value: true },
    group: { value: true },
    'allow-path': { value: true },
    'no-live-restore': {},
    debug: {},
    help: { short: 'h' },
  });
  if (f.positionals.length || f.rest.length) throw new UsageError(`unexpected argument ${JSON.stringify([...f.positionals, ...f.rest][0])}`);
  const file = (name: string) => {
    const v = f.last(name);
    return v === undefined ? undefined : path.resolve(cwd, v);
  };
  const group = f.last('group');
  if (group === '') throw new UsageError('--group wants a group name');
  const spec: ServeSpec = {
    socketPath: socketPathOf(f.last('socket'), cwd),
    ...(group === undefined ? {} : { group }),
    allowPaths: f.all('allow-path').map((d) => path.resolve(cwd, d)),
    liveRestore: !f.has('no-live-restore'),
    debug: f.has('debug'),
    help: f.has('help'),
  };
  const [cert, key, ca] = [file('tls-cert'), file('tls-key'), file('tls-ca')];
  const tcp = f.last('tcp');
  if (tcp === undefined) {
    if (cert || key || ca) throw new UsageError('--tls-cert, --tls-key and --tls-ca only apply with --tcp (the unix socket is protected by its mode)');
    return spec;
  }
  if (!/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/.test(tcp) || Number(tcp.slice(tcp.lastIndexOf(':') + 1)) > 65535) {
    throw new UsageError(`--tcp wants HOST:PORT (e.g. 127.0.0.1:7443, [::1]:7443), got ${JSON.stringify(tcp)}`);
  }
  if (!cert || !key || !ca)
    throw new UsageError(
      `--tcp needs ${[!cert && '--tls-cert', !key && '--tls-key', !ca && '--tls-ca'].filter(Boolean).join(', ')}: vessel serves TCP only with mutual TLS (--tls-cert and --tls-key for the server, --tls-ca for the CA that signs the clients' certificates); anyone who reaches the API can make VMs that read and write host files`,
    );
  spec.tcpAddress = tcp;
  spec.tls = { certPath: cert, keyPath: key, caPath: ca };
  return spec;
}

/** The checks that need the host (files, groups), as usage errors naming the flag. */
interface HostChecked {
  socketGid?: number;
  pathPolicy?: PathPolicy;
}

function checkHost(spec: ServeSpec): HostChecked {
  checkReadable(spec);
  const out: HostChecked = {};
  if (spec.group !== undefined) {
    const gid = groupId(spec.group);
    if (gid === undefined) throw new UsageError(`--group ${spec.group}: no such group on this host (see getent group)`);
    out.socketGid = gid;
  }
  if (spec.allowPaths.length) {
    try {
      out.pathPolicy = PathPolicy.under(spec.allowPaths);
    } catch (err) {
      if (isVesselError(err, 'INVALID_ARGUMENT')) throw new UsageError(`--allow-path: ${err.message}`);
      throw err;
    }
  }
  return out;
}

/** Fails early, with the flag's name, on a TLS file that cannot be read. */
function checkReadable(spec: ServeSpec): void {
  const files: Array<[string, string | undefined]> = [
    ['--tls-cert', spec.tls?.certPath],
    ['--tls-key', spec.tls?.keyPath],
    ['--tls-ca', spec.tls?.caPath],
  ];
  for (const [flag, file] of files) {
    if (file === undefined) continue;
    try {
      fs.accessSync(file, fs.constants.R_OK);
    } catch (err) {
      throw new UsageError(`${flag} ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
  }
}

export async function runServe(argv: string[], io: CliIo, newManager: NewManager): Promise<number> {
  let spec: ServeSpec;
  let host: HostChecked;
  try {
    spec = parseServeArgs(argv, io.cwd);
    host = spec.help ? {} : checkHost(spec);
  } catch (err) {
    return reportError(err, 'vessel serve', io.stderr);
  }
  if (spec.help) {
    io.stdout.write(SERVE_USAGE);
    return 0;
  }
  const logger = pino({ level: spec.debug ? 'debug' : 'info', base: { pid: process.pid } }, io.stderr);
  const daemon = new VesselDaemon({
    socketPath: spec.socketPath,
    tcpAddress: spec.tcpAddress,
    tls: spec.tls,
    ...host,
    logger,
    manager: newManager({ logger, liveRestore: spec.liveRestore }),
  });

  let onSignal: (s: HostSignal) => void = () => undefined;
  const handlers = STOP_SIGNALS.map((s) => [s, () => onSignal(s)] as const);
  for (const [s, h] of handlers) io.signals.on(s, h);
  try {
    // A signal before (or while) listening stops the daemon as well.
    const stopped = new Promise<number>((resolve) => {
      let received: HostSignal | undefined;
      onSignal = (s) => {
        if (received !== undefined) {
          logger.warn(
            { signal: s },
            spec.liveRestore
              ? 'second signal: exiting now; the VMs not shut down yet keep running for the next daemon'
              : 'second signal: exiting without waiting for the VMs to shut down',
          );
          fs.rmSync(daemon.socketPath, { force: true });
          resolve(128 + SIGNAL_NUMBERS[s]!);
          return;
        }
        received = s;
        logger.info({ signal: s, instances: daemon.registry.list().length }, 'stopping: no new calls; shutting every VM down');
        daemon.stop().then(
          () => resolve(0),
          (err: unknown) => {
            logger.error({ err: (err as Error).message }, 'stop failed');
            resolve(EXIT_VESSEL);
          },
        );
      };
    });
    try {
      await daemon.listen();
    } catch (err) {
      // (not when another daemon serves the socket: stop() would remove its socket)
      if (!isVesselError(err, 'ALREADY_EXISTS')) await daemon.stop().catch(() => undefined);
      io.stderr.write(`vessel serve: cannot listen: ${isVesselError(err) ? `${err.code}: ` : ''}${(err as Error).message}\n`);
      return isVesselError(err, 'INVALID_ARGUMENT') ? EXIT_USAGE : EXIT_VESSEL;
    }
    return await stopped;
  } finally {
    for (const [s, h] of handlers) io.signals.off(s, h);
  }
}
