// Figure: raw-stream throughput between host and guest, host→guest and guest→host, through
// a vessel raw stream (yamux over the agent's virtio-serial port, into a guest process)
// against raw virtio-serial (a second port, read or written by the same kind of guest
// process) in the same VM and run, rounds interleaved. Prints one JSON object.
// Goal: vessel / raw >= 0.80 in each direction.
//
// The guest side is `dd bs=64k` in every case: busybox `head -c` alone moves only ~14 MiB/s
// under TCG (measured: head -c 32M /dev/zero >/dev/null took 2.2 s), which would hide the
// transports being compared; dd with 64 KiB blocks moves ~65 MiB/s through a pipe.
import path from 'node:path';
import { ensureDefaultImage } from '../src/image/index.js';
import { bootTestVm } from '../test/support/test-vm.js';
import { makePrivateTempDir } from '../test/support/tmpdir.js';
import { median, printFigure, round } from './stats.js';
import { findGuestPort, rawIn, rawOut, rawPortArgs, vesselIn, vesselOut } from './stream-transfers.js';

const BYTES = Number(process.env.BENCH_BYTES ?? 32 * 2 ** 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
async function main(): Promise<void> {
  const image = await ensureDefaultImage();
  const tmp = await makePrivateTempDir('bench-stream');
  const rawSocket = path.join(tmp.dir, 'raw.sock');
  const vm = await bootTestVm({
    kernelPath: image.kernelPath,
    initrdPath: image.initrdPath,
    qemuArgs: rawPortArgs(rawSocket, 'vessel.raw'),
  });
  try {
    const port = await findGuestPort(vm, 'vessel.raw');
    const r = { vIn: [] as number[], vOut: [] as number[], rIn: [] as number[], rOut: [] as number[] };
    await vesselIn(vm, BYTES); // warm-up
    for (let i = 0; i < ROUNDS; i++) {
      r.rIn.push(await rawIn(vm, rawSocket, port, BYTES));
      r.vIn.push(await vesselIn(vm, BYTES));
      r.rOut.push(await rawOut(vm, rawSocket, port, BYTES));
      r.vOut.push(await vesselOut(vm, BYTES));
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
