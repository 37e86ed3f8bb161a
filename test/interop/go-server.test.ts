// TypeScript client (src/mux + src/ttrpc) against the Go reference server
// (hashicorp/yamux + containerd/ttrpc in agent/cmd/vessel-testpeer).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { Code, TtrpcClient, encodeFrame, decodeResponse } from '../../src/ttrpc/index.js';
import { expectCode, interopStub, type InteropStub } from '../support/interop-client.js';
import { connectMuxSession, connectPeer, interopRoot, useGoServerConnection } from '../support/peer-connection.js';
import { buildGoPeer, startGoServer, stopAllPeers, type GoServer } from '../support/go-peer.js';
import { openRawStream } from '../support/raw-handshake.js';
import { crc32, drain, randomPayload, readExactly, writeAll } from '../support/stream-io.js';

const root = interopRoot;


interface TtrpcTransport {
  client: TtrpcClient;
  /** Another ttrpc connection to the same server (a raw `ttrpc:` stream, or a second socket). */
  extraConnection(name: string): Promise<Duplex>;
  close(): Promise<void>;
}

function describeTtrpcAgainstGo(title: string, ttrpcOnly: boolean, connect: (server: GoServer) => Promise<TtrpcTransport>): void {
  describe(title, () => {
    let server: GoServer;
    let transport: TtrpcTransport;
    let svc: InteropStub;

    beforeAll(async () => {
      await buildGoPeer();
      server = await startGoServer({ ttrpcOnly });
      transport = await connect(server);
      svc = interopStub(transport.client, root);
    });

    afterAll(async () => {
      await transport?.close();
      await server?.stop();
      await stopAllPeers();
    });

    it('unary Echo carries payload and message', async () => {
      const payload = randomPayload(1000);
      const resp = await svc.Echo({ payload, message: 'hello' });
      expect(Buffer.from(resp.payload).equals(payload)).toBe(true);
      expect(resp.message).toBe('hello');
    });

    it('metadata reaches the Go server exactly', async () => {
      const resp = await svc.Echo({ message: 'md' }, { metadata: { 'x-one': ['1'], 'x-two': ['b', 'a'] } });
      expect(resp.metadata).toEqual([
        { key: 'x-one', value: '1' },
        { key: 'x-two', value: 'a' },
        { key: 'x-two', value: 'b' },
      ]);
    });

    it('server streaming delivers every message in order, then the status', async () => {
      const seen: number[] = [];
      for await (const msg of svc.ServerStream({ count: 100, size: 1000 })) {
        expect(msg.seq).toBe(seen.length);
        const expected = Buffer.alloc(1000).map((_, j) => (msg.seq + j) % 251);
        expect(Buffer.from(msg.payload).equals(expected)).toBe(true);
        seen.push(msg.seq);
      }
      expect(seen.length).toBe(100);

      const got: number[] = [];
      const failing = (async () => {
        for await (const msg of svc.ServerStream({ count: 3, size: 10, failCode: Code.ABORTED, failMessage: 'stop here' })) got.push(msg.seq);
      })();
      await expectCode(failing, Code.ABORTED, 'stop here');
      expect(got).toEqual([0, 1, 2]);
    });

    it('client streaming: the Go server sums what we sent', async () => {
      const call = svc.ClientStream();
      let crc = 0;
      let bytes = 0;
      for (let i = 0; i < 100; i++) {
        const payload = randomPayload(1 + ((i * 7919) % 4096));
        crc = crc32(payload, crc);
        bytes += payload.length;
        await call.send({ payload });
      }
      await call.closeSend();
      const summary = await call.response;
      expect(summary.count).toBe(100);
      expect(Number(summary.bytes)).toBe(bytes);
      expect(summary.crc32 >>> 0).toBe(crc >>> 0);
    });

    it('bidi streaming: 100 round trips in lockstep', async () => {
      const call = svc.BidiStream();
      const it = call[Symbol.asyncIterator]();
      for (let i = 0; i < 100; i++) {
        const payload = randomPayload(100 + i);
        await call.send({ payload, message: `m${i}` });
        const r = await it.next();
        expect(r.done).toBe(false);
        expect(r.value.seq).toBe(i);
        expect(r.value.message).toBe(`m${i}`);
        expect(Buffer.from(r.value.payload).equals(payload)).toBe(true);
      }
      await call.closeSend();
      expect((await it.next()).done).toBe(true);
    });

    it('64 concurrent calls each get their own answer', async () => {
      const calls = Array.from({ length: 64 }, (_, i) => {
        const payload = randomPayload(64 + i * 13);
        // later calls finish first: answers arrive in completion order, not request order
        return svc.Echo({ payload, message: `c${i}`, sleepMs: (64 - i) % 8 * 5 }).then((r) => ({ r, payload, i }));
      });
      for (const { r, payload, i } of await Promise.all(calls)) {
        expect(r.message).toBe(`c${i}`);
        expect(Buffer.from(r.payload).equals(payload)).toBe(true);
      }
    });

    it('a deadline expires as DEADLINE_EXCEEDED, long before the handler would finish', async () => {
      const started = Date.now();
      await expectCode(svc.Echo({ sleepMs: 5000 }, { timeoutMs: 200 }), Code.DEADLINE_EXCEEDED);
      expect(Date.now() - started).toBeLessThan(4000);
      // the connection is still fine afterwards
      expect((await svc.Echo({ message: 'after' })).message).toBe('after');
    });

    it('a handler error arrives with its code and message', async () => {
      await expectCode(svc.Echo({ failCode: Code.NOT_FOUND, failMessage: 'no such thing' }), Code.NOT_FOUND, 'no such thing');
    });

    it('an oversize response from Go is RESOURCE_EXHAUSTED', async () => {
      await expectCode(svc.Echo({ responseSize: 5 * 1024 * 1024 }), Code.RESOURCE_EXHAUSTED);
    });

    it('an oversize request is answered RESOURCE_EXHAUSTED by Go, and the TS client refuses to send one', async () => {
      await expectCode(svc.Echo({ payload: Buffer.alloc(5 * 1024 * 1024) }), Code.RESOURCE_EXHAUSTED);
      // a hand-written 5 MiB request frame on a fresh ttrpc connection: Go must answer on stream 1
      const raw = await transport.extraConnection('oversize');
      const body = Buffer.alloc(5 * 1024 * 1024, 0x55);
      raw.write(encodeFrame(1, 1, 0, body));
      const header = await readExactly(raw, 10);
      expect(header.readUInt32BE(4)).toBe(1); // stream id
      expect(header[8]).toBe(2); // response
      const responseBody = await readExactly(raw, header.readUInt32BE(0));
      const response = decodeResponse(responseBody);
      expect(response.status?.code).toBe(Code.RESOURCE_EXHAUSTED);
      raw.destroy();
    });

  });
}

