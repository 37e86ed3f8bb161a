// The Go peer is SIGKILLed while calls and streams are in flight: every pending call and
// stream on the TypeScript side must fail promptly, none may hang.
import { afterAll, describe, expect, it } from 'vitest';
import { connectPeer } from '../support/peer-connection.js';
import { buildGoPeer, runGoClient, runningPeers, startGoServer, stopAllPeers } from '../support/go-peer.js';
import { startTsServer } from '../support/ts-peer.js';
import { openRawStream } from '../support/raw-handshake.js';
import { drain, randomPayload } from '../support/stream-io.js';


/** Settles `p`, or reports it as hung after `ms`. */
function settleWithin<T>(p: Promise<T>, ms: number): Promise<{ status: 'fulfilled' | 'rejected' | 'hung'; reason?: unknown }> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ status: 'hung' }), ms);
    p.then(
      () => { clearTimeout(timer); resolve({ status: 'fulfilled' }); },
      (reason: unknown) => { clearTimeout(timer); resolve({ status: 'rejected', reason }); },
    );
  });
}

describe('peer death', () => {
  afterAll(stopAllPeers);

  it('SIGKILL of the Go peer mid-stream fails every pending call and stream promptly', async () => {
    await buildGoPeer();
    const server = await startGoServer();
    const { session, client, svc } = await connectPeer(server.socketPath);
    const sessionClosed = new Promise<unknown>((resolve) => session.once('close', resolve));

    // a unary call that the handler holds for 30 s
    const unary = svc.Echo({ sleepMs: 30_000 });
    // a server stream in the middle of its messages
    const serverStream = svc.ServerStream({ count: 10_000, size: 100, intervalMs: 50 });
    const serverIter = serverStream[Symbol.asyncIterator]();
    expect((await serverIter.next()).done).toBe(false);
    const serverRest = (async () => { for (;;) if ((await serverIter.next()).done) return; })();
    // a bidi stream waiting for its second answer
    const bidi = svc.BidiStream();
    const bidiIter = bidi[Symbol.asyncIterator]();
    await bidi.send({ message: 'one' });
    expect((await bidiIter.next()).value.message).toBe('one');
    const bidiNext = bidiIter.next();
    // a raw stream with a pending read
    const echo = await openRawStream(session, 'echo:k1');
    echo.write(randomPayload(1000));
    const echoRead = drain(echo);
    // a raw stream whose writer is stalled on the window (Go holds it unread)
    const held = await openRawStream(session, 'hold:k2');
    const heldError = new Promise<Error>((resolve) => held.once('error', resolve));
    const chunk = randomPayload(64 * 1024);
    while (held.write(chunk));
    const stalledWrite = new Promise<void>((resolve, reject) => held.write(chunk, (err) => (err ? reject(err) : resolve())));
    // an accept that can never be satisfied
    const accept = session.accept();

    // observe every pending operation before the kill, so none is an unhandled rejection
    const pending = [unary, serverRest, bidiNext, echoRead, stalledWrite, heldError.then((e) => { throw e; }), accept, sessionClosed.then(() => { throw new Error('closed'); })];
    const killedAt = Date.now();
    const settled = pending.map((p) => settleWithin(p, 5000));
    await server.kill('SIGKILL');
    const outcomes = await Promise.all(settled);
    const elapsedMs = Date.now() - killedAt;
    console.log(JSON.stringify({ figure: 'peer-sigkill', pending: outcomes.length, elapsedMs, outcomes: outcomes.map((o) => o.status) }));
    for (const o of outcomes) expect(o.status).toBe('rejected');
    // the session is over and says so
    expect(session.closed).toBe(true);
    await expect(session.open()).rejects.toMatchObject({ code: expect.stringMatching(/^MUX_/) });
    await expect(svc.Echo({ message: 'late' })).rejects.toThrow();
    client.close();
    await server.stop();
  });

  it('SIGKILL of the Go client mid-stream ends its session, streams and calls on the TypeScript server', async () => {
    await buildGoPeer();
    const server = await startTsServer();
    try {
      // the Go client's slow-sink check writes 512 KiB into a 1 MiB/s sink named k1
      const client = runGoClient(server.socketPath, ['unary', 'slow-sink']);
      await server.registry.whenClaimed('k1');
      expect(server.sessions.size).toBe(1);
      const [session] = [...server.sessions];
      const sessionClosed = new Promise<unknown>((resolve) => session!.once('close', resolve));
      const killedAt = Date.now();
      const controller = new AbortController();
      const guard = setTimeout(() => controller.abort(new Error('k1 never ended')), 5000);
      const streamEnd = server.registry.waitResult('k1', controller.signal);
      const peer = runningPeers()[0];
      await peer!.kill('SIGKILL');
      const [result, closeReason] = await Promise.all([streamEnd, sessionClosed]);
      clearTimeout(guard);
      const { results } = await client;
      console.log(JSON.stringify({ figure: 'client-sigkill', elapsedMs: Date.now() - killedAt, stream: result, sessionsLeft: server.sessions.size }));
      expect(results.map((r) => r.check)).toEqual(['unary']); // killed during slow-sink
      expect(result.end).toBe('error'); // not a clean EOF: the peer died
      expect(result.bytesRead).toBeLessThan(512 * 1024);
      expect((closeReason as { code?: string } | undefined)?.code).toBe('MUX_TRANSPORT_ERROR');
      expect(server.sessions.size).toBe(0);
    } finally {
      await server.stop();
    }
  });
});
