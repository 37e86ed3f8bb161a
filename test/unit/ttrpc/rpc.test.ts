// TypeScript client ↔ TypeScript server, over a memory Duplex pair and a unix socket.
import { codeForStatus } from '../../../src/errors/index.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isVesselError } from '../../../src/errors/index.js';
import { Code, TtrpcError, type ClientStreamCall, type BidiStreamCall } from '../../../src/ttrpc/index.js';
import zlib from 'node:zlib';
import { EchoRequest, EchoResponse, SERVICE, harness, patterned, until, type Harness, type TransportKind } from './fixtures.js';

async function expectStatus(p: Promise<unknown>, code: Code, message?: string | RegExp): Promise<TtrpcError> {
  const err = await p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TtrpcError);
  const te = err as TtrpcError;
  expect(Code[te.status]).toBe(Code[code]);
  expect(te.code).toBe(codeForStatus(code)); // the generic vessel code of the same name (UNKNOWN outside google.rpc.Code)
  if (message !== undefined) expect(te.message).toMatch(message);
  return te;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const m of it) out.push(m);
  return out;
}

describe.each<TransportKind>(['memory', 'unix'])('ttrpc over %s', (kind) => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness(kind);
  });
  afterEach(async () => {
    await h.cleanup();
  });

  it('unary echo with bytes, strings and defaults', async () => {
    const resp = await h.stub.Echo!({ payload: Buffer.from('hello'), message: 'hi' });
    expect(Buffer.from(resp.payload).toString()).toBe('hello');
    expect(resp.message).toBe('hi');
    expect(resp.seq).toBe(0);
    expect(resp.metadata).toEqual([]);
    const big = await h.client.unary<any, any>(`/${SERVICE}/Echo`, EchoRequest, EchoResponse, { responseSize: 100_000 });
    expect(Buffer.compare(big.payload, patterned(100_000, 0))).toBe(0);
  });

  it('int64 fields arrive as bigint and accept number or bigint', async () => {
    await h.stub.Echo!({ sleepMs: 1n });
    await h.stub.Echo!({ sleepMs: 1 });
    expect(h.observed.contexts).toHaveLength(2);
  });

  it('carries metadata to the server, repeated keys included', async () => {
    const resp = await h.stub.Echo!({}, { metadata: { 'x-b': ['2', '1'], 'x-a': ['z'] } });
    expect(resp.metadata).toEqual([
      { key: 'x-a', value: 'z' },
      { key: 'x-b', value: '1' },
      { key: 'x-b', value: '2' },
    ]);
    expect(h.observed.contexts[0]!.method).toBe(`/${SERVICE}/Echo`);
    expect(h.observed.contexts[0]!.metadata['x-b']).toEqual(['2', '1']);
  });

  it('returns handler status codes and messages', async () => {
    await expectStatus(h.stub.Echo!({ failCode: Code.NOT_FOUND, failMessage: 'no such thing' }), Code.NOT_FOUND, 'no such thing');
    await expectStatus(h.stub.Echo!({ failCode: 77, failMessage: 'odd code' }), 77 as Code, 'odd code');
  });

  it('answers UNIMPLEMENTED for unknown services and unimplemented methods', async () => {
    await expectStatus(h.client.unary('/nope.Svc/Echo', EchoRequest, EchoResponse, {}), Code.UNIMPLEMENTED, 'service nope.Svc');
    await expectStatus(h.client.unary(`/${SERVICE}/Missing`, EchoRequest, EchoResponse, {}), Code.UNIMPLEMENTED, 'method Missing');
    await expectStatus(h.stub.Release!({ name: 'x' }), Code.UNIMPLEMENTED, 'method Release');
  });

  it('answers concurrent calls in completion order', async () => {
    const order: string[] = [];
    const slow = h.stub.Echo!({ message: 'slow', sleepMs: 300 }).then((r: any) => order.push(r.message));
    await until(() => h.observed.contexts.length === 1);
    const fast = h.stub.Echo!({ message: 'fast' }).then((r: any) => order.push(r.message));
    await Promise.all([slow, fast]);
    expect(order).toEqual(['fast', 'slow']);
  });

  it('enforces deadlines on both sides', async () => {
    const started = Date.now();
    await expectStatus(h.stub.Echo!({ sleepMs: 10_000 }, { timeoutMs: 100 }), Code.DEADLINE_EXCEEDED);
    expect(Date.now() - started).toBeLessThan(5000);
    const ctx = h.observed.contexts[0]!;
    expect(ctx.deadline).toBeGreaterThan(started);
    // the server aborts the handler's signal at the deadline
    await until(() => h.observed.aborted.length === 1);
    expect(h.observed.aborted[0]).toBeInstanceOf(TtrpcError);
    expect((h.observed.aborted[0] as TtrpcError).status).toBe(Code.DEADLINE_EXCEEDED);
    expect(h.client.pendingCalls).toBe(0);
    // the connection still works
    expect((await h.stub.Echo!({ message: 'after' })).message).toBe('after');
  });

  it('cancels locally on an abort signal', async () => {
    const ac = new AbortController();
    const p = h.stub.Echo!({ sleepMs: 300 }, { signal: ac.signal });
    await until(() => h.observed.contexts.length === 1);
    ac.abort();
    await expectStatus(p, Code.CANCELLED);
    expect(h.client.pendingCalls).toBe(0);
    const already = new AbortController();
    already.abort();
    await expectStatus(h.stub.Echo!({}, { signal: already.signal }), Code.CANCELLED);
  });

  it('refuses to send an oversized request (RESOURCE_EXHAUSTED, locally)', async () => {
    await expectStatus(h.stub.Echo!({ payload: Buffer.alloc(4 << 20) }), Code.RESOURCE_EXHAUSTED, /exceed maximum message size/);
    expect(h.observed.contexts).toHaveLength(0);
    expect((await h.stub.Echo!({ message: 'ok' })).message).toBe('ok');
  });

  it('replaces an oversized response by RESOURCE_EXHAUSTED', async () => {
    await expectStatus(h.stub.Echo!({ responseSize: (4 << 20) + 1 }), Code.RESOURCE_EXHAUSTED, /exceed maximum message size/);
    expect((await h.stub.Echo!({ message: 'ok' })).message).toBe('ok');
  });

  it('server streaming delivers every message in order, then ends', async () => {
    const msgs = await collect<any>(h.stub.ServerStream!({ count: 50, size: 1000 }));
    expect(msgs.map((m) => m.seq)).toEqual([...Array(50).keys()]);
    for (const m of msgs) expect(Buffer.compare(m.payload, patterned(1000, m.seq))).toBe(0);
  });

  it('server streaming surfaces a final error status from the iterator after the messages', async () => {
    const seen: number[] = [];
    const err = await (async () => {
      for await (const m of h.stub.ServerStream!({ count: 3, size: 1, failCode: Code.ABORTED, failMessage: 'stop' })) {
        seen.push((m as any).seq);
      }
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(seen).toEqual([0, 1, 2]);
    expect(err).toBeInstanceOf(TtrpcError);
    expect((err as TtrpcError).status).toBe(Code.ABORTED);
    expect((err as TtrpcError).message).toBe('stop');
  });

  it('server streaming with many small messages keeps up with backpressure', async () => {
    let n = 0;
    for await (const m of h.stub.ServerStream!({ count: 5000, size: 10 })) {
      expect((m as any).seq).toBe(n++);
    }
    expect(n).toBe(5000);
  });

  it('client streaming sends messages and gets the summary', async () => {
    const call = h.stub.ClientStream!() as ClientStreamCall<any, any>;
    let crc = 0;
    let bytes = 0;
    for (let i = 0; i < 200; i++) {
      const payload = patterned(1 + i * 10, i);
      crc = zlib.crc32(payload, crc);
      bytes += payload.length;
      await call.send({ payload });
    }
    await call.closeSend();
    const summary = await call.response;
    expect(summary).toEqual({ count: 200, bytes: BigInt(bytes), crc32: crc });
  });

  it('client streaming with no messages', async () => {
    const call = h.stub.ClientStream!() as ClientStreamCall<any, any>;
    await call.closeSend();
    expect(await call.response).toEqual({ count: 0, bytes: 0n, crc32: 0 });
  });

  it('client streaming: a handler error rejects the response', async () => {
    const call = h.stub.ClientStream!() as ClientStreamCall<any, any>;
    await call.send({ payload: Buffer.from('a') });
    await call.send({ failCode: Code.OUT_OF_RANGE, failMessage: 'too far' });
    await expectStatus(call.response, Code.OUT_OF_RANGE, 'too far');
    // sending after the failure reports it
    await expectStatus(call.send({}), Code.OUT_OF_RANGE);
  });

  it('bidi streaming echoes interleaved, then ends after closeSend', async () => {
    const call = h.stub.BidiStream!() as BidiStreamCall<any, any>;
    const it = call[Symbol.asyncIterator]();
    for (let i = 0; i < 20; i++) {
      await call.send({ message: `m${i}`, payload: patterned(i, i) });
      const r = await it.next();
      expect(r.done).toBe(false);
      expect(r.value.message).toBe(`m${i}`);
      expect(r.value.seq).toBe(i);
    }
    await call.closeSend();
    expect((await it.next()).done).toBe(true);
    await expect(call.send({})).rejects.toMatchObject({ code: 'TTRPC_PROTOCOL_ERROR' });
  });

  it('bidi streaming error status ends the iterator with a TtrpcError', async () => {
    const call = h.stub.BidiStream!() as BidiStreamCall<any, any>;
    await call.send({ message: 'a' });
    await call.send({ failCode: Code.PERMISSION_DENIED, failMessage: 'nope' });
    const got: string[] = [];
    const err = await (async () => {
      for await (const m of call) got.push(m.message);
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(got).toEqual(['a']);
    expect((err as TtrpcError).status).toBe(Code.PERMISSION_DENIED);
  });

  it('connection loss rejects every pending call and aborts server handlers', async () => {
    const unary = h.stub.Echo!({ sleepMs: 10_000 });
    const stream = h.stub.ServerStream!({ count: 1000, size: 1, intervalMs: 1000 });
    const iter = (stream as AsyncIterable<any>)[Symbol.asyncIterator]();
    expect((await iter.next()).value.seq).toBe(0);
    await until(() => h.observed.contexts.length === 2);
    h.serverEnd.destroy();
    const e1 = await unary.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isVesselError(e1, 'TTRPC_CONNECTION_CLOSED')).toBe(true);
    await expect(iter.next()).rejects.toMatchObject({ code: 'TTRPC_CONNECTION_CLOSED' });
    await until(() => h.observed.aborted.length === 2);
    expect(h.observed.aborted.every((r) => isVesselError(r, 'TTRPC_CONNECTION_CLOSED'))).toBe(true);
    await h.client.closed;
    await expect(h.stub.Echo!({})).rejects.toMatchObject({ code: 'TTRPC_CONNECTION_CLOSED' });
  });

  it('client.close() fails pending calls promptly', async () => {
    const p = h.stub.Echo!({ sleepMs: 10_000 });
    await until(() => h.observed.contexts.length === 1);
    h.client.close();
    await expect(p).rejects.toMatchObject({ code: 'TTRPC_CONNECTION_CLOSED' });
    await h.client.closed;
    await until(() => h.observed.aborted.length === 1);
  });

  it('server.close() aborts handlers and closes the client', async () => {
    const p = h.stub.Echo!({ sleepMs: 10_000 });
    await until(() => h.observed.contexts.length === 1);
    await h.server.close();
    await expect(p).rejects.toMatchObject({ code: 'TTRPC_CONNECTION_CLOSED' });
    expect(h.observed.aborted).toHaveLength(1);
  });
});

describe('server limits', () => {
  it('answers RESOURCE_EXHAUSTED beyond maxConcurrentCalls', async () => {
    const h = await harness('memory', { maxConcurrentCalls: 2 });
    try {
      const a = h.stub.Echo!({ sleepMs: 300, message: 'a' });
      const b = h.stub.Echo!({ sleepMs: 300, message: 'b' });
      await until(() => h.observed.contexts.length === 2);
      await expectStatus(h.stub.Echo!({}), Code.RESOURCE_EXHAUSTED, /too many concurrent calls/);
      expect((await a).message).toBe('a');
      expect((await b).message).toBe('b');
      expect((await h.stub.Echo!({ message: 'c' })).message).toBe('c');
    } finally {
      await h.cleanup();
    }
  });
});
