// Node net.Socket -> libp2p MultiaddrConnection (a MessageStream), so that
// @chainsafe/libp2p-yamux can run over a plain AF_UNIX stream socket in the benchmark.
//
// libp2p ships such an adapter only inside @libp2p/tcp (src/socket-to-conn.ts,
// `toMultiaddrConnection`), and that package's exports map exposes only `tcp()`, so it cannot
// be imported. This is the same adapter cut down to what a muxer needs: bytes in (onData),
// bytes out with backpressure (sendData's canSendMore + the socket's 'drain'), pause/resume,
// close and reset. No inactivity timeout (the Go side has none either).
import { logger } from '@libp2p/logger';
import { AbstractMultiaddrConnection } from '@libp2p/utils';
import { multiaddr } from '@multiformats/multiaddr';
import type { SendResult } from '@libp2p/utils';
import type { Socket } from 'node:net';

type Direction = 'inbound' | 'outbound';
type SendDataInput = Parameters<AbstractMultiaddrConnection['sendData']>[0];

export class SocketMultiaddrConnection extends AbstractMultiaddrConnection {
  readonly #socket: Socket;

  constructor(socket: Socket, socketPath: string, direction: Direction) {
    super({
      remoteAddr: multiaddr(`/unix/${encodeURIComponent(socketPath)}`),
      direction,
      log: logger(`vessel:bench:libp2p-socket:${direction}`),
    });
    this.#socket = socket;
    socket.on('data', (buf: Buffer) => this.onData(buf));
    socket.on('error', (err) => this.abort(err));
    // allowHalfOpen is false on both ends in the benchmark: 'end' is followed by 'close'.
    socket.once('end', () => this.onTransportClosed());
    socket.once('close', (hadError) => {
      if (hadError) this.abort(new Error('socket closed with a transmission error'));
      else this.onTransportClosed();
    });
    socket.on('drain', () => this.safeDispatchEvent('drain'));
  }

  sendData(data: SendDataInput): SendResult {
    let sentBytes = 0;
    let canSendMore = true;
    for (const buf of data) {
      sentBytes += buf.byteLength;
      canSendMore = this.#socket.write(buf);
      if (!canSendMore) break;
    }
    return { sentBytes, canSendMore };
  }

  async sendClose(): Promise<void> {
    if (this.#socket.destroyed) return;
    await new Promise<void>((resolve) => {
      this.#socket.once('close', () => resolve());
      this.#socket.destroySoon();
    });
  }

  sendReset(): void {
    // No RST on AF_UNIX: the peer sees EOF.
    this.#socket.destroy();
  }

  sendPause(): void {
    this.#socket.pause();
  }

  sendResume(): void {
    this.#socket.resume();
  }
}

/** Wrap a connected socket. `direction` decides the yamux role: 'outbound' is the client. */
export function socketToMultiaddrConnection(socket: Socket, socketPath: string, direction: Direction): SocketMultiaddrConnection {
  return new SocketMultiaddrConnection(socket, socketPath, direction);
}
