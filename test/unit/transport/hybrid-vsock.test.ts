// connectHybridVsock / listenHybridVsock against a fake backend: a real unix socket server in
// the test that speaks the hybrid vsock protocol (CONNECT <port>\n → OK <n>\n, then bytes).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isVesselError } from '../../../src/errors/index.js';
import { MAX_REPLY_BYTES, connectHybridVsock, hybridVsockListenPath, listenHybridVsock } from '../../../src/transport/index.js';

let dir: string;
let uds: string;
const servers: net.Server[] = [];
const sockets: net.Socket[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hvsock-'));
  uds = path.join(dir, 'v.sock');
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Reads the CONNECT line (bounded), then hands the rest of the connection to `then`. */
function onConnectLine(conn: net.Socket, then: (port: string, conn: net.Socket) => void): void {
  let buf = '';
  const onData = (c: Buffer) => {
    buf += c.toString('latin1');
    const nl = buf.indexOf('\n');
    if (nl < 0) {
      if (buf.length > 64) conn.destroy();
      return;
    }
    conn.off('data', onData);
    const m = /^CONNECT (\d+)$/.exec(buf.slice(0, nl));
    if (!m) return void conn.destroy();
    then(m[1]!, conn);
  };
  conn.on('data', onData);
}

/**
 * A fake backend: `reply(n, port, conn)` answers the nth (0-based) connection's CONNECT;
 * connections for which `dropUnread(n)` is true are closed before their CONNECT is read,
 * which the client sees as ECONNRESET or EPIPE.
 */
async function fakeBackend(
  reply: (n: number, port: string, conn: net.Socket) => void,
  dropUnread: (n: number) => boolean = () => false,
): Promise<{ connections: () => number }> {
  let n = 0;
  // pauseOnConnect: nothing is read from a connection until resume(), so one closed unread
  // leaves the client's CONNECT in the kernel's queue.
  const server = net.createServer({ pauseOnConnect: true }, (conn) => {
    sockets.push(conn);
    const i = n++;
    conn.on('error', () => undefined); // a client that goes away mid-reply is not this test's concern
    if (dropUnread(i)) return void conn.destroy();
    onConnectLine(conn, (port, c) => reply(i, port, c));
    conn.resume();
  });
  servers.push(server);
  server.listen(uds);
  await once(server, 'listening');
  return { connections: () => n };
}

const echo = (conn: net.Socket) => conn.pipe(conn);
const soon = (ms = 5000) => Date.now() + ms;

/** The next n bytes of s (bytes beyond them stay in s); rejects if s ends first. */
function readExactly(s: net.Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let have = 0;
    const done = (err?: Error) => {
      s.off('data', onData);
      s.off('end', onEnd);
      s.pause();
      if (err) return reject(err);
      const all = Buffer.concat(chunks);
      if (all.length > n) s.unshift(all.subarray(n));
      resolve(all.subarray(0, n));
    };
    const onData = (c: Buffer) => {
      chunks.push(c);
      have += c.length;
      if (have >= n) done();
    };
    const onEnd = () => done(new Error(`ended after ${have} of ${n} bytes`));
    s.on('data', onData);
    s.once('end', onEnd);
    s.resume();
  });
}

