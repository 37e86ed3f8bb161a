// The TypeScript server seen from raw frames: flags per call kind as containerd/ttrpc
// v1.2 sets them, stream-id rules, oversized and malformed input.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  Code,
  Flags,
  MessageType,
  TtrpcServer,
  decodeResponse,
  encodeMessage,
  encodeRequest,
  decodeMessage,
  type ServerConnection,
} from '../../../src/ttrpc/index.js';
import { EchoRequest, EchoResponse, InteropTest, SERVICE, StreamRequest, connectPair, interopImpl } from './fixtures.js';
import { RawPeer } from './raw-peer.js';

const REQ = MessageType.REQUEST;
const RESP = MessageType.RESPONSE;
const DATA = MessageType.DATA;

function request(method: string, payload?: Uint8Array, timeoutNano = 0): Buffer {
  return encodeRequest({ service: SERVICE, method, payload, timeoutNano, metadata: [] });
}

describe('ttrpc server on the wire', () => {
  let server: TtrpcServer;
  let peer: RawPeer;
  let conn: ServerConnection;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    server = new TtrpcServer({ maxConcurrentCalls: 4 });
    server.register(InteropTest, interopImpl());
    const pair = await connectPair('memory');
    conn = server.serve(pair.a);
    peer = new RawPeer(pair.b);
    cleanup = pair.cleanup;
  });
  afterEach(async () => {
    await server.close();
    await cleanup();
  });

  it('unary: a request without flags is answered by one Response frame', async () => {
    peer.send(1, REQ, 0, request('Echo', encodeMessage(EchoRequest, { message: 'x' })));
    const f = await peer.next();
    expect([f.streamId, f.type, f.flags]).toEqual([1, RESP, 0]);
    const res = decodeResponse(f.payload);
    expect(res.status.code).toBe(Code.OK);
    expect(decodeMessage<any>(EchoResponse, res.payload).message).toBe('x');
  });

  it('server streaming: Data frames, then Data[remote-closed|no-data]', async () => {
    peer.send(1, REQ, Flags.REMOTE_CLOSED, request('ServerStream', encodeMessage(StreamRequest, { count: 2, size: 3 })));
    for (const seq of [0, 1]) {
      const f = await peer.next();
      expect([f.streamId, f.type, f.flags]).toEqual([1, DATA, 0]);
      expect(decodeMessage<any>(EchoResponse, f.payload).seq).toBe(seq);
    }
    const end = await peer.next();
    expect([end.streamId, end.type, end.flags, end.payload.length]).toEqual([1, DATA, Flags.REMOTE_CLOSED | Flags.NO_DATA, 0]);
  });

  it('server streaming: an error ends the stream with a Response carrying the status', async () => {
    peer.send(1, REQ, Flags.REMOTE_CLOSED, request('ServerStream', encodeMessage(StreamRequest, { count: 1, failCode: 9, failMessage: 'pre' })));
    expect((await peer.next()).type).toBe(DATA);
    const f = await peer.next();
    expect([f.type, f.flags]).toEqual([RESP, 0]);
    expect(decodeResponse(f.payload).status).toMatchObject({ code: 9, message: 'pre' });
  });

  it('client streaming: Request[remote-open], Data..., Data[remote-closed|no-data] → Response', async () => {
    peer.send(3, REQ, Flags.REMOTE_OPEN, request('ClientStream'));
    peer.send(3, DATA, 0, encodeMessage(EchoRequest, { payload: Buffer.from('ab') }));
    peer.send(3, DATA, 0, encodeMessage(EchoRequest, { payload: Buffer.from('c') }));
    peer.send(3, DATA, Flags.REMOTE_CLOSED | Flags.NO_DATA);
    const f = await peer.next();
    expect([f.streamId, f.type, f.flags]).toEqual([3, RESP, 0]);
    const res = decodeResponse(f.payload);
    expect(res.status.code).toBe(Code.OK);
    expect(decodeMessage(root().StreamSummary, res.payload)).toMatchObject({ count: 2, bytes: 3n });
  });

  it('bidi: replies as Data frames and ends with Data[remote-closed|no-data]', async () => {
    peer.send(1, REQ, Flags.REMOTE_OPEN, request('BidiStream'));
    peer.send(1, DATA, 0, encodeMessage(EchoRequest, { message: 'q' }));
    const f = await peer.next();
    expect([f.type, f.flags]).toEqual([DATA, 0]);
    expect(decodeMessage<any>(EchoResponse, f.payload).message).toBe('q');
    peer.send(1, DATA, Flags.REMOTE_CLOSED | Flags.NO_DATA);
    const end = await peer.next();
    expect([end.type, end.flags]).toEqual([DATA, Flags.REMOTE_CLOSED | Flags.NO_DATA]);
  });

  it('rejects even and re-used stream ids with INVALID_ARGUMENT on that id', async () => {
    peer.send(2, REQ, 0, request('Echo'));
    let f = await peer.next();
    expect(f.streamId).toBe(2);
    expect(decodeResponse(f.payload).status).toMatchObject({
      code: Code.INVALID_ARGUMENT,
      message: 'StreamID must be odd for client initiated streams',
    });
    peer.send(5, REQ, 0, request('Echo'));
    expect((await peer.next()).streamId).toBe(5);
    peer.send(3, REQ, 0, request('Echo'));
    f = await peer.next();
    expect(f.streamId).toBe(3);
    expect(decodeResponse(f.payload).status).toMatchObject({
      code: Code.INVALID_ARGUMENT,
      message: 'StreamID cannot be re-used and must increment',
    });
  });

  it('skips an oversized request (streamed past, not buffered) and answers RESOURCE_EXHAUSTED', async () => {
    const length = 64 << 20;
    const header = Buffer.alloc(10);
    header.writeUInt32BE(length, 0);
    header.writeUInt32BE(7, 4);
    header[8] = REQ;
    peer.conn.write(header);
    const chunk = Buffer.alloc(1 << 20);
    for (let i = 0; i < 64; i++) {
      if (!peer.conn.write(chunk)) await new Promise((r) => peer.conn.once('drain', r));
    }
    const f = await peer.next();
    expect(f.streamId).toBe(7);
    expect(decodeResponse(f.payload).status).toMatchObject({
      code: Code.RESOURCE_EXHAUSTED,
      message: `message length ${length} exceed maximum message size of ${4 << 20}`,
    });
    peer.send(9, REQ, 0, request('Echo', encodeMessage(EchoRequest, { message: 'still here' })));
    const g = await peer.next();
    expect(decodeMessage<any>(EchoResponse, decodeResponse(g.payload).payload).message).toBe('still here');
  });

  it('answers a malformed envelope with INVALID_ARGUMENT and a malformed payload with INTERNAL', async () => {
    peer.send(1, REQ, 0, Buffer.from([0x0a, 0x7f, 0x01]));
    let f = await peer.next();
    expect(decodeResponse(f.payload).status.code).toBe(Code.INVALID_ARGUMENT);
    expect(decodeResponse(f.payload).status.message).toMatch(/^unmarshal request error/);
    peer.send(3, REQ, 0, request('Echo', Buffer.from([0x0a, 0x7f])));
    f = await peer.next();
    expect(decodeResponse(f.payload).status.code).toBe(Code.INTERNAL);
    expect(decodeResponse(f.payload).status.message).toMatch(/^ttrpc: error unmarshalling payload/);
  });

  it('drops data for unknown streams and ignores unknown frame types', async () => {
    peer.send(11, DATA, 0, Buffer.from([1, 2, 3]));
    peer.send(13, 9, 0, Buffer.from([1]));
    peer.send(15, REQ, 0, request('Echo', encodeMessage(EchoRequest, { message: 'after' })));
    const f = await peer.next();
    expect(f.streamId).toBe(15);
    expect(peer.pending).toBe(0);
  });

  it('honours timeout_nano: DEADLINE_EXCEEDED when the handler is still running', async () => {
    peer.send(1, REQ, 0, request('Echo', encodeMessage(EchoRequest, { sleepMs: 10_000 }), 50e6));
    const f = await peer.next();
    expect(decodeResponse(f.payload).status.code).toBe(Code.DEADLINE_EXCEEDED);
  });

  it('a flood beyond maxConcurrentCalls is refused with RESOURCE_EXHAUSTED, not queued', async () => {
    const slow = encodeMessage(EchoRequest, { sleepMs: 10_000 });
    for (let id = 1; id <= 19; id += 2) peer.send(id, REQ, 0, request('Echo', slow));
    const refused: number[] = [];
    for (let i = 0; i < 6; i++) {
      const f = await peer.next();
      expect(decodeResponse(f.payload).status.code).toBe(Code.RESOURCE_EXHAUSTED);
      refused.push(f.streamId);
    }
    expect(refused).toEqual([9, 11, 13, 15, 17, 19]);
    expect(conn.activeCalls).toBe(4);
  });

  it('garbage closes nothing it should not: the server answers or ignores, never throws', async () => {
    // a header-only stream of random frames followed by a valid request
    const junk = Buffer.alloc(4096);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919) % 256;
    junk.writeUInt32BE(100, 0); // first frame: 100-byte payload of junk
    peer.conn.write(junk.subarray(0, 110));
    peer.send(1001, REQ, 0, request('Echo', encodeMessage(EchoRequest, { message: 'ok' })));
    let f = await peer.next();
    while (f.streamId !== 1001) f = await peer.next();
    expect(decodeMessage<any>(EchoResponse, decodeResponse(f.payload).payload).message).toBe('ok');
  });
});

function root() {
  return { StreamSummary: InteropTest.root.lookupType('vessel.test.v1.StreamSummary') };
}
