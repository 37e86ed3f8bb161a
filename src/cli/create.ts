// Contract: `vessel create [--socket PATH] [--id ID] [--cpus N] [-m MiB] [-v HOST:GUEST[:ro]]...`
// makes a started instance on the daemon: CreateInstance, SetCPUAndMemory, one AddFS per -v
// (tags vol0, vol1, ...), Start; prints its id. If any step fails, or SIGINT / SIGTERM /
// SIGHUP arrives, the half-made instance is deleted again (exit 125, or 128+N).
import os from 'node:os';
import { DEFAULT_CPUS, DEFAULT_RAM_MIB } from '../vm/index.js';
import { connectDaemon, socketPathOf, unaryCall, type DaemonClient } from './daemon/client.js';
import { reportDaemonError } from './daemon/errors.js';
import { UsageError } from './errors.js';
import { parseFlags } from './flags.js';
import type { CliIo, HostSignal } from './io.js';
import { parseVolume, positiveInt, type VolumeSpec } from './run/args.js';

export const CREATE_USAGE = `Usage: vessel create [OPTIONS]

Creates an instance on the daemon (\`vessel serve\`), boots it and prints its id; then
\`vessel exec ID -- CMD\`, \`vessel logs ID\`, \`vessel stop ID\`, \`vessel rm ID\`.

Options:
      --socket PATH                the daemon's socket (default $VESSEL_HOME/vessel.sock)
      --id ID                      the instance id ([a-z0-9][a-z0-9_.-]*, default: generated)
      --cpus N                     virtual CPUs (default ${DEFAULT_CPUS})
  -m, --memory MiB                 guest memory in MiB (default ${DEFAULT_RAM_MIB})
  -v, --volume HOST:GUEST[:ro]     share a host directory over virtio-fs at GUEST
  -h, --help                       show this help
`;

const STOP: HostSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export interface CreateSpec {
  socket: string | undefined;
  id: string;
  cpus: number | undefined;
  memoryMiB: number | undefined;
  volumes: VolumeSpec[];
  help: boolean;
}

export function parseCreateArgs(argv: string[], cwd: string): CreateSpec {
  const f = parseFlags(argv, {
    socket: { value: true },
    id: { value: true },
    cpus: { value: true },
    memory: { short: 'm', value: true },
    volume: { short: 'v', value: true },
    help: { short: 'h' },
  });
  if (f.positionals.length || f.rest.length) throw new UsageError(`unexpected argument ${JSON.stringify([...f.positionals, ...f.rest][0])}`);
  const cpus = f.last('cpus');
  const memory = f.last('memory');
  const volumes = f.all('volume').map((v) => parseVolume(v, cwd));
  const guests = volumes.map((v) => v.guest);
  const dup = guests.find((g, i) => guests.indexOf(g) !== i);
  if (dup !== undefined) throw new UsageError(`two volumes are mounted at ${dup}`);
  return {
    socket: f.last('socket'),
    id: f.last('id') ?? '',
    cpus: cpus === undefined ? undefined : positiveInt('--cpus', cpus),
    memoryMiB: memory === undefined ? undefined : positiveInt('--memory', memory),
    volumes,
    help: f.has('help'),
  };
}

async function createStarted(client: DaemonClient, spec: CreateSpec, signal: AbortSignal): Promise<string> {
  const info = await unaryCall(client.manager, 'CreateInstance', { id: spec.id }, signal);
  const id: string = info.id;
  try {
    if (spec.cpus !== undefined || spec.memoryMiB !== undefined) {
      await unaryCall(
        client.instance,
        'SetCPUAndMemory',
        { instanceId: id, cpu: spec.cpus ?? DEFAULT_CPUS, ramMib: spec.memoryMiB ?? DEFAULT_RAM_MIB },
        signal,
      );
    }
    for (const [i, v] of spec.volumes.entries()) {
      await unaryCall(client.instance, 'AddFS', { instanceId: id, tag: `vol${i}`, hostPath: v.host, readOnly: v.readOnly, mountPoint: v.guest }, signal);
    }
    await unaryCall(client.instance, 'Start', { instanceId: id }, signal);
    return id;
  } catch (err) {
    // not a fresh signal: the delete must run even when the create was interrupted
    await unaryCall(client.manager, 'DeleteInstance', { instanceId: id }).catch(() => undefined);
    throw err;
  }
}

export async function runCreate(argv: string[], io: CliIo): Promise<number> {
  let client: DaemonClient | undefined;
  let spec: CreateSpec | undefined;
  const interrupted = new AbortController();
  let received: HostSignal | undefined;
  const handlers = STOP.map(
    (s) =>
      [
        s,
        () => {
          received ??= s;
          interrupted.abort();
        },
      ] as const,
  );
  for (const [s, h] of handlers) io.signals.on(s, h);
  try {
    spec = parseCreateArgs(argv, io.cwd);
    if (spec.help) {
      io.stdout.write(CREATE_USAGE);
      return 0;
    }
    client = await connectDaemon(socketPathOf(spec.socket, io.cwd));
    const id = await createStarted(client, spec, interrupted.signal);
    io.stdout.write(`${id}\n`);
    return 0;
  } catch (err) {
    if (received) return 128 + os.constants.signals[received];
    return reportDaemonError(err, 'vessel create', io.stderr, spec?.id || undefined);
  } finally {
    for (const [s, h] of handlers) io.signals.off(s, h);
    client?.close();
  }
}