describe('connectHybridVsock', () => {
  it('sends CONNECT <port>, accepts OK <n>, and the socket then carries bytes both ways', async () => {
    let seenPort = '';
    await fakeBackend((_n, port, conn) => {
      seenPort = port;
      conn.write('OK 1073741824\n');
      echo(conn);
    });
    const s = await connectHybridVsock(uds, 1024, { deadline: soon() });
    sockets.push(s);
    expect(seenPort).toBe('1024');
    const payload = Buffer.alloc(256 * 1024, 7);
    s.write(payload);
    expect((await readExactly(s, payload.length)).equals(payload)).toBe(true);
  });

  it('keeps bytes that arrive in the same read as the OK line', async () => {
    await fakeBackend((_n, _port, conn) => conn.write('OK 5\nhello from the guest'));
    const s = await connectHybridVsock(uds, 52, { deadline: soon() });
    sockets.push(s);
    expect((await readExactly(s, 20)).toString()).toBe('hello from the guest');
  });

  it('retries a CONNECT the backend drops (EOF) until the guest accepts', async () => {
    const backend = await fakeBackend((n, _port, conn) => {
      if (n < 3) return void conn.end();
      conn.write('OK 7\n');
      echo(conn);
    });
    const s = await connectHybridVsock(uds, 1024, { deadline: soon() });
    sockets.push(s);
    expect(backend.connections()).toBe(4);
    s.write('ping');
    expect((await readExactly(s, 4)).toString()).toBe('ping');
  });

  it('retries a CONNECT the backend closes unread (EPIPE)', async () => {
    const backend = await fakeBackend(
      (_n, _port, conn) => conn.write('OK 7\n'),
      (n) => n < 2,
    );
    sockets.push(await connectHybridVsock(uds, 1024, { deadline: soon() }));
    expect(backend.connections()).toBe(3);
  });

  it('retries while the socket does not exist yet', async () => {
    let checks = 0;
    let started: Promise<unknown> | undefined;
    const s = await connectHybridVsock(uds, 9, {
      deadline: soon(),
      // alive() runs before each attempt: the backend appears after two ENOENT attempts.
      alive: () => {
        if (++checks === 3) started = fakeBackend((_n, _port, conn) => conn.write('OK 1\n'));
        return true;
      },
    });
    sockets.push(s);
    await started;
    expect(checks).toBeGreaterThanOrEqual(3);
  });

  it('fails with UNAVAILABLE at the deadline when every CONNECT is dropped, naming the last reason', async () => {
    const backend = await fakeBackend((_n, _port, conn) => void conn.end());
    const t0 = Date.now();
    const err = await connectHybridVsock(uds, 1024, { deadline: t0 + 300, what: 'agent' }).catch((e: unknown) => e);
    expect(isVesselError(err, 'UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toMatch(/agent vsock port 1024 .*not accepted at the deadline.*EOF/);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(backend.connections()).toBeGreaterThan(1);
  });

  it('fails with UNAVAILABLE at the deadline when the backend never replies', async () => {
    await fakeBackend(() => undefined);
    const err = await connectHybridVsock(uds, 1024, { deadline: Date.now() + 200 }).catch((e: unknown) => e);
    expect(isVesselError(err, 'UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toMatch(/not accepted at the deadline \(last attempt: no reply to CONNECT\)/);
  });

  it('rejects a reply other than OK <n> at once, quoting it (VSOCK_PROTOCOL_ERROR)', async () => {
    const backend = await fakeBackend((_n, _port, conn) => conn.write('ERR no such port\n'));
    const err = await connectHybridVsock(uds, 1024, { deadline: soon() }).catch((e: unknown) => e);
    expect(isVesselError(err, 'VSOCK_PROTOCOL_ERROR')).toBe(true);
    expect((err as Error).message).toContain('"ERR no such port"');
    expect(backend.connections()).toBe(1);
  });

  it('bounds the reply: no newline within MAX_REPLY_BYTES is VSOCK_PROTOCOL_ERROR', async () => {
    await fakeBackend((_n, _port, conn) => conn.write('O'.repeat(MAX_REPLY_BYTES * 4)));
    const err = await connectHybridVsock(uds, 1024, { deadline: soon() }).catch((e: unknown) => e);
    expect(isVesselError(err, 'VSOCK_PROTOCOL_ERROR')).toBe(true);
    expect((err as Error).message).toContain(`no newline in the first ${MAX_REPLY_BYTES} bytes`);
  });

  it('stops at once when the serving process is gone, or on abort', async () => {
    const gone = await connectHybridVsock(uds, 1, { deadline: soon(), alive: () => false }).catch((e: unknown) => e);
    expect(isVesselError(gone, 'UNAVAILABLE')).toBe(true);
    expect((gone as Error).message).toContain('has exited');

    await fakeBackend(() => undefined); // accepts, never replies
    const ac = new AbortController();
    const pending = connectHybridVsock(uds, 1, { deadline: soon(), signal: ac.signal }).catch((e: unknown) => e);
    ac.abort();
    const aborted = await pending;
    expect(isVesselError(aborted, 'UNAVAILABLE')).toBe(true);
    expect((aborted as Error).message).toContain('aborted');
  });

  it('rejects a port outside 0..2^32-1 and a path too long for a unix socket', async () => {
    await expect(connectHybridVsock(uds, -1, { deadline: soon() })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(connectHybridVsock(uds, 2 ** 32, { deadline: soon() })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(connectHybridVsock('/' + 'x'.repeat(200), 1, { deadline: soon() })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('listenHybridVsock', () => {
  it('serves guest connections to host port P on <uds>_P, replacing a stale socket, and removes it on close', async () => {
    const listenPath = hybridVsockListenPath(uds, 5000);
    expect(listenPath).toBe(`${uds}_5000`);
    // A stale socket file, as a killed earlier run leaves it (bound, never unlinked).
    execFileSync('python3', ['-c', 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', listenPath]);
    expect(fs.lstatSync(listenPath).isSocket()).toBe(true);

    const accepted: net.Socket[] = [];
    let onAccept!: (s: net.Socket) => void;
    const gotOne = new Promise<net.Socket>((resolve) => (onAccept = resolve));
    const listener = await listenHybridVsock(uds, 5000, (s) => {
      accepted.push(s);
      sockets.push(s);
      onAccept(s);
    });
    expect(listener.path).toBe(listenPath);
    // The backend connects to <uds>_5000 for the guest and relays its bytes.
    const guest = net.connect(listenPath);
    sockets.push(guest);
    await once(guest, 'connect');
    const host = await gotOne;
    guest.write('from guest');
    expect((await readExactly(host, 10)).toString()).toBe('from guest');
    host.write('from host');
    expect((await readExactly(guest, 9)).toString()).toBe('from host');
    listener.close();
    expect(fs.existsSync(listenPath)).toBe(false);
    expect(accepted).toHaveLength(1);
    // Closing stops accepting but leaves the accepted connection open.
    guest.write('still');
    expect((await readExactly(host, 5)).toString()).toBe('still');
  });

  it('fails with UNAVAILABLE naming the path when it cannot listen', async () => {
    const err = await listenHybridVsock(path.join(dir, 'missing-dir', 'v.sock'), 1, () => undefined).catch((e: unknown) => e);
    expect(isVesselError(err, 'UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('missing-dir/v.sock_1');
  });
});
