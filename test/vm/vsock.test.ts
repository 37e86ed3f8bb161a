// vsock on real VMs (QEMU TCG, microvm): the vsock device backed by the patched
// vhost-device-vsock (scripts/build-vhost-device-vsock.sh), the guest's peer a test program
// (agent/cmd/vessel-vsockpeer, shared in over virtio-fs), the host side src/transport's
// hybrid vsock:
// - a host CONNECT before anything in the guest listens is dropped, and connectHybridVsock
//   retries until the guest listens; then bytes go both ways intact (1 MiB echoed);
// - a guest-initiated connection to the host (CID 2) arrives on <uds>_<port>;
// - 64 connections echoing 1 MiB each at once all complete: the bidirectional load under
//   which the stock backend deadlocks (patches/vhost-device-vsock-epollout.patch);
// - the backend SIGKILLed while the VM runs: the instance fails (DEVICE_FAILED, saying the
//   backend died), is released within the shutdown bound, and leaves nothing running.
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVesselError } from '../../src/errors/index.js';
import { connectHybridVsock, listenHybridVsock } from '../../src/transport/index.js';
import { QemuManager, SHUTDOWN_BOUND_MS, type QemuInstance } from '../../src/vm/index.js';
import { readRecords } from '../../src/vm/helpers/records.js';
import { runInGuest } from '../support/guest-exec.js';
import { isRunning, ownHelperProcesses } from '../support/host-processes.js';
import { makePrivateTempDir } from '../support/tmpdir.js';
import { waitFor } from '../support/wait-for.js';
import { VSOCK_PEER, buildVsockPeer, serveInGuest, waitForGuestVsock } from '../support/vsock-peer.js';

const manager = new QemuManager();
let tmp: { dir: string; remove: () => Promise<void> };
let peerDir: string;
let n = 0;
const GUEST_PEER = `/mnt/peer/${VSOCK_PEER}`;

beforeAll(async () => {
  tmp = await makePrivateTempDir('vsock');
  peerDir = path.join(tmp.dir, 'peer');
  fs.mkdirSync(peerDir);
  await buildVsockPeer(peerDir);
}, 120_000);

afterAll(async () => {
  expect(ownHelperProcesses()).toEqual([]);
  await tmp.remove();
});

async function vsockVm(): Promise<{ inst: QemuInstance; stateDir: string; uds: string }> {
  const stateDir = path.join(tmp.dir, `state${++n}`);
  fs.mkdirSync(stateDir);
  const inst = await manager.newInstance(stateDir);
  inst.setCPUAndMemory(1, 256);
  inst.addFS('peer', peerDir, { readOnly: true });
  inst.enableVsock();
  await inst.start();
  await waitForGuestVsock(inst.client());
  return { inst, stateDir, uds: inst.vsockUdsPath! };
}

/** The next n bytes from s. */
function readBytes(s: net.Socket, count: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let have = 0;
    const timer = setTimeout(() => reject(new Error(`read ${have} of ${count} bytes within ${timeoutMs} ms`)), timeoutMs);
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      have += c.length;
      if (have >= count) {
        clearTimeout(timer);
        resolve(Buffer.concat(chunks));
      }
    });
    s.once('close', () => {
      clearTimeout(timer);
      reject(new Error(`closed after ${have} of ${count} bytes`));
    });
  });
}

