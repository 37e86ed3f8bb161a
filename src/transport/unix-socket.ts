// connectUnixSocket: connect to a unix socket a child process is about to serve.
import net from 'node:net';
import { once } from 'node:events';
import { VesselError } from '../errors/index.js';

export interface ConnectOptions {
  /** Epoch ms after which the attempt fails. */
  deadline: number;
  /** False once the serving process is gone: stop retrying at once. */
  alive?: () => boolean;
  signal?: AbortSignal;
  /** For error messages, e.g. "the agent port". */
  what?: string;
}

const RETRYABLE = new Set(['ENOENT', 'ECONNREFUSED']);

export async function connectUnixSocket(socketPath: string, opts: ConnectOptions): Promise<net.Socket> {
  const what = opts.what ?? socketPath;
  let delay = 1;
  for (;;) {
    if (opts.signal?.aborted) throw new VesselError('UNAVAILABLE', `connect to ${what}: aborted`, { cause: opts.signal.reason });
    if (opts.alive && !opts.alive()) throw new VesselError('UNAVAILABLE', `connect to ${what}: the process serving it has exited`);
    const socket = net.connect(socketPath);
    try {
      await once(socket, 'connect');
      return socket;
    } catch (err) {
      socket.destroy();
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (!RETRYABLE.has(code)) throw new VesselError('UNAVAILABLE', `connect to ${what}: ${(err as Error).message}`, { cause: err });
      if (Date.now() >= opts.deadline) throw new VesselError('UNAVAILABLE', `connect to ${what}: still ${code} at the deadline`, { cause: err });
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 20);
  }
}