describeTtrpcAgainstGo('TypeScript ttrpc client → Go ttrpc server on a yamux stream', false, async (server) => {
  const peer = await connectPeer(server.socketPath);
  return { client: peer.client, extraConnection: (name) => openRawStream(peer.session, `ttrpc:${name}`), close: peer.close };
});

describeTtrpcAgainstGo('TypeScript ttrpc client → Go ttrpc server on a plain unix socket', true, async (server) => {
  const sockets: net.Socket[] = [];
  const dial = async () => {
    const socket = net.connect(server.socketPath);
    await once(socket, 'connect');
    sockets.push(socket);
    return socket;
  };
  const client = new TtrpcClient(await dial());
  return {
    client,
    extraConnection: () => dial(),
    async close() {
      client.close();
      for (const s of sockets) s.destroy();
    },
  };
});

describe('TypeScript yamux raw streams ↔ Go hashicorp/yamux', () => {
  const env = useGoServerConnection({ streamCloseTimeoutMs: 300 });

  it('8 parallel raw streams, 32 KiB to 32 MiB, CRC-checked end to end', async () => {
    const sizes = [32 * 1024, 100_000, 512 * 1024, 1 << 20, 3 << 20, 7 << 20, 16 << 20, 32 << 20];
    const started = Date.now();
    const results = await Promise.all(
      sizes.map(async (size, i) => {
        const payload = randomPayload(size);
        const stream = await openRawStream(env.session, `echo:p${i}`);
        const [, echoed] = await Promise.all([writeAll(stream, payload), drain(stream)]);
        return { size, sent: crc32(payload), echoed };
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    let mismatches = 0;
    for (const r of results) if (r.echoed.bytes !== r.size || r.echoed.crc32 !== r.sent) mismatches++;
    const total = sizes.reduce((a, b) => a + b, 0);
    console.log(JSON.stringify({ figure: 'raw-parallel-echo', direction: 'ts→go→ts', mib: total / 2 ** 20, seconds, mibps: total / 2 ** 20 / seconds, mismatches }));
    expect(mismatches).toBe(0);
    // and the Go side agrees on what it read
    for (let i = 0; i < sizes.length; i++) {
      const rr = await env.svc.RawResult({ name: `p${i}` }, { timeoutMs: 10_000 });
      expect(Number(rr.bytesRead)).toBe(sizes[i]);
      expect(rr.crc32 >>> 0).toBe(results[i]!.sent >>> 0);
      expect(rr.end).toBe('eof');
    }
  });

  it('a source stream from Go arrives intact (CRC trailer)', async () => {
    const stream = await openRawStream(env.session, 'source:s1:8388608');
    stream.end();
    const got = await drain(stream, 4);
    expect(got.bytes).toBe(8388608);
    expect(got.tail.readUInt32BE(0)).toBe(got.crc32 >>> 0);
  });

  it('FIN: after we half-close, the Go side still echoes everything, then ends', async () => {
    const stream = await openRawStream(env.session, 'echo:f1');
    const payload = randomPayload(1 << 20);
    const reading = drain(stream);
    await writeAll(stream, payload);
    const got = await reading;
    expect(got.bytes).toBe(payload.length);
    expect(got.crc32).toBe(crc32(payload));
    expect((await env.svc.RawResult({ name: 'f1' }, { timeoutMs: 5000 })).end).toBe('eof');
  });

  it('FIN from Go first: our readable ends while our writable still works', async () => {
    const stream = await openRawStream(env.session, 'close:c1');
    stream.resume();
    await once(stream, 'end');
    expect(stream.readableEnded).toBe(true);
    await writeAll(stream, Buffer.from('still writable after the peer FIN'));
    const rr = await env.svc.RawResult({ name: 'c1' }, { timeoutMs: 5000 });
    expect(Number(rr.bytesRead)).toBe('still writable after the peer FIN'.length);
    expect(rr.end).toBe('eof');
  });

  it('RST from us: destroy() resets the stream and Go reports a reset', async () => {
    const stream = await openRawStream(env.session, 'sink:r1');
    await writeAll(stream, randomPayload(4096), 4096, false);
    stream.destroy();
    const rr = await env.svc.RawResult({ name: 'r1' }, { timeoutMs: 5000 });
    expect(rr.end).toBe('reset');
  });

  it('RST from Go: a stream Go closed and we never FINed is reset after its close timeout', async () => {
    const stream = await openRawStream(env.session, 'close:r2');
    stream.resume();
    const err = await new Promise<Error>((resolve) => stream.once('error', resolve));
    expect((err as { code?: string }).code).toBe('MUX_STREAM_RESET');
    // pending writes on a reset stream fail instead of hanging
    await expect(writeAll(stream, Buffer.alloc(1024))).rejects.toThrow();
  });

  it('GoAway from Go: new streams are refused, open ones keep working', async () => {
    const { session: s2 } = await connectMuxSession(env.server.socketPath);
    try {
      const ctl = new TtrpcClient(await s2.open());
      const stub = interopStub(ctl, root);
      expect((await stub.Echo({ message: 'before' })).message).toBe('before');
      const live = await openRawStream(s2, 'echo:g1');
      // `goaway:` makes the Go env.session send GoAway, then accept this stream as an echo stream
      const last = await openRawStream(s2, 'goaway:g2');
      await expect(s2.open()).rejects.toMatchObject({ code: 'MUX_GO_AWAY' });
      const payload = randomPayload(100_000);
      const [, got] = await Promise.all([writeAll(live, payload), drain(live)]);
      expect(got.crc32).toBe(crc32(payload));
      const [, got2] = await Promise.all([writeAll(last, payload), drain(last)]);
      expect(got2.crc32).toBe(crc32(payload));
      expect((await stub.Echo({ message: 'after' })).message).toBe('after');
      ctl.close();
    } finally {
      await s2.close().catch(() => undefined);
    }
  });
});