describe('vsock device (vhost-device-vsock + hybrid vsock)', () => {
  it('a CONNECT before the guest listens is retried until it does; bytes go both ways; the guest connects to the host', async () => {
    const { inst, uds } = await vsockVm();
    try {
      // Nothing listens on 5000 yet: each CONNECT is dropped, so a short deadline fails, saying so.
      const early = await connectHybridVsock(uds, 5000, { deadline: Date.now() + 1500 }).catch((e: unknown) => e);
      expect(isVesselError(early, 'UNAVAILABLE')).toBe(true);
      expect((early as Error).message).toMatch(/not accepted at the deadline/);

      // A connect under way (retrying) while the peer starts: it gets through once the peer listens.
      // (alive() runs before each attempt: it counts them)
      let attempts = 0;
      const connecting = connectHybridVsock(uds, 5000, {
        deadline: Date.now() + 30_000,
        alive: () => {
          attempts++;
          return true;
        },
      });
      await waitFor(() => attempts >= 2, 'two CONNECT attempts', 10_000);
      const attemptsBeforePeer = attempts;
      const peer = await serveInGuest(inst.client(), GUEST_PEER, 5000);
      const sock = await connecting;
      expect(attemptsBeforePeer).toBeGreaterThanOrEqual(2);
      expect(attempts).toBeGreaterThan(attemptsBeforePeer);

      // 1 MiB of random bytes echoed: every byte goes host→guest and back guest→host.
      const payload = crypto.randomBytes(1024 * 1024);
      sock.write(Buffer.from('e\0\0\0\0\0\0\0\0', 'latin1')); // echo (the 8-byte N is unused)
      const echoed = readBytes(sock, payload.length, 60_000);
      sock.write(payload);
      expect(
        crypto
          .createHash('sha256')
          .update((await echoed).subarray(0, payload.length))
          .digest('hex'),
      ).toBe(crypto.createHash('sha256').update(payload).digest('hex'));
      sock.destroy();

      // Guest-initiated: the guest connects to CID 2 port 6000; the backend brings it to <uds>_6000.
      const listener = await listenHybridVsock(uds, 6000, (conn) => {
        conn.once('data', (line: Buffer) => conn.end(`pong ${line.toString().trim()}\n`));
      });
      try {
        const r = await runInGuest(inst, [GUEST_PEER, 'dial', '6000', 'hello-from-guest']);
        expect(r).toMatchObject({ exitCode: 0, stdout: 'pong hello-from-guest\n' });
      } finally {
        listener.close();
      }
      await peer.signal(9);
      peer.close();
    } finally {
      await inst.shutdown();
    }
  }, 120_000);

  it('64 connections × 1 MiB echoed at once all complete intact (the stock backend stalls 1–4 of them in ~40 % of runs)', async () => {
    const { inst, uds } = await vsockVm();
    try {
      await serveInGuest(inst.client(), GUEST_PEER, 5000);
      const one = async (i: number) => {
        const payload = crypto.randomBytes(1024 * 1024);
        const sock = await connectHybridVsock(uds, 5000, { deadline: Date.now() + 30_000 });
        try {
          const echoed = readBytes(sock, payload.length, 90_000);
          sock.write(Buffer.from('e\0\0\0\0\0\0\0\0', 'latin1'));
          sock.write(payload);
          const back = await echoed.catch((e: Error) => Promise.reject(new Error(`connection ${i}: ${e.message}`)));
          return back.subarray(0, payload.length).equals(payload);
        } finally {
          sock.destroy();
        }
      };
      const results = await Promise.all(Array.from({ length: 64 }, (_, i) => one(i)));
      expect(results.filter((ok) => !ok)).toEqual([]);
    } finally {
      await inst.shutdown();
    }
  }, 180_000);

  it('the backend killed while the VM runs fails the instance (DEVICE_FAILED), releases it within the bound and leaves nothing running', async () => {
    const { inst, stateDir, uds } = await vsockVm();
    const pids = readRecords(stateDir).map((r) => r.pid);
    const backend = readRecords(stateDir).find((r) => r.name === 'vsock');
    expect(backend).toBeDefined();
    // a live connection through it, to see it end too
    await serveInGuest(inst.client(), GUEST_PEER, 5000);
    const sock = await connectHybridVsock(uds, 5000, { deadline: Date.now() + 20_000 });
    sock.on('error', () => undefined);
    const sockClosed = new Promise<void>((resolve) => sock.once('close', () => resolve()));

    const t0 = performance.now();
    process.kill(backend!.pid, 'SIGKILL');
    await Promise.race([
      inst.whenStopped(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`instance not stopped within ${SHUTDOWN_BOUND_MS} ms`)), SHUTDOWN_BOUND_MS)),
    ]);
    expect(performance.now() - t0).toBeLessThan(SHUTDOWN_BOUND_MS);
    expect(inst.state()).toBe('failed'); // settled: released, and a failed instance stays failed
    const failure = inst.failure();
    expect(failure).toSatisfy((e: unknown) => isVesselError(e, 'DEVICE_FAILED'));
    expect(failure!.message).toMatch(/^the vsock backend \(vhost-device-vsock, pid \d+\) was killed by SIGKILL: the guest's vsock is gone for good/);
    await sockClosed;
    expect(readRecords(stateDir)).toEqual([]);
    for (const pid of pids) expect(isRunning(pid)).toBe(false);
    await inst.shutdown(); // settles at once
  }, 120_000);
});
