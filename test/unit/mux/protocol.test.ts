// Frame-level behaviour against a raw peer: what goes on the wire, and how violations end
// the session (GoAway(1) + MUX_PROTOCOL_ERROR) without exceptions.

import { afterEach, describe, expect, it } from 'vitest';
import { isVesselError } from '../../../src/errors/index.js';
import { MuxSession, type SessionOptions } from '../../../src/mux/index.js';
import { errorOf, memoryPair, RawPeer, readAll, sessionClosed, socketPair, type TransportPair } from './helpers.js';

const DATA = 0;
const WINDOW_UPDATE = 1;
const PING = 2;
const GO_AWAY = 3;
const SYN = 1;
const ACK = 2;
const FIN = 4;
const RST = 8;
const WINDOW = 256 * 1024;

let transports: TransportPair | undefined;
afterEach(async () => {
  await transports?.cleanup();
  transports = undefined;
});

async function setup(options: Partial<SessionOptions> = {}, kind: 'memory' | 'socket' = 'memory') {
  transports = kind === 'memory' ? memoryPair() : await socketPair();
  const session = new MuxSession(transports.a, { role: 'server', ...options });
  const peer = new RawPeer(transports.b); // plays the client (odd ids)
  return { session, peer, closed: sessionClosed(session) };
}

async function expectProtocolError(session: MuxSession, peer: RawPeer, closed: Promise<unknown>): Promise<void> {
  const goAway = await peer.waitFrame((f) => f.type === GO_AWAY);
  expect(goAway.length).toBe(1);
  expect(isVesselError(await closed, 'MUX_PROTOCOL_ERROR')).toBe(true);
  expect(session.closed).toBe(true);
  await peer.ended; // the transport is ended after the GoAway
}

describe('wire format', () => {
  it('open() sends WINDOW_UPDATE|SYN, accept() answers WINDOW_UPDATE|ACK (as Go yamux)', async () => {
    const { session, peer } = await setup();
    const out = await session.open();
    expect(await peer.waitFrame((f) => f.streamId === out.id)).toMatchObject({ type: WINDOW_UPDATE, flags: SYN, length: 0 });
    expect(out.id).toBe(2);

    peer.send(WINDOW_UPDATE, SYN, 1, 0);
    const inn = await session.accept();
    expect(inn.id).toBe(1);
    expect(await peer.waitFrame((f) => f.streamId === 1)).toMatchObject({ type: WINDOW_UPDATE, flags: ACK, length: 0 });
  });

  it('a larger maxWindow is announced in the SYN and then honoured', async () => {
    const { session, peer } = await setup({ maxWindow: 1024 * 1024 });
    const out = await session.open();
    expect(await peer.waitFrame((f) => f.streamId === out.id)).toMatchObject({ flags: SYN, length: 768 * 1024 });
    const body = Buffer.alloc(1024 * 1024, 9);
    peer.send(DATA, FIN, out.id, body.length, body);
    expect((await readAll(out)).equals(body)).toBe(true);
    expect(session.closed).toBe(false);
  });

  it('data carrying FIN delivers its payload before end; SYN may carry data', async () => {
    const { session, peer } = await setup();
    peer.send(DATA, SYN | FIN, 1, 5, Buffer.from('hello'));
    const inn = await session.accept();
    expect((await readAll(inn)).toString()).toBe('hello');
  });

  it('grants window back once half of it was consumed', async () => {
    const { session, peer } = await setup();
    peer.send(WINDOW_UPDATE, SYN, 1, 0);
    const inn = await session.accept();
    const half = Buffer.alloc(WINDOW / 2, 1);
    peer.send(DATA, 0, 1, half.length, half);
    inn.resume();
    const update = await peer.waitFrame((f) => f.type === WINDOW_UPDATE && f.streamId === 1 && f.flags === 0);
    expect(update.length).toBe(WINDOW / 2);
  });

  it('sends data frames no larger than the send window and resumes on window update', async () => {
    const { session, peer } = await setup();
    const out = await session.open();
    const payload = Buffer.alloc(WINDOW + 1000, 3);
    let written = false;
    out.write(payload, () => {
      written = true;
    });
    await peer.waitFrame((f) => f.type === DATA && f.streamId === out.id);
    const sent = (): number => peer.frames.filter((f) => f.type === DATA).reduce((n, f) => n + f.length, 0);
    await peer.waitFrame(() => sent() === WINDOW || sent() > WINDOW);
    expect(sent()).toBe(WINDOW);
    expect(written).toBe(false);
    peer.send(WINDOW_UPDATE, ACK, out.id, 1000);
    await new Promise<void>((resolve) => out.write(Buffer.alloc(0), () => resolve()));
    expect(sent()).toBe(WINDOW + 1000);
    expect(written).toBe(true);
  });

  it('late frames for a stream we already reset are ignored', async () => {
    const { session, peer } = await setup();
    peer.send(WINDOW_UPDATE, SYN, 1, 0);
    const inn = await session.accept();
    inn.destroy();
    await peer.waitFrame((f) => f.streamId === 1 && (f.flags & RST) !== 0);
    peer.send(DATA, 0, 1, 3, Buffer.from('abc'));
    peer.send(WINDOW_UPDATE, FIN, 1, 0);
    peer.send(PING, SYN, 0, 77);
    await peer.waitFrame((f) => f.type === PING && f.length === 77);
    expect(session.closed).toBe(false);
  });

  it('RST from the peer resets the stream with MUX_STREAM_RESET', async () => {
    const { session, peer } = await setup();
    const out = await session.open();
    peer.send(WINDOW_UPDATE, RST, out.id, 0);
    expect(isVesselError(await errorOf(out), 'MUX_STREAM_RESET')).toBe(true);
    expect(session.numStreams).toBe(0);
  });

  it('streamCloseTimeoutMs: RST after end() when the peer never sends FIN', async () => {
    const { session, peer } = await setup({ streamCloseTimeoutMs: 50 });
    const out = await session.open();
    out.end();
    await peer.waitFrame((f) => f.streamId === out.id && (f.flags & FIN) !== 0);
    await peer.waitFrame((f) => f.streamId === out.id && (f.flags & RST) !== 0);
    expect(session.numStreams).toBe(0);
  });

  it('GoAway(1) from the peer ends the session with MUX_PROTOCOL_ERROR', async () => {
    const { session, peer, closed } = await setup();
    const out = await session.open();
    peer.send(GO_AWAY, 0, 0, 1);
    expect(isVesselError(await closed, 'MUX_PROTOCOL_ERROR')).toBe(true);
    expect(isVesselError(await errorOf(out), 'MUX_PROTOCOL_ERROR')).toBe(true);
  });
});

