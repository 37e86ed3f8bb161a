import { afterEach, describe, expect, it } from 'vitest';
import { isVesselError } from '../../../src/errors/index.js';
import { MuxSession } from '../../../src/mux/index.js';
import { errorOf, memoryPair, RawPeer, readAll, sessionClosed, sessionPair, type SessionPair, type TransportPair } from './helpers.js';

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

async function waitUntil(cond: () => boolean, what: string, guardMs = 10_000): Promise<void> {
  const deadline = Date.now() + guardMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

describe.each(['socket', 'memory'] as const)('mux session lifecycle over %s transport', (kind) => {
  let pair: SessionPair;
  afterEach(async () => {
    await pair.cleanup();
  });

  it('GoAway: new opens are rejected, inbound SYNs are refused, existing streams continue', async () => {
    pair = await sessionPair(kind);
    const [out, inn] = await Promise.all([pair.client.open(), pair.server.accept()]);
    pair.server.goAway();
    await pair.server.ping(); // the GoAway has been processed by the client
    expect(isVesselError(await rejection(pair.client.open()), 'MUX_GO_AWAY')).toBe(true);

    // the existing stream still works both ways
    out.end('after goaway');
    expect((await readAll(inn)).toString()).toBe('after goaway');
    inn.end('reply');
    expect((await readAll(out)).toString()).toBe('reply');

    expect(pair.client.closed).toBe(false);
    expect(pair.server.closed).toBe(false);
  });

  it('a SYN arriving after our GoAway is answered with RST', async () => {
    pair = await sessionPair(kind);
    pair.client.goAway();
    await pair.client.ping(); // the server has seen the GoAway
    expect(isVesselError(await rejection(pair.server.open()), 'MUX_GO_AWAY')).toBe(true);
  });

  it('close(): streams end with MUX_SESSION_CLOSED on both sides, pending calls reject', async () => {
    pair = await sessionPair(kind);
    const [out, inn] = await Promise.all([pair.client.open(), pair.server.accept()]);
    const pendingAccept = rejection(pair.client.accept());
    const serverClosed = sessionClosed(pair.server);
    const clientClosed = sessionClosed(pair.client);
    const pendingWrite = new Promise<unknown>((resolve) => out.write(Buffer.alloc(1024 * 1024), (err) => resolve(err)));

    await pair.client.close();
    expect(pair.client.closed).toBe(true);
    expect(await clientClosed).toBeUndefined();
    expect(isVesselError(await errorOf(out), 'MUX_SESSION_CLOSED')).toBe(true);
    expect(isVesselError(await pendingWrite, 'MUX_SESSION_CLOSED')).toBe(true);
    expect(isVesselError(await pendingAccept, 'MUX_SESSION_CLOSED')).toBe(true);
    expect(isVesselError(await rejection(pair.client.open()), 'MUX_SESSION_CLOSED')).toBe(true);
    expect(isVesselError(await rejection(pair.client.ping()), 'MUX_SESSION_CLOSED')).toBe(true);

    // the server saw GoAway(normal) then EOF
    const why = await serverClosed;
    expect(isVesselError(why, 'MUX_SESSION_CLOSED')).toBe(true);
    expect(isVesselError(await errorOf(inn), 'MUX_SESSION_CLOSED')).toBe(true);
    expect(isVesselError(await rejection(pair.server.accept()), 'MUX_SESSION_CLOSED')).toBe(true);
  });

  it('transport destroyed: streams end with MUX_TRANSPORT_ERROR and nothing hangs', async () => {
    pair = await sessionPair(kind);
    const [out, inn] = await Promise.all([pair.client.open(), pair.server.accept()]);
    const pendingRead = rejection(readAll(inn));
    const pendingAccept = rejection(pair.server.accept());
    const serverClosed = sessionClosed(pair.server);
    pair.transports.a.destroy();
    const why = await serverClosed;
    expect(isVesselError(why, 'MUX_TRANSPORT_ERROR')).toBe(true);
    expect(isVesselError(await pendingRead, 'MUX_TRANSPORT_ERROR')).toBe(true);
    expect(isVesselError(await pendingAccept, 'MUX_TRANSPORT_ERROR')).toBe(true);
    expect(isVesselError(await errorOf(out), 'MUX_TRANSPORT_ERROR')).toBe(true);
    expect(pair.server.numStreams).toBe(0);
  });

  it('maxStreams: open() beyond the limit rejects with MUX_STREAM_LIMIT', async () => {
    pair = await sessionPair(kind, { maxStreams: 2 });
    const [a] = await Promise.all([pair.client.open(), pair.server.accept()]);
    const [b] = await Promise.all([pair.client.open(), pair.server.accept()]);
    expect(isVesselError(await rejection(pair.client.open()), 'MUX_STREAM_LIMIT')).toBe(true);
    expect(a.destroyed || b.destroyed).toBe(false);
    // releasing a stream frees a slot
    a.destroy();
    await waitUntil(() => pair.client.numStreams === 1 && pair.server.numStreams === 1, 'release');
    const [c, d] = await Promise.all([pair.client.open(), pair.server.accept()]);
    c.end('ok');
    expect((await readAll(d)).toString()).toBe('ok');
  });

  it('maxStreams: an inbound SYN over the limit is answered with RST', async () => {
    pair = await sessionPair(kind, {}, { maxStreams: 1 });
    await Promise.all([pair.client.open(), pair.server.accept()]);
    const refused = await pair.client.open();
    expect(isVesselError(await errorOf(refused), 'MUX_STREAM_RESET')).toBe(true);
    expect(pair.server.numStreams).toBe(1);
    expect(pair.client.numStreams).toBe(1);
  });

  it('acceptBacklog: streams beyond the backlog are reset', async () => {
    pair = await sessionPair(kind, {}, { acceptBacklog: 2 });
    const s1 = await pair.client.open();
    const s2 = await pair.client.open();
    const s3 = await pair.client.open();
    expect(isVesselError(await errorOf(s3), 'MUX_STREAM_RESET')).toBe(true);
    expect(s1.destroyed || s2.destroyed).toBe(false);
    const a1 = await pair.server.accept();
    const a2 = await pair.server.accept();
    expect([a1.id, a2.id]).toEqual([s1.id, s2.id]);
  });

  it('ping measures a round trip', async () => {
    pair = await sessionPair(kind);
    const rtt = await pair.client.ping();
    expect(rtt).toBeGreaterThanOrEqual(0);
    expect(rtt).toBeLessThan(10_000);
    expect(await pair.server.ping()).toBeGreaterThanOrEqual(0);
  });
});

describe('keepalive', () => {
  let transports: TransportPair;
  afterEach(async () => {
    await transports.cleanup();
  });

  it('ends the session with MUX_KEEPALIVE_TIMEOUT when the peer never answers pings', async () => {
    transports = memoryPair();
    const peer = new RawPeer(transports.b); // reads frames but never answers
    const session = new MuxSession(transports.a, { role: 'client', keepaliveIntervalMs: 20, keepaliveTimeoutMs: 100 });
    const stream = await session.open();
    const closed = sessionClosed(session);
    await peer.waitFrame((f) => f.type === 2 && (f.flags & 1) === 1);
    const why = await closed;
    expect(isVesselError(why, 'MUX_KEEPALIVE_TIMEOUT')).toBe(true);
    expect(isVesselError(await errorOf(stream), 'MUX_KEEPALIVE_TIMEOUT')).toBe(true);
    expect(session.closed).toBe(true);
  });

  it('keeps the session alive while the peer answers', async () => {
    transports = memoryPair();
    const client = new MuxSession(transports.a, { role: 'client', keepaliveIntervalMs: 10, keepaliveTimeoutMs: 200 });
    const peer = new RawPeer(transports.b);
    // answer three keepalive pings by hand, checking the opaque value is echoed
    for (let i = 0; i < 3; i++) {
      const ping = await peer.waitFrame((f) => f.type === 2 && f.flags === 1 && f.length === i);
      peer.send(2, 2, 0, ping.length);
    }
    expect(client.closed).toBe(false);
    client.destroy();
  });

  it('answers a ping SYN with ACK and the same opaque value', async () => {
    transports = memoryPair();
    const session = new MuxSession(transports.a, { role: 'server' });
    const peer = new RawPeer(transports.b);
    peer.send(2, 1, 0, 0xdeadbeef);
    const pong = await peer.waitFrame((f) => f.type === 2);
    expect(pong).toMatchObject({ flags: 2, streamId: 0, length: 0xdeadbeef });
    session.destroy();
  });
});
