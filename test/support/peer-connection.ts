// The host side of one interop connection: a yamux client session over a unix socket,
// its first stream as the ttrpc control plane, and the typed InteropTest stub on it.
import net from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { once } from 'node:events';
import { MuxSession } from '../../src/mux/index.js';
import { TtrpcClient, loadProtos } from '../../src/ttrpc/index.js';
import { interopProto } from './repo.js';
import { interopStub, type InteropStub } from './interop-client.js';
import { buildGoPeer, startGoServer, stopAllPeers, type GoServer, type GoServerOptions } from './go-peer.js';

export const interopRoot = loadProtos([interopProto]);

export interface PeerConnection {
  socket: net.Socket;
  session: MuxSession;
  client: TtrpcClient;
  svc: InteropStub;
  close(): Promise<void>;
}

export async function connectMuxSession(socketPath: string): Promise<{ session: MuxSession; socket: net.Socket }> {
  const socket = net.connect(socketPath);
  await once(socket, 'connect');
  return { session: new MuxSession(socket, { role: 'client' }), socket };
}

export async function connectPeer(socketPath: string): Promise<PeerConnection> {
  const { session, socket } = await connectMuxSession(socketPath);
  const client = new TtrpcClient(await session.open());
  return {
    socket,
    session,
    client,
    svc: interopStub(client, interopRoot),
    async close() {
      client.close();
      await session.close().catch(() => undefined);
    },
  };
}

export interface GoServerFixture {
  readonly server: GoServer;
  readonly session: MuxSession;
  readonly svc: InteropStub;
}

/** Registers beforeAll/afterAll that start a Go reference server and connect to it. */
export function useGoServerConnection(options: GoServerOptions = {}): GoServerFixture {
  const fixture = {} as { server: GoServer; peer: PeerConnection };
  beforeAll(async () => {
    await buildGoPeer();
    fixture.server = await startGoServer(options);
    fixture.peer = await connectPeer(fixture.server.socketPath);
  });
  afterAll(async () => {
    await fixture.peer?.close();
    await fixture.server?.stop();
    await stopAllPeers();
  });
  return {
    get server() {
      return fixture.server;
    },
    get session() {
      return fixture.peer.session;
    },
    get svc() {
      return fixture.peer.svc;
    },
  };
}
