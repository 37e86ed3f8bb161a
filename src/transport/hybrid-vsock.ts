// Host side of hybrid vsock, the unix-socket face of a guest's AF_VSOCK that Firecracker,
// Cloud Hypervisor and vhost-device-vsock (`uds-path=U`) serve. Host → guest port P: connect
// to U, write `CONNECT P\n`, read `OK <host port>\n`; from then on the socket carries the
// stream's bytes. A CONNECT the guest does not accept (its vsock driver is not up yet, or
// nothing listens on P yet) is dropped: EOF, EPIPE or ECONNRESET before the reply, so
// connectHybridVsock retries those (and a U that does not exist or refuses yet) until the
// deadline. Guest → host (CID 2) port P arrives as a unix connection on `U_P`, which
// listenHybridVsock serves.
import fs from 'node:fs';
import net from 'node:net';
import { VesselError } from '../errors/index.js';
import type { ConnectOptions } from './unix-socket.js';

/** The longest reply line accepted: `OK 4294967295\n` is 14 bytes. */
export const MAX_REPLY_BYTES = 64;
/** sun_path holds 108 bytes with the terminating NUL. */
const MAX_UNIX_PATH_BYTES = 107;
const MAX_RETRY_DELAY_MS = 50;

/** Failures of one attempt that mean "not yet": the backend or the guest is not ready. */
const RETRYABLE = new Set(['ENOENT', 'ECONNREFUSED', 'EPIPE', 'ECONNRESET']);

/** The backend closed the connection before replying: the guest refused or was not ready. */
class Dropped extends Error {}
/** The deadline passed while an attempt waited for its reply. */
class DeadlineInAttempt extends Error {}

export function hybridVsockListenPath(udsPath: string, port: number): string {
  return `${udsPath}_${port}`;
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 0xffffffff)
    throw new VesselError('INVALID_ARGUMENT', `vsock port ${port} is not an integer in 0..4294967295`);
}

function checkPath(p: string): void {
  if (Buffer.byteLength(p) > MAX_UNIX_PATH_BYTES)
    throw new VesselError('INVALID_ARGUMENT', `unix socket path ${p} is longer than ${MAX_UNIX_PATH_BYTES} bytes`);
}

/** Connects to guest vsock `port` through the hybrid vsock socket `udsPath`; resolves with a socket ready for the stream's bytes. */
export async function connectHybridVsock(udsPath: string, port: number, opts: ConnectOptions): Promise<net.Socket> {
  checkPort(port);
  checkPath(udsPath);
  const what = `${opts.what ?? 'guest'} vsock port ${port} (via ${udsPath})`;
  let delay = 1;
  let earlier: string | undefined; // why the previous attempt failed, for the deadline's message
  for (;;) {
    if (opts.signal?.aborted) throw new VesselError('UNAVAILABLE', `connect to ${what}: aborted`, { cause: opts.signal.reason });
    if (opts.alive && !opts.alive()) throw new VesselError('UNAVAILABLE', `connect to ${what}: the process serving it has exited`);
    let reason: string;
    let cause: unknown;
    try {
      return await attempt(udsPath, port, what, opts);
    } catch (err) {
      if (err instanceof DeadlineInAttempt) reason = err.message;
      else if (err instanceof VesselError) throw err;
      else if (err instanceof Dropped) reason = err.message;
      else {
        const code = (err as NodeJS.ErrnoException).code;
        if (!code || !RETRYABLE.has(code)) throw new VesselError('UNAVAILABLE', `connect to ${what}: ${(err as Error).message}`, { cause: err });
        reason = code;
      }
      cause = err;
    }
    const left = opts.deadline - Date.now();
    if (left <= 0) {
      const before = earlier && earlier !== reason ? `; the one before: ${earlier}` : '';
      throw new VesselError('UNAVAILABLE', `connect to ${what}: still not accepted at the deadline (last attempt: ${reason}${before})`, { cause });
    }
    earlier = reason;
    await new Promise((resolve) => setTimeout(resolve, Math.min(delay, left)));
    delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
  }
}

