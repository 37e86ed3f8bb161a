// The shim's command line as containerd passes it (Go flag syntax: `-flag value`, also
// `--flag value` and `-flag=value`), then the action: start | delete | serve (our own: the
// long-lived server that `start` spawns).
import { VesselError } from '../errors/index.js';

export type ShimAction = 'start' | 'delete' | 'serve';

export interface ShimArgs {
  action: ShimAction;
  namespace: string;
  id: string;
  /** containerd's gRPC socket (-address). */
  address: string;
  publishBinary: string;
  /** -bundle (delete); otherwise the working directory. */
  bundle: string | undefined;
  debug: boolean;
  /** serve: the ttrpc socket to listen on. */
  socket: string | undefined;
}

const VALUE_FLAGS = new Set(['namespace', 'id', 'address', 'publish-binary', 'bundle', 'socket']);
const BOOL_FLAGS = new Set(['debug', 'v']);
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,75}$/;

export function parseShimArgs(argv: string[]): ShimArgs {
  const values: Record<string, string> = {};
  let debug = false;
  let action: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) {
      if (action !== undefined) throw new VesselError('INVALID_ARGUMENT', `unexpected argument ${JSON.stringify(a)}`);
      action = a;
      continue;
    }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    if (BOOL_FLAGS.has(name)) {
      debug = name === 'debug' ? (eq >= 0 ? body.slice(eq + 1) !== 'false' : true) : debug;
    } else if (VALUE_FLAGS.has(name)) {
      const v = eq >= 0 ? body.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new VesselError('INVALID_ARGUMENT', `flag -${name} needs a value`);
      values[name] = v;
    } else {
      throw new VesselError('INVALID_ARGUMENT', `unknown flag ${a}`);
    }
  }
  if (action !== 'start' && action !== 'delete' && action !== 'serve') {
    throw new VesselError('INVALID_ARGUMENT', `action must be start, delete or serve, not ${JSON.stringify(action ?? '')}`);
  }
  const namespace = values.namespace ?? '';
  const id = values.id ?? '';
  if (!ID_RE.test(namespace)) throw new VesselError('INVALID_ARGUMENT', `bad -namespace ${JSON.stringify(namespace)}`);
  if (!ID_RE.test(id)) throw new VesselError('INVALID_ARGUMENT', `bad -id ${JSON.stringify(id)}`);
  if (action === 'serve' && !values.socket) throw new VesselError('INVALID_ARGUMENT', 'serve needs -socket');
  return {
    action,
    namespace,
    id,
    address: values.address ?? '',
    publishBinary: values['publish-binary'] ?? '',
    bundle: values.bundle,
    debug,
    socket: values.socket,
  };
}

/** The flags to hand on to the server process `start` spawns. */
export function serveArgv(a: ShimArgs, socket: string): string[] {
  return [
    '-namespace',
    a.namespace,
    '-id',
    a.id,
    '-address',
    a.address,
    '-publish-binary',
    a.publishBinary,
    ...(a.debug ? ['-debug'] : []),
    '-socket',
    socket,
    'serve',
  ];
}
