// The client side of `vessel serve` for the CLI: which socket (--socket, else the daemon's
// default $VESSEL_HOME/vessel.sock), a probe that tells "no daemon" apart from a failed
// call, and grpc-js stubs of vessel.vm.v1 loaded from the same proto the daemon serves,
// typed by the generated vm.v1 clients (src/gen vmv1).
import net from 'node:net';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { vmPackageDefinition } from '../../api/proto.js';
import type { vmv1, VmProtoGrpcType } from '../../gen/index.js';
import { vesselHome } from '../../host/index.js';
import { DaemonUnreachable } from './errors.js';

export interface DaemonClient {
  socketPath: string;
  manager: vmv1.ManagerClient;
  instance: vmv1.InstanceClient;
  close(): void;
}

export function socketPathOf(given: string | undefined, cwd: string): string {
  return given !== undefined ? path.resolve(cwd, given) : path.join(vesselHome(), 'vessel.sock');
}

/** Resolves once something accepts connections on the socket; else DaemonUnreachable with why. */
export function probeSocket(socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socketPath);
    s.once('connect', () => {
      s.destroy();
      resolve();
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      s.destroy();
      const reason =
        err.code === 'ENOENT'
          ? 'no socket there'
          : err.code === 'ECONNREFUSED'
            ? 'nothing listens on the socket (a daemon that was killed leaves it behind)'
            : err.code === 'EACCES'
              ? 'permission denied (the socket is private to the user running the daemon)'
              : err.message;
      reject(new DaemonUnreachable(socketPath, reason));
    });
  });
}

export async function connectDaemon(socketPath: string): Promise<DaemonClient> {
  await probeSocket(socketPath);
  // the generated description of what proto-loader builds from the same proto
  const pkg = grpc.loadPackageDefinition(vmPackageDefinition()) as unknown as VmProtoGrpcType;
  const address = `unix:${socketPath}`;
  const creds = grpc.credentials.createInsecure();
  const manager = new pkg.vessel.vm.v1.Manager(address, creds);
  // the same channel for both services
  const instance = new pkg.vessel.vm.v1.Instance(address, creds, { channelOverride: manager.getChannel() });
  return { socketPath, manager, instance, close: () => manager.close() };
}

/** The request and response of a generated client's unary method (its `(argument, callback)` form). */
type UnaryShape<F> = F extends (argument: infer Req, callback: grpc.requestCallback<infer Res>) => grpc.ClientUnaryCall ? { req: Req; res: Res } : never;

/** The unary methods of a generated client, by their proto names (CreateInstance, not createInstance). */
type UnaryMethod<C> = {
  [K in keyof C]: K extends Capitalize<K & string> ? ([UnaryShape<C[K]>] extends [never] ? never : K) : never;
}[keyof C];

/** A unary call as a promise; `signal` cancels it (it then rejects with CANCELLED). */
export function unaryCall<C extends grpc.Client, M extends UnaryMethod<C>>(
  client: C,
  method: M,
  request: UnaryShape<C[M]>['req'],
  signal?: AbortSignal,
): Promise<UnaryShape<C[M]>['res']> {
  type Shape = UnaryShape<C[M]>;
  // M names a unary method of C (UnaryMethod): its (argument, callback) form is Shape's
  const fn = client[method] as unknown as (this: C, argument: Shape['req'], callback: grpc.requestCallback<Shape['res']>) => grpc.ClientUnaryCall;
  return new Promise((resolve, reject) => {
    const call = fn.call(client, request, (err, res) => {
      signal?.removeEventListener('abort', cancel);
      if (err) reject(err);
      else resolve(res as Shape['res']);
    });
    const cancel = () => call.cancel();
    if (signal?.aborted) cancel();
    else signal?.addEventListener('abort', cancel, { once: true });
  });
}