/**
 * One connect + CONNECT/OK exchange. Rejects with Dropped or an errno error for what is worth
 * a retry, DeadlineInAttempt at the deadline, and a VesselError for what is not worth one (a
 * reply that is not `OK <n>`, an abort).
 */
function attempt(udsPath: string, port: number, what: string, opts: ConnectOptions): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const socket = net.connect(udsPath);
    let reply = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new DeadlineInAttempt('no reply to CONNECT')), Math.max(0, opts.deadline - Date.now()));
    const onAbort = () => fail(new VesselError('UNAVAILABLE', `connect to ${what}: aborted`, { cause: opts.signal?.reason }));
    opts.signal?.addEventListener('abort', onAbort);
    const cleanup = () => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      socket.off('connect', onConnect);
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      socket.off('error', fail);
    };
    function fail(err: Error) {
      cleanup();
      socket.destroy();
      reject(err);
    }
    function onConnect() {
      socket.write(`CONNECT ${port}\n`);
    }
    function onEnd() {
      fail(
        new Dropped(reply.length ? `the connection closed after a partial reply ${JSON.stringify(reply.toString('latin1'))}` : 'dropped before a reply (EOF)'),
      );
    }
    function onReadable() {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) {
        reply = Buffer.concat([reply, chunk]);
        const nl = reply.indexOf(0x0a);
        if (nl < 0) {
          if (reply.length > MAX_REPLY_BYTES) {
            const shown = JSON.stringify(reply.subarray(0, MAX_REPLY_BYTES).toString('latin1'));
            return fail(
              new VesselError('VSOCK_PROTOCOL_ERROR', `connect to ${what}: no newline in the first ${MAX_REPLY_BYTES} bytes of the reply to CONNECT: ${shown}`),
            );
          }
          continue;
        }
        const line = reply.subarray(0, nl).toString('latin1');
        if (nl > MAX_REPLY_BYTES || !/^OK [0-9]{1,10}$/.test(line))
          return fail(
            new VesselError(
              'VSOCK_PROTOCOL_ERROR',
              `connect to ${what}: the reply to CONNECT was ${JSON.stringify(line.slice(0, MAX_REPLY_BYTES))}, not "OK <port>"`,
            ),
          );
        cleanup();
        // Bytes the guest sent right behind the reply belong to the stream.
        const rest = reply.subarray(nl + 1);
        if (rest.length) socket.unshift(rest);
        return resolve(socket);
      }
    }
    socket.once('connect', onConnect);
    socket.on('readable', onReadable);
    socket.once('end', onEnd);
    socket.once('error', fail);
  });
}

export interface HybridVsockListener {
  /** The unix socket guest connections to the host's `port` arrive on (`<uds>_<port>`). */
  readonly path: string;
  /** Stops accepting and removes the socket file; connections already accepted are the caller's. */
  close(): void;
}

/**
 * Serves guest-initiated connections to host (CID 2) `port`: each arrives as a unix
 * connection on `<udsPath>_<port>` and is handed to onConnection. A stale socket file left
 * there by an earlier run is replaced.
 */
export async function listenHybridVsock(udsPath: string, port: number, onConnection: (socket: net.Socket) => void): Promise<HybridVsockListener> {
  checkPort(port);
  const listenPath = hybridVsockListenPath(udsPath, port);
  checkPath(listenPath);
  const failed = (err: unknown) =>
    new VesselError('UNAVAILABLE', `listen for guest connections to vsock port ${port} on ${listenPath}: ${(err as Error).message}`, { cause: err });
  try {
    if (fs.lstatSync(listenPath).isSocket()) fs.unlinkSync(listenPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw failed(err);
  }
  const server = net.createServer(onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(failed(err)));
    server.listen(listenPath, () => resolve());
  });
  let closed = false;
  return {
    path: listenPath,
    close: () => {
      if (closed) return;
      closed = true;
      server.close();
      fs.rmSync(listenPath, { force: true });
    },
  };
}
