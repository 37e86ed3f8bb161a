// Figure: Instance.start() → ready (the agent answered; shares mounted, NICs configured —
// none here), through the full QEMU backend (src/vm), against the boot floor of the guest
// issue measured in the same run (same kernel and QEMU line, a trivial static PID 1 that
// writes READY to the port: bench/boot-floor.ts), both under the accelerator QemuManager
// picks on this host (VESSEL_ACCEL honoured). Rounds interleaved. Prints one JSON object.
// Goal: start / floor <= 1.10.
import fs from 'node:fs';
import path from 'node:path';
import { ensureDefaultImage } from '../src/image/index.js';
import { QemuManager } from '../src/vm/index.js';
import { chooseAccelerator } from '../src/vm/qemu/index.js';
import { makePrivateTempDir } from '../test/support/tmpdir.js';
import { buildFloorInitramfs, floorBootMs } from './boot-floor.js';
import { median, printFigure, round, roundRatios } from './stats.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

async function main(): Promise<void> {
  const image = await ensureDefaultImage();
  const tmp = await makePrivateTempDir('bench-instance-boot');
  // chosen once, for the instances and the floor alike
  const accel = chooseAccelerator();
  const manager = new QemuManager({ image, accelerator: accel.accelerator });
  let n = 0;
  const startMs = async (): Promise<number> => {
    const dir = path.join(tmp.dir, `vm${++n}`);
    fs.mkdirSync(dir);
    const inst = await manager.newInstance(dir);
    if (inst.accelerator !== accel.accelerator) throw new Error(`instance boots with ${inst.accelerator}, the floor with ${accel.accelerator}`);
    const t0 = performance.now();
    try {
      await inst.start();
      return performance.now() - t0;
    } finally {
      await inst.shutdown();
    }
  };
  try {
    const floorInitrd = await buildFloorInitramfs(image, tmp.dir);
    await floorBootMs(image.kernelPath, floorInitrd, accel.accelerator); // warm-up: page cache, QEMU
    await startMs();
    const floor: number[] = [];
    const start: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      floor.push(await floorBootMs(image.kernelPath, floorInitrd, accel.accelerator));
      start.push(await startMs());
    }
    const m = { floor: median(floor), start: median(start) };
    printFigure({
      figure: 'instance-boot',
      accel: accel.accelerator,
      accelReason: accel.reason,
      machine: 'microvm',
      rounds: ROUNDS,
      floorMs: floor.map(Math.round),
      startMs: start.map(Math.round),
      floorMedianMs: Math.round(m.floor),
      startMedianMs: Math.round(m.start),
      ratioStartOverFloor: round(m.start / m.floor, 3),
      ...roundRatios(start, floor),
      goal: '<= 1.10',
    });
  } finally {
    await tmp.remove();
  }
}

await main();
