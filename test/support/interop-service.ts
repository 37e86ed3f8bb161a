// TypeScript implementation of vessel.test.v1.InteropTest — the mirror of the Go peer's
// service (agent/internal/testpeer), so the Go client can check the TypeScript server.
import { setTimeout as sleep } from 'node:timers/promises';
import zlib from 'node:zlib';
import { Code, TtrpcError, type CallContext, type Metadata } from '../../src/ttrpc/index.js';
import type { RawStreamRegistry } from './raw-registry.js';

interface EchoRequest {
  payload?: Uint8Array;
  message?: string;
  sleepMs?: number | bigint;
  failCode?: number;
  failMessage?: string;
  responseSize?: number;
}
interface StreamRequest {
  count?: number;
  size?: number;
  intervalMs?: number | bigint;
  failCode?: number;
  failMessage?: string;
}

function patterned(size: number, offset: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = (offset + i) % 251;
  return out;
}

function sortedMetadata(md: Metadata): { key: string; value: string }[] {
  const out: { key: string; value: string }[] = [];
  for (const [key, values] of Object.entries(md)) for (const value of values) out.push({ key, value });
  out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  return out;
}

async function sleepOrDeadline(ms: number, ctx: CallContext): Promise<void> {
  if (ms <= 0) return;
  try {
    await sleep(ms, undefined, { signal: ctx.signal });
  } catch {
    const expired = ctx.deadline !== undefined && Date.now() >= ctx.deadline - 1;
    throw new TtrpcError(expired ? Code.DEADLINE_EXCEEDED : Code.CANCELLED, expired ? 'deadline exceeded' : 'cancelled');
  }
}

function failIfAsked(req: EchoRequest | StreamRequest): void {
  if (req.failCode) throw new TtrpcError(req.failCode as Code, req.failMessage ?? '');
}

export function interopServiceImpl(raw: RawStreamRegistry) {
  return {
    async Echo(req: EchoRequest, ctx: CallContext) {
      await sleepOrDeadline(Number(req.sleepMs ?? 0), ctx);
      failIfAsked(req);
      const payload = req.responseSize ? patterned(req.responseSize, 0) : Buffer.from(req.payload ?? []);
      return { payload, message: req.message ?? '', metadata: sortedMetadata(ctx.metadata), seq: 0 };
    },
    async ServerStream(req: StreamRequest, send: (msg: unknown) => Promise<void>, ctx: CallContext) {
      const count = req.count ?? 0;
      const interval = Number(req.intervalMs ?? 0);
      for (let seq = 0; seq < count; seq++) {
        if (seq > 0) await sleepOrDeadline(interval, ctx);
        await send({ payload: patterned(req.size ?? 0, seq), message: '', metadata: [], seq });
      }
      failIfAsked(req);
    },
    async ClientStream(requests: AsyncIterable<EchoRequest>) {
      let count = 0;
      let bytes = 0;
      let crc = 0;
      for await (const req of requests) {
        failIfAsked(req);
        const payload = req.payload ?? new Uint8Array(0);
        count++;
        bytes += payload.length;
        crc = zlib.crc32(payload, crc);
      }
      return { count, bytes, crc32: crc };
    },
    async BidiStream(requests: AsyncIterable<EchoRequest>, send: (msg: unknown) => Promise<void>) {
      let seq = 0;
      for await (const req of requests) {
        failIfAsked(req);
        await send({ payload: req.payload ?? new Uint8Array(0), message: req.message ?? '', metadata: [], seq: seq++ });
      }
    },
    async RawResult(req: { name?: string }, ctx: CallContext) {
      const result = await raw.waitResult(req.name ?? '', ctx.signal);
      return { bytesRead: result.bytesRead, crc32: result.crc32, bytesWritten: result.bytesWritten, end: result.end, error: result.error };
    },
    async Release(req: { name?: string }) {
      const outcome = raw.release(req.name ?? '');
      if (outcome === 'unknown') throw new TtrpcError(Code.NOT_FOUND, `no stream named ${req.name}`);
      if (outcome === 'not-held') throw new TtrpcError(Code.FAILED_PRECONDITION, `stream ${req.name} is not a hold stream`);
      return {};
    },
  };
}
