import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { isVesselError } from '../../../src/errors/index.js';
import type { MuxStream } from '../../../src/mux/index.js';
import { errorOf, readAll, sessionPair, type SessionPair } from './helpers.js';

const WINDOW = 256 * 1024;

async function waitUntil(cond: () => boolean, what: string, guardMs = 10_000): Promise<void> {
  const deadline = Date.now() + guardMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

function writeAll(stream: MuxStream, data: Buffer, chunk = 64 * 1024): Promise<void> {
  return new Promise((resolve, reject) => {
    let off = 0;
    const pump = (): void => {
      while (off < data.length) {
        const ok = stream.write(data.subarray(off, off + chunk));
        off += chunk;
        if (!ok) {
          stream.once('drain', pump);
          return;
        }
      }
      stream.end(() => resolve());
    };
    stream.once('error', reject);
    pump();
  });
}

describe.each(['socket', 'memory'] as const)('mux streams over %s transport', (kind) => {
  let pair: SessionPair;
  afterEach(async () => {
    await pair.cleanup();
  });

  it('opens and accepts in both directions with the right id parity', async () => {
    pair = await sessionPair(kind);
    const [c1, s1] = await Promise.all([pair.client.open(), pair.server.accept()]);
    const [c2, s2] = await Promise.all([pair.client.open(), pair.server.accept()]);
    const [s3, c3] = await Promise.all([pair.server.open(), pair.client.accept()]);
    const [s4, c4] = await Promise.all([pair.server.open(), pair.client.accept()]);
    expect([c1.id, c2.id]).toEqual([1, 3]);
    expect([s1.id, s2.id]).toEqual([1, 3]);
    expect([s3.id, s4.id]).toEqual([2, 4]);
    expect([c3.id, c4.id]).toEqual([2, 4]);
    expect(c1.session).toBe(pair.client);
    expect(pair.client.numStreams).toBe(4);
    expect(pair.server.numStreams).toBe(4);

    s3.write('from server');
    const [got] = (await once(c3, 'data')) as [Buffer];
    expect(got.toString()).toBe('from server');
  });

  it('moves random payloads intact on concurrent streams in both directions', async () => {
    pair = await sessionPair(kind);
    const sizes = [0, 1, 4095, 65_536, 300_001, 3 * 1024 * 1024 + 17];
    const transfers: Promise<void>[] = [];
    for (const [i, size] of sizes.entries()) {
      const data = randomBytes(size);
      const [from, to] = i % 2 === 0 ? [pair.client, pair.server] : [pair.server, pair.client];
      const [out, inn] = await Promise.all([from.open(), to.accept()]);
      transfers.push(
        (async () => {
          const [, received] = await Promise.all([writeAll(out, data, 100_000), readAll(inn)]);
          expect(received.length).toBe(size);
          expect(crc32(received)).toBe(crc32(data));
        })(),
      );
    }
    await Promise.all(transfers);
  });

  it('stalls the sender while the reader is paused, then completes when it resumes', async () => {
    pair = await sessionPair(kind);
    const [out, inn] = await Promise.all([pair.client.open(), pair.server.accept()]);
    const data = randomBytes(4 * 1024 * 1024);
    const chunk = 64 * 1024;
    const writeDone = writeAll(out, data, chunk);

    // The receiver never reads: exactly one window arrives, then the sender waits.
    await waitUntil(() => inn.readableLength >= WINDOW, 'receiver to hold one window');
    await pair.client.ping(); // everything sent before this ping has been processed
    await pair.server.ping();
    const buffered = inn.readableLength;
    expect(buffered).toBeLessThanOrEqual(WINDOW + chunk);
    await pair.client.ping();
    expect(inn.readableLength).toBe(buffered);
    expect(out.writableLength).toBeGreaterThan(0); // the write is still pending

    const received = await readAll(inn);
    await writeDone;
    expect(crc32(received)).toBe(crc32(data));
  });

  it('half-closes both ways: each direction keeps working after the other ends', async () => {
    pair = await sessionPair(kind);
    const [out, inn] = await Promise.all([pair.client.open(), pair.server.accept()]);
    out.end('request');
    expect((await readAll(inn)).toString()).toBe('request');
    expect(pair.server.numStreams).toBe(1); // server side still open for writing
    inn.write('response part 1, ');
    inn.end('part 2');
    expect((await readAll(out)).toString()).toBe('response part 1, part 2');
    await waitUntil(() => pair.client.numStreams === 0 && pair.server.numStreams === 0, 'streams released');

    // and the other way round: server ends first
    const [s, c] = await Promise.all([pair.server.open(), pair.client.accept()]);
    s.end();
    expect((await readAll(c)).length).toBe(0);
    c.end('late reply');
    expect((await readAll(s)).toString()).toBe('late reply');
    await waitUntil(() => pair.client.numStreams === 0 && pair.server.numStreams === 0, 'streams released');
  });

  it('destroy() resets the peer stream with MUX_STREAM_RESET (client side)', async () => {
    pair = await sessionPair(kind);
    const [out, inn] = await Promise.all([pair.client.open(), pair.server.accept()]);
    out.destroy();
    const err = await errorOf(inn);
    expect(isVesselError(err, 'MUX_STREAM_RESET')).toBe(true);
    await waitUntil(() => pair.client.numStreams === 0 && pair.server.numStreams === 0, 'streams released');
  });

  it('a reset from the server fails a pending write on the client instead of hanging', async () => {
    pair = await sessionPair(kind);
    const [out, inn] = await Promise.all([pair.client.open(), pair.server.accept()]);
    const big = randomBytes(2 * WINDOW);
    const writeResult = new Promise<Error | null | undefined>((resolve) => out.write(big, (err) => resolve(err)));
    await waitUntil(() => inn.readableLength >= WINDOW, 'window to be used up');
    inn.destroy(new Error('not interested'));
    const err = await writeResult;
    expect(isVesselError(err, 'MUX_STREAM_RESET')).toBe(true);
    expect(isVesselError(await errorOf(out), 'MUX_STREAM_RESET')).toBe(true);
    // the session itself is unaffected
    const [c2, s2] = await Promise.all([pair.client.open(), pair.server.accept()]);
    c2.end('still fine');
    expect((await readAll(s2)).toString()).toBe('still fine');
  });
});
