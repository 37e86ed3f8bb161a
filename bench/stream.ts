// Figure: raw-stream throughput between host and guest, host→guest and guest→host, through
// a vessel raw stream (yamux over the agent's virtio-serial port, into a guest process)
// against raw virtio-serial (a second port, read or written by the same kind of guest
// process) in the same VM and run, rounds interleaved. Prints one JSON object.
// Goal: vessel / raw >= 0.80 in each direction.
//
// The guest side is `dd bs=64k` in every case: busybox `head -c` alone moves only ~14 MiB/s
// under TCG (measured: head -c 32M /dev/zero >/dev/null took 2.2 s), which would hide the
// transports being compared; dd with 64 KiB blocks moves ~65 MiB/s through a pipe.
import net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { ensureDefaultImage } from '../src/image/index.js';
import { bootTestVm, type TestVm } from '../test/support/test-vm.js';
import { makePrivateTempDir } from '../test/support/tmpdir.js';
import { median, printFigure, round } from './stats.js';

const BYTES = Number(process.env.BENCH_BYTES ?? 32 * 2 ** 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CHUNK = 64 * 1024;
const BLOCKS = Math.ceil(BYTES / CHUNK);
let seq = 0;

async function writeBytes(stream: Writable, n: number): Promise<void> {
  const chunk = Buffer.alloc(CHUNK, 0x5a);
  for (let sent = 0; sent < n; sent += CHUNK) {
    if (!stream.write(sent + CHUNK <= n ? chunk : chunk.subarray(0, n - sent))) await once(stream, 'drain');
  }
}

function countUntil(stream: Readable, n: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let got = 0;
    const onData = (c: Buffer) => {
      got += c.length;
      if (got >= n) {
        stream.off('data', onData);
        resolve();
      }
    };
    stream.on('data', onData);
    stream.once('error', reject);
    stream.once('close', () => got < n && reject(new Error(`stream closed after ${got} of ${n} bytes`)));
  });
}

async function runGuest(vm: TestVm, args: string[]): Promise<string> {
  const id = `sh-${++seq}`;
  const out = await vm.agent.openStream(`${id}:out`);
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const ended = once(out, 'end');
  await vm.agent.exec({ execId: id, args, stdoutStream: `${id}:out` });
  const status = await vm.agent.wait(id);
  await ended;
  out.end();
  if (status.exitCode !== 0) throw new Error(`${args.join(' ')} exited ${status.exitCode}`);
  return Buffer.concat(chunks).toString().trim();
}

/** vessel, host→guest: our bytes into a guest `dd of=/dev/null` through a raw stream (EOF = our FIN). */
async function vesselIn(vm: TestVm): Promise<number> {
  const id = `in-${++seq}`;
  const s = await vm.agent.openStream(`${id}:in`);
  await vm.agent.exec({ execId: id, args: ['dd', 'of=/dev/null', 'bs=65536'], stdinStream: `${id}:in` });
  const t0 = performance.now();
  await writeBytes(s, BYTES);
  s.end();
  await vm.agent.wait(id);
  return BYTES / 2 ** 20 / ((performance.now() - t0) / 1000);
}

/** vessel, guest→host: a guest `dd if=/dev/zero` into our raw stream. */
async function vesselOut(vm: TestVm): Promise<number> {
  const id = `out-${++seq}`;
  const s = await vm.agent.openStream(`${id}:out`);
  const done = countUntil(s, BLOCKS * CHUNK);
  const t0 = performance.now();
  await vm.agent.exec({ execId: id, args: ['dd', 'if=/dev/zero', 'bs=65536', `count=${BLOCKS}`], stdoutStream: `${id}:out` });
  await done;
  const mibps = BYTES / 2 ** 20 / ((performance.now() - t0) / 1000);
  await vm.agent.wait(id);
  s.end();
  return mibps;
}

/** raw virtio-serial, host→guest: our bytes into `dd if=<port> of=/dev/null`; EOF = we disconnect. */
async function rawIn(vm: TestVm, rawSocket: string, port: string): Promise<number> {
  const raw = net.connect(rawSocket);
  await once(raw, 'connect');
  const id = `rawin-${++seq}`;
  await vm.agent.exec({ execId: id, args: ['dd', `if=/dev/${port}`, 'of=/dev/null', 'bs=65536'] });
  const t0 = performance.now();
  await writeBytes(raw, BYTES);
  raw.end();
  await vm.agent.wait(id);
  const mibps = BYTES / 2 ** 20 / ((performance.now() - t0) / 1000);
  raw.destroy();
  return mibps;
}

/** raw virtio-serial, guest→host: `dd if=/dev/zero of=<port>` read from the raw socket. */
async function rawOut(vm: TestVm, rawSocket: string, port: string): Promise<number> {
  const raw = net.connect(rawSocket);
  await once(raw, 'connect');
  const id = `rawout-${++seq}`;
  const done = countUntil(raw, BLOCKS * CHUNK);
  const t0 = performance.now();
  await vm.agent.exec({ execId: id, args: ['dd', 'if=/dev/zero', `of=/dev/${port}`, 'bs=65536', `count=${BLOCKS}`] });
  await done;
  const mibps = BYTES / 2 ** 20 / ((performance.now() - t0) / 1000);
  await vm.agent.wait(id);
  raw.destroy();
  return mibps;
}

async function main(): Promise<void> {
  const image = await ensureDefaultImage();
  const tmp = await makePrivateTempDir('bench-stream');
  const rawSocket = path.join(tmp.dir, 'raw.sock');
  const vm = await bootTestVm({
    kernelPath: image.kernelPath,
    initrdPath: image.initrdPath,
    qemuArgs: ['-chardev', `socket,id=raw,path=${rawSocket},server=on,wait=off`, '-device', 'virtserialport,chardev=raw,name=vessel.raw'],
  });
  try {
    const port = await runGuest(vm, ['sh', '-c', 'for d in /sys/class/virtio-ports/*; do [ "$(cat $d/name)" = vessel.raw ] && echo ${d##*/}; done']);
    if (!port) throw new Error('guest has no vessel.raw port');
    const r = { vIn: [] as number[], vOut: [] as number[], rIn: [] as number[], rOut: [] as number[] };
    await vesselIn(vm); // warm-up
    for (let i = 0; i < ROUNDS; i++) {
      r.rIn.push(await rawIn(vm, rawSocket, port));
      r.vIn.push(await vesselIn(vm));
      r.rOut.push(await rawOut(vm, rawSocket, port));
      r.vOut.push(await vesselOut(vm));
    }
    const m = { vIn: median(r.vIn), vOut: median(r.vOut), rIn: median(r.rIn), rOut: median(r.rOut) };
    printFigure({
      figure: 'stream',
      accel: 'tcg',
      bytesPerRound: BYTES,
      rounds: ROUNDS,
      hostToGuestMiBps: { vessel: r.vIn.map((v) => round(v)), raw: r.rIn.map((v) => round(v)) },
      guestToHostMiBps: { vessel: r.vOut.map((v) => round(v)), raw: r.rOut.map((v) => round(v)) },
      medians: { hostToGuestVessel: round(m.vIn), hostToGuestRaw: round(m.rIn), guestToHostVessel: round(m.vOut), guestToHostRaw: round(m.rOut) },
      ratioHostToGuest: round(m.vIn / m.rIn, 3),
      ratioGuestToHost: round(m.vOut / m.rOut, 3),
      goal: '>= 0.80 each way',
    });
  } finally {
    await vm.stop();
    await tmp.remove();
  }
}

await main();
