// A peer that stops reading cannot make the session buffer without bound.

import { afterEach, expect, it } from 'vitest';
import { MuxSession } from '../../../src/mux/index.js';
import { encodeHeader } from '../../../src/mux/index.js';
import { memoryPair, RawPeer, type TransportPair } from './helpers.js';

let transports: TransportPair | undefined;
afterEach(async () => {
  await transports?.cleanup();
  transports = undefined;
});

async function waitUntil(cond: () => boolean, what: string, guardMs = 20_000): Promise<void> {
  const deadline = Date.now() + guardMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

it('ping flood from a peer that does not read: input is paused, replies stay bounded', async () => {
  transports = memoryPair();
  const { a, b } = transports;
  const session = new MuxSession(a, { role: 'server' });
  const batch = Buffer.concat(Array.from({ length: 1000 }, (_, i) => encodeHeader(2, 1, 0, i)));
  // b never reads: our replies pile up until the session stops reading b's pings
  let sent = 0;
  while (!a.isPaused() && sent < 2000) {
    b.write(batch);
    sent++;
    await new Promise((r) => setImmediate(r));
  }
  expect(a.isPaused()).toBe(true);
  expect(a.writableLength).toBeLessThan(2 * 1024 * 1024);
  // once b reads again, every ping gets its answer
  let answers = 0;
  b.on('data', (chunk: Buffer) => {
    answers += chunk.length / 12;
  });
  await waitUntil(() => answers === sent * 1000, 'all pings answered');
  expect(session.closed).toBe(false);
});

it('data for a peer that grants a huge window but does not read waits for the transport', async () => {
  transports = memoryPair();
  const { a, b } = transports;
  const session = new MuxSession(a, { role: 'client' });
  b.pause();
  const stream = await session.open();
  const peer = new RawPeer(b);
  b.pause(); // RawPeer attached a 'data' listener; stay paused until we want to read
  peer.send(1, 2, stream.id, 64 * 1024 * 1024); // ACK + 64 MiB more window
  let done = false;
  stream.write(Buffer.alloc(16 * 1024 * 1024), () => {
    done = true;
  });
  await waitUntil(() => a.writableLength >= 512 * 1024, 'transport budget reached');
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  expect(a.writableLength).toBeLessThan(512 * 1024 + 256 * 1024 + 1024);
  expect(done).toBe(false);
  b.resume();
  await waitUntil(() => done, 'write to complete');
  const received = () => peer.frames.filter((f) => f.type === 0).reduce((n, f) => n + f.length, 0);
  await waitUntil(() => received() === 16 * 1024 * 1024, 'peer to receive everything');
});
