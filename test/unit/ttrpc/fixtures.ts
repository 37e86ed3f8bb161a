// Shared fixtures for the ttrpc unit tests: the InteropTest proto, a TypeScript
// implementation of it, and client/server pairs over a memory Duplex or a unix socket.
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { duplexPair, type Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import zlib from 'node:zlib';
import { Code, TtrpcClient, TtrpcError, TtrpcServer, loadProtos, type CallContext, type ServerOptions } from '../../../src/ttrpc/index.js';

export const root = loadProtos(['vessel/test/v1/interop.proto']);
export const InteropTest = root.lookupService('vessel.test.v1.InteropTest');
export const EchoRequest = root.lookupType('vessel.test.v1.EchoRequest');
export const EchoResponse = root.lookupType('vessel.test.v1.EchoResponse');
export const StreamRequest = root.lookupType('vessel.test.v1.StreamRequest');
export const SERVICE = 'vessel.test.v1.InteropTest';

export function patterned(size: number, offset: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = (offset + i) % 251;
  return out;
}

/** Waits `ms` (the handler's requested work), or throws the context's abort reason. */
async function work(ms: number, ctx: CallContext): Promise<void> {
  if (ms > 0) await sleep(ms, undefined, { signal: ctx.signal });
}

export interface Observed {
  /** Contexts of handlers, in arrival order. */
  contexts: CallContext[];
  /** Handlers that saw their signal abort, with the reason. */
  aborted: unknown[];
}

export function interopImpl(observed: Observed = { contexts: [], aborted: [] }) {
  const watch = (ctx: CallContext): void => {
    observed.contexts.push(ctx);
    ctx.signal.addEventListener('abort', () => observed.aborted.push(ctx.signal.reason), { once: true });
  };
  return {
    async Echo(req: any, ctx: CallContext) {
      watch(ctx);
      await work(Number(req.sleepMs), ctx);
      if (req.failCode !== 0) throw new TtrpcError(req.failCode as Code, req.failMessage);
      const metadata = Object.entries(ctx.metadata)
        .flatMap(([key, values]) => values.map((value) => ({ key, value })))
        .sort((a, b) => (a.key === b.key ? a.value.localeCompare(b.value) : a.key.localeCompare(b.key)));
      const payload = req.responseSize > 0 ? patterned(req.responseSize, 0) : req.payload;
      return { payload, message: req.message, metadata };
    },
    async ServerStream(req: any, send: (m: any) => Promise<void>, ctx: CallContext) {
      watch(ctx);
      for (let seq = 0; seq < req.count; seq++) {
        if (seq > 0) await work(Number(req.intervalMs), ctx);
        await send({ payload: patterned(req.size, seq), seq });
      }
      if (req.failCode !== 0) throw new TtrpcError(req.failCode as Code, req.failMessage);
    },
    async ClientStream(requests: AsyncIterable<any>, ctx: CallContext) {
      watch(ctx);
      let count = 0;
      let bytes = 0;
      let crc = 0;
      for await (const req of requests) {
        if (req.failCode !== 0) throw new TtrpcError(req.failCode as Code, req.failMessage);
        count++;
        bytes += req.payload.length;
        crc = zlib.crc32(req.payload, crc);
      }
      return { count, bytes, crc32: crc };
    },
    async BidiStream(requests: AsyncIterable<any>, send: (m: any) => Promise<void>, ctx: CallContext) {
      watch(ctx);
      let seq = 0;
      for await (const req of requests) {
        if (req.failCode !== 0) throw new TtrpcError(req.failCode as Code, req.failMessage);
        await send({ payload: req.payload, message: req.message, seq: seq++ });
      }
    },
    // RawResult and Release are left out on purpose: they answer UNIMPLEMENTED.
  };
}

export interface Harness {
  server: TtrpcServer;
  client: TtrpcClient;
  stub: Record<string, Function>;
  observed: Observed;
  /** The server-side end of the connection. */
  serverEnd: Duplex;
  cleanup(): Promise<void>;
}

export type TransportKind = 'memory' | 'unix';

export async function connectPair(kind: TransportKind): Promise<{ a: Duplex; b: Duplex; cleanup(): Promise<void> }> {
  if (kind === 'memory') {
    const [a, b] = duplexPair();
    // like a socket (or a reset yamux stream): destroying one end closes the other
    a.once('close', () => b.destroy());
    b.once('close', () => a.destroy());
    return {
      a,
      b,
      cleanup: async () => {
        a.destroy();
        b.destroy();
      },
    };
  }
  const dir = await mkdtemp(join(tmpdir(), 'ttrpc-'));
  const path = join(dir, 's.sock');
  const listener = net.createServer();
  await new Promise<void>((resolve) => listener.listen(path, resolve));
  const accepted = new Promise<net.Socket>((resolve) => listener.once('connection', resolve));
  const client = net.connect(path);
  const serverSide = await accepted;
  return {
    a: serverSide,
    b: client,
    cleanup: async () => {
      client.destroy();
      serverSide.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function harness(kind: TransportKind, options?: ServerOptions): Promise<Harness> {
  const observed: Observed = { contexts: [], aborted: [] };
  const server = new TtrpcServer(options);
  server.register(InteropTest, interopImpl(observed));
  const pair = await connectPair(kind);
  server.serve(pair.a);
  const client = new TtrpcClient(pair.b);
  return {
    server,
    client,
    stub: client.service(InteropTest),
    observed,
    serverEnd: pair.a,
    cleanup: async () => {
      client.close();
      await server.close();
      await pair.cleanup();
    },
  };
}

/** Resolves when `predicate` holds, checking on every macrotask turn; rejects after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not reached in time');
    await new Promise((resolve) => setImmediate(resolve));
  }
}
