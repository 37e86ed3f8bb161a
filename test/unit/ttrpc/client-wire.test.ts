// The TypeScript client seen from raw frames: stream ids, flags per call kind,
// timeout/metadata on the wire, late and hostile responses.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  Code,
  Flags,
  MessageType,
  TtrpcClient,
  TtrpcError,
  decodeMessage,
  decodeRequest,
  encodeMessage,
  encodeResponse,
  type BidiStreamCall,
  type ClientStreamCall,
} from '../../../src/ttrpc/index.js';
import { EchoRequest, EchoResponse, InteropTest, SERVICE, connectPair } from './fixtures.js';
import { RawPeer } from './raw-peer.js';

const { REQUEST: REQ, RESPONSE: RESP, DATA } = MessageType;

describe('ttrpc client on the wire', () => {
  let client: TtrpcClient;
  let stub: Record<string, Function>;
  let peer: RawPeer;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    const pair = await connectPair('memory');
    client = new TtrpcClient(pair.a);
    stub = client.service(InteropTest);
    peer = new RawPeer(pair.b);
    cleanup = pair.cleanup;
  });
  afterEach(async () => {
    client.close();
    await cleanup();
  });

  it('uses odd increasing stream ids and Go flags for every call kind', async () => {
    const unary = stub.Echo!({ message: 'u' }, { timeoutMs: 5000, metadata: { k: ['a', 'b'] } });
    let f = await peer.next();
    expect([f.streamId, f.type, f.flags]).toEqual([1, REQ, 0]);
    const env = decodeRequest(f.payload);
    expect([env.service, env.method]).toEqual([SERVICE, 'Echo']);
    expect(env.timeoutNano).toBe(5000e6);
    expect(env.metadata).toEqual([
      { key: 'k', value: 'a' },
      { key: 'k', value: 'b' },
    ]);
    expect(decodeMessage<any>(EchoRequest, env.payload!).message).toBe('u');
    peer.send(1, RESP, 0, encodeResponse({ payload: encodeMessage(EchoResponse, { message: 'r' }) }));
    expect((await unary).message).toBe('r');

    const ss = stub.ServerStream!({ count: 1 }) as AsyncIterable<any>;
    f = await peer.next();
    expect([f.streamId, f.type, f.flags]).toEqual([3, REQ, Flags.REMOTE_CLOSED]);
    expect(decodeRequest(f.payload).payload).toBeDefined();
    peer.send(3, DATA, 0, encodeMessage(EchoResponse, { seq: 7 }));
    peer.send(3, DATA, Flags.REMOTE_CLOSED | Flags.NO_DATA);
    const got: number[] = [];
    for await (const m of ss) got.push(m.seq);
    expect(got).toEqual([7]);

    const cs = stub.ClientStream!() as ClientStreamCall<any, any>;
    f = await peer.next();
    expect([f.streamId, f.type, f.flags]).toEqual([5, REQ, Flags.REMOTE_OPEN]);
    expect(decodeRequest(f.payload).payload).toBeUndefined();
    await cs.send({ message: 'd' });
    f = await peer.next();
    expect([f.streamId, f.type, f.flags]).toEqual([5, DATA, 0]);
    await cs.closeSend();
    f = await peer.next();
    expect([f.streamId, f.type, f.flags, f.payload.length]).toEqual([5, DATA, Flags.REMOTE_CLOSED | Flags.NO_DATA, 0]);
    peer.send(5, RESP, 0, encodeResponse({ payload: encodeMessage(root().StreamSummary, { count: 1 }) }));
    expect((await cs.response).count).toBe(1);

    const bidi = stub.BidiStream!() as BidiStreamCall<any, any>;
    f = await peer.next();
    expect([f.streamId, f.type, f.flags]).toEqual([7, REQ, Flags.REMOTE_OPEN]);
    // a last message carried by Data[remote-closed] (with data) is delivered, then the end
    peer.send(7, DATA, Flags.REMOTE_CLOSED, encodeMessage(EchoResponse, { message: 'last' }));
    const msgs: string[] = [];
    for await (const m of bidi) msgs.push(m.message);
    expect(msgs).toEqual(['last']);
  });

  it('fails locally at the deadline, forgets the call and drops the late response', async () => {
    const p = stub.Echo!({}, { timeoutMs: 30 });
    const f = await peer.next();
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as TtrpcError).status).toBe(Code.DEADLINE_EXCEEDED);
    expect(client.pendingCalls).toBe(0);
    peer.send(f.streamId, RESP, 0, encodeResponse({ payload: encodeMessage(EchoResponse, { message: 'late' }) }));
    const q = stub.Echo!({});
    const g = await peer.next();
    expect(g.streamId).toBe(f.streamId + 2);
    peer.send(g.streamId, RESP, 0, encodeResponse({ payload: encodeMessage(EchoResponse, { message: 'fresh' }) }));
    expect((await q).message).toBe('fresh');
  });

  it('an oversized response frame fails only its call, the bytes are skipped', async () => {
    const a = stub.Echo!({});
    const b = stub.Echo!({});
    const fa = await peer.next();
    const fb = await peer.next();
    const header = Buffer.alloc(10);
    header.writeUInt32BE((4 << 20) + 1, 0);
    header.writeUInt32BE(fa.streamId, 4);
    header[8] = RESP;
    peer.conn.write(Buffer.concat([header, Buffer.alloc((4 << 20) + 1)]));
    peer.send(fb.streamId, RESP, 0, encodeResponse({ payload: encodeMessage(EchoResponse, { message: 'b' }) }));
    await expect(a).rejects.toMatchObject({ status: Code.RESOURCE_EXHAUSTED });
    expect((await b).message).toBe('b');
  });

  it('malformed responses fail the call with TTRPC_PROTOCOL_ERROR; unknown ids are ignored', async () => {
    const a = stub.Echo!({});
    const fa = await peer.next();
    peer.send(999, RESP, 0, Buffer.from([0xff]));
    peer.send(fa.streamId, RESP, 0, Buffer.from([0x0a, 0x7f]));
    await expect(a).rejects.toMatchObject({ code: 'TTRPC_PROTOCOL_ERROR' });
    const b = stub.Echo!({});
    const fb = await peer.next();
    peer.send(fb.streamId, DATA, 0, Buffer.from([])); // data on a unary call
    await expect(b).rejects.toMatchObject({ code: 'TTRPC_PROTOCOL_ERROR' });
    const c = stub.Echo!({});
    const fc = await peer.next();
    peer.send(fc.streamId, RESP, 0, encodeResponse({ status: { code: Code.ALREADY_EXISTS, message: 'dup', details: [Buffer.from([1, 2])] } }));
    const err = (await c.then(
      () => undefined,
      (e: unknown) => e,
    )) as TtrpcError;
    expect(err.status).toBe(Code.ALREADY_EXISTS);
    expect(err.message).toBe('dup');
    expect(err.details.map((d) => [...d])).toEqual([[1, 2]]);
  });

  it('the peer closing the connection fails pending calls and streams with TTRPC_CONNECTION_CLOSED', async () => {
    const a = stub.Echo!({});
    const s = stub.ServerStream!({}) as AsyncIterable<unknown>;
    await peer.next();
    await peer.next();
    peer.conn.end();
    await expect(a).rejects.toMatchObject({ code: 'TTRPC_CONNECTION_CLOSED' });
    await expect(s[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: 'TTRPC_CONNECTION_CLOSED' });
    await client.closed;
  });
});

function root() {
  return { StreamSummary: InteropTest.root.lookupType('vessel.test.v1.StreamSummary') };
}