describe('protocol violations → GoAway(1) and MUX_PROTOCOL_ERROR', () => {
  const cases: Array<[string, (peer: RawPeer) => void]> = [
    ['bad version', (p) => p.sendRaw(Buffer.from([1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]))],
    ['unknown type', (p) => p.sendRaw(Buffer.from([0, 9, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0]))],
    ['oversized data length', (p) => p.send(DATA, SYN, 1, WINDOW + 1)],
    [
      'data beyond the granted window',
      (p) => {
        const chunk = Buffer.alloc(200 * 1024);
        p.send(DATA, SYN, 1, chunk.length, chunk);
        p.send(DATA, 0, 1, chunk.length, chunk);
      },
    ],
    [
      'SYN reusing a live stream id',
      (p) => {
        p.send(WINDOW_UPDATE, SYN, 1, 0);
        p.send(WINDOW_UPDATE, SYN, 1, 0);
      },
    ],
    ['SYN with the wrong parity', (p) => p.send(WINDOW_UPDATE, SYN, 2, 0)],
    ['SYN for stream 0', (p) => p.send(DATA, SYN, 0, 0)],
    ['frame for a stream never opened', (p) => p.send(DATA, 0, 7, 3, Buffer.from('abc'))],
    ['frame for one of our ids not yet used', (p) => p.send(WINDOW_UPDATE, 0, 40, 10)],
    [
      'FIN twice',
      (p) => {
        p.send(WINDOW_UPDATE, SYN | FIN, 1, 0);
        p.send(WINDOW_UPDATE, FIN, 1, 0);
      },
    ],
    ['unknown GoAway code', (p) => p.send(GO_AWAY, 0, 0, 7)],
  ];

  it.each(cases)('%s', async (_name, misbehave) => {
    const { session, peer, closed } = await setup();
    misbehave(peer);
    await expectProtocolError(session, peer, closed);
  });

  it('a pending accept and open streams see MUX_PROTOCOL_ERROR', async () => {
    const { session, peer, closed } = await setup({}, 'socket');
    const out = await session.open();
    const accepted = session.accept().then(
      () => undefined,
      (err: unknown) => err,
    );
    peer.send(WINDOW_UPDATE, SYN, 4, 0);
    await expectProtocolError(session, peer, closed);
    expect(isVesselError(await accepted, 'MUX_PROTOCOL_ERROR')).toBe(true);
    expect(isVesselError(await errorOf(out), 'MUX_PROTOCOL_ERROR')).toBe(true);
  });

  it('random bytes never throw: the session stays up or ends with a MUX error', async () => {
    let seed = 4242;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let round = 0; round < 200; round++) {
      const pair = memoryPair();
      const session = new MuxSession(pair.a, { role: round % 2 ? 'client' : 'server' });
      let why: unknown = null;
      session.on('close', (err: unknown) => {
        why = err;
      });
      pair.b.on('data', () => {});
      pair.b.on('error', () => {});
      const buf = Buffer.alloc(rnd() % 600);
      // mostly plausible headers: small values, so frames get past the version check often
      for (let i = 0; i < buf.length; i++) buf[i] = rnd() % 3 === 0 ? rnd() % 16 : 0;
      for (let i = 0; i < buf.length; i += 1 + (rnd() % 40)) pair.b.write(buf.subarray(i, i + 1 + (rnd() % 40)));
      await new Promise((r) => setImmediate(r));
      if (session.closed) {
        expect(why === undefined || (why instanceof Error && (why as { code?: string }).code?.startsWith('MUX_'))).toBe(true);
      }
      session.destroy();
      await pair.cleanup();
    }
  });
});
