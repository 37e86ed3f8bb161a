// Figure: raw vsock against raw virtio-serial in the same VM and run (QEMU TCG, microvm),
// rounds interleaved: throughput host→guest and guest→host (MiB/s) and the 64-byte round
// trip (µs). Prints one JSON object.
//
// vsock: the vhost-user-vsock device on the patched vhost-device-vsock (started here as
// vessel starts it, src/vm/qemu/vsock-backend.ts), the host end src/transport's hybrid vsock,
// one connection per operation. virtio-serial: a second port beside the agent's, one host
// connection for all operations. The guest end of both is the same program
// (agent/cmd/vessel-vsockpeer, copied in through an exec), doing the same operations:
// sink N bytes then answer 'k' (host→guest), source N bytes (guest→host), and N 64-byte
// echoes (round trip).
import net from 'node:net';
import { once } from 'node:events';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ensureDefaultImage } from '../src/image/index.js';
import { connectHybridVsock } from '../src/transport/index.js';
import { requireTool, VHOST_DEVICE_VSOCK } from '../src/vm/qemu/binaries.js';
import { startVsockBackend } from '../src/vm/qemu/vsock-backend.js';
import { bootTestVm } from '../test/support/test-vm.js';
import { makePrivateTempDir } from '../test/support/tmpdir.js';
import { buildVsockPeer, copyIntoGuest, startPeerInGuest, waitForGuestVsock } from '../test/support/vsock-peer.js';
import { median, printFigure, round, roundRatios } from './stats.js';
import { rawPortArgs, writeBytes } from './stream-transfers.js';

const BYTES = Number(process.env.BENCH_BYTES ?? 32 * 2 ** 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PINGS = Number(process.env.BENCH_PINGS ?? 500);
const VSOCK_PORT = 5000;
const GUEST_PEER = '/tmp/vessel-vsockpeer';

/** Reads exact byte counts from a stream that carries several operations one after another. */
class ExactReader {
  private chunks: Buffer[] = [];
  private have = 0;
  private waiter: { n: number; keep: boolean; resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  private ended: Error | undefined;

  constructor(stream: Readable) {
    stream.on('data', (c: Buffer) => {
      this.chunks.push(c);
      this.have += c.length;
      this.check();
    });
    stream.once('close', () => {
      this.ended = new Error(`the connection closed with ${this.have} bytes unread`);
      this.check();
    });
  }

  /** The next n bytes (keep) or their count only (not kept: a throughput sink). */
  take(n: number, keep = true): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.waiter = { n, keep, resolve, reject };
      this.check();
    });
  }

  private check(): void {
    const w = this.waiter;
    if (!w) return;
    if (this.have >= w.n) {
      this.waiter = undefined;
      w.resolve(this.consume(w.n, w.keep));
    } else if (this.ended) {
      this.waiter = undefined;
      w.reject(this.ended);
    }
  }

  private consume(n: number, keep: boolean): Buffer {
    const out: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const c = this.chunks[0]!;
      if (c.length <= left) {
        this.chunks.shift();
        if (keep) out.push(c);
        left -= c.length;
      } else {
        if (keep) out.push(c.subarray(0, left));
        this.chunks[0] = c.subarray(left);
        left = 0;
      }
    }
    this.have -= n;
    return keep ? Buffer.concat(out) : Buffer.alloc(0);
  }
}

interface Link {
  socket: net.Socket;
  reader: ExactReader;
}

function header(op: 's' | 'r' | 'p', n: number): Buffer {
  const b = Buffer.alloc(9);
  b.write(op, 0, 'latin1');
  b.writeBigUInt64BE(BigInt(n), 1);
  return b;
}

async function hostToGuest(link: Link, bytes: number): Promise<number> {
  const t0 = performance.now();
  link.socket.write(header('s', bytes));
  await writeBytes(link.socket, bytes);
  const ack = await link.reader.take(1);
  if (ack.toString('latin1') !== 'k') throw new Error(`sink answered ${JSON.stringify(ack.toString('latin1'))}, not "k"`);
  return bytes / 2 ** 20 / ((performance.now() - t0) / 1000);
}

async function guestToHost(link: Link, bytes: number): Promise<number> {
  const t0 = performance.now();
  link.socket.write(header('r', bytes));
  await link.reader.take(bytes, false);
  return bytes / 2 ** 20 / ((performance.now() - t0) / 1000);
}

