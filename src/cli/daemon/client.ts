// The client side of `vessel serve` for the CLI: which socket (--socket, else the daemon's
// default $VESSEL_HOME/vessel.sock), a probe that tells "no daemon" apart from a failed
// call, and grpc-js stubs of vessel.vm.v1 loaded from the same proto the daemon serves.
import net from 'node:net';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { vmPackageDefinition } from '../../api/proto.js';
import { vesselHome } from '../../host/index.js';
import { DaemonUnreachable } from './errors.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
export interface DaemonClient {
  socketPath: string;
  manager: any;
  instance: any;
  close(): void;
}

export function socketPathOf(given: string | undefined, cwd: string): string {
  return given !== undefined ? path.resolve(cwd, given) : path.join(vesselHome(), 'vessel.sock');
}

/** Resolves once something accepts connections on the socket; else DaemonUnreachable with why. */
export function probeSocket(socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socketPath);
    s.once('connect', () => { s.destroy(); resolve(); });
    s.once('error', (err: NodeJS.ErrnoException) => {
      s.destroy();
      const reason = err.code === 'ENOENT' ? 'no socket there'
        : err.code === 'ECONNREFUSED' ? 'nothing listens on the socket (a daemon that was killed leaves it behind)'
          : err.code === 'EACCES' ? 'permission denied (the socket is private to the user running the daemon)'
            : err.message;
      reject(new DaemonUnreachable(socketPath, reason));
    });
  });
}

export async function connectDaemon(socketPath: string): Promise<DaemonClient> {
  await probeSocket(socketPath);
  const pkg = grpc.loadPackageDefinition(vmPackageDefinition()) as any;
  const address = `unix:${socketPath}`;
  const creds = grpc.credentials.createInsecure();
  const manager = new pkg.vessel.vm.v1.Manager(address, creds);
  // the same channel for both services
  const instance = new pkg.vessel.vm.v1.Instance(address, creds, { channelOverride: manager.getChannel() });
  return { socketPath, manager, instance, close: () => manager.close() };
}

/** A unary call as a promise; `signal` cancels it (it then rejects with CANCELLED). */
export function unaryCall<T = any>(client: any, method: string, request: Record<string, unknown>, signal?: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const call = client[method](request, (err: grpc.ServiceError | null, res: T) => {
      signal?.removeEventListener('abort', cancel);
      if (err) reject(err); else resolve(res);
    });
    const cancel = () => call.cancel();
    if (signal?.aborted) cancel(); else signal?.addEventListener('abort', cancel, { once: true });
  });
}