/** Median 64-byte round trip in µs. */
async function roundTrip(link: Link, pings: number): Promise<number> {
  link.socket.write(header('p', pings));
  const msg = Buffer.alloc(64, 0x42);
  const times: number[] = [];
  for (let i = 0; i < pings; i++) {
    const t0 = performance.now();
    link.socket.write(msg);
    const back = await link.reader.take(64);
    times.push((performance.now() - t0) * 1000);
    if (!back.equals(msg)) throw new Error('round trip: the echo differs from what was sent');
  }
  return median(times);
}

async function main(): Promise<void> {
  const image = await ensureDefaultImage();
  const tmp = await makePrivateTempDir('bench-vsock-raw');
  const rawSocket = path.join(tmp.dir, 'raw.sock');
  const vhostSocket = path.join(tmp.dir, 'vsock-vhost.sock');
  const uds = path.join(tmp.dir, 'vsock.sock');
  const peerBinary = await buildVsockPeer(tmp.dir);
  const backend = await startVsockBackend({
    binary: requireTool(VHOST_DEVICE_VSOCK),
    stateDir: tmp.dir,
    socketPath: vhostSocket,
    udsPath: uds,
    deadline: Date.now() + 10_000,
  });
  const vm = await bootTestVm({
    kernelPath: image.kernelPath,
    initrdPath: image.initrdPath,
    qemuArgs: [...rawPortArgs(rawSocket, 'vessel.raw'), '-chardev', `socket,id=vsock,path=${vhostSocket}`, '-device', 'vhost-user-vsock-device,chardev=vsock'],
  });
  try {
    await copyIntoGuest(vm.agent, peerBinary, GUEST_PEER);
    await waitForGuestVsock(vm.agent);
    await startPeerInGuest(vm.agent, [GUEST_PEER, 'serve', String(VSOCK_PORT)]);
    // virtio-serial: the host connects first (without a host the guest reads EOF at once).
    const rawSock = net.connect(rawSocket);
    await once(rawSock, 'connect');
    const serial: Link = { socket: rawSock, reader: new ExactReader(rawSock) };
    await startPeerInGuest(vm.agent, [GUEST_PEER, 'serial', 'vessel.raw']);
    const vsock = async <T>(op: (l: Link) => Promise<T>): Promise<T> => {
      const s = await connectHybridVsock(uds, VSOCK_PORT, { deadline: Date.now() + 20_000, alive: () => !backend.process.hasExited });
      try {
        return await op({ socket: s, reader: new ExactReader(s) });
      } finally {
        s.destroy();
      }
    };

    const r = { vIn: [] as number[], sIn: [] as number[], vOut: [] as number[], sOut: [] as number[], vRtt: [] as number[], sRtt: [] as number[] };
    await vsock((l) => hostToGuest(l, BYTES)); // warm-up
    await hostToGuest(serial, BYTES);
    for (let i = 0; i < ROUNDS; i++) {
      r.sIn.push(await hostToGuest(serial, BYTES));
      r.vIn.push(await vsock((l) => hostToGuest(l, BYTES)));
      r.sOut.push(await guestToHost(serial, BYTES));
      r.vOut.push(await vsock((l) => guestToHost(l, BYTES)));
      r.sRtt.push(await roundTrip(serial, PINGS));
      r.vRtt.push(await vsock((l) => roundTrip(l, PINGS)));
    }
    const rounded = (xs: number[]) => xs.map((x) => round(x));
    printFigure({
      figure: 'vsock-raw',
      accel: 'tcg',
      backend: 'vhost-device-vsock 0.3.0 + patches/vhost-device-vsock-epollout.patch, tx-buffer-size=262144',
      bytesPerRound: BYTES,
      rounds: ROUNDS,
      pingsPerRound: PINGS,
      hostToGuestMiBps: { vsock: rounded(r.vIn), virtioSerial: rounded(r.sIn) },
      guestToHostMiBps: { vsock: rounded(r.vOut), virtioSerial: rounded(r.sOut) },
      roundTrip64BMicros: { vsock: rounded(r.vRtt), virtioSerial: rounded(r.sRtt) },
      medians: {
        hostToGuestVsock: round(median(r.vIn)),
        hostToGuestVirtioSerial: round(median(r.sIn)),
        guestToHostVsock: round(median(r.vOut)),
        guestToHostVirtioSerial: round(median(r.sOut)),
        roundTripVsockMicros: round(median(r.vRtt)),
        roundTripVirtioSerialMicros: round(median(r.sRtt)),
      },
      vsockOverVirtioSerial: {
        hostToGuest: roundRatios(r.vIn, r.sIn),
        guestToHost: roundRatios(r.vOut, r.sOut),
        roundTrip: roundRatios(r.vRtt, r.sRtt),
      },
    });
    rawSock.destroy();
  } finally {
    await vm.stop();
    await backend.process.stop();
    await tmp.remove();
  }
}

await main();
