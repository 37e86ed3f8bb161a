// Figure: start from a snapshot → the agent answers Ping, against a cold boot → Ping, the
// same VM shape (1 vCPU, 256 MiB, no devices) under the accelerator QemuManager picks here
// (VESSEL_ACCEL honoured). The snapshot is taken once, of a booted VM whose agent is ready,
// and every restore starts from it (a template). Both paths are timed from the manager call
// (restore(): manifest and image checks, disk staging, QEMU with -incoming, state load, cont,
// a new agent session, AfterRestore: reseed, clock, hostname; start(): boot) until start()
// resolves, then one Ping. Rounds interleaved, each restore paired with the cold boot of its
// round; the first restore also hashes the snapshot (later ones find it verified). RAM is
// `mapped` (the snapshot's RAM file mapped privately) unless BENCH_SNAPSHOT_RAM=stream (the
// RAM in the migration stream, for the naive figure). Prints one JSON object. Goal: cold /
// restore >= 8.
import fs from 'node:fs';
import path from 'node:path';
import { ensureDefaultImage } from '../src/image/index.js';
import { QemuManager, type Instance } from '../src/vm/index.js';
import { chooseAccelerator } from '../src/vm/qemu/index.js';
import { makePrivateTempDir } from '../test/support/tmpdir.js';
import { median, printFigure, round, roundRatios } from './stats.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const RAM = process.env.BENCH_SNAPSHOT_RAM === 'stream' ? 'stream' : 'mapped';
const SHAPE = { cpus: 1, ramMiB: 256 };

async function main(): Promise<void> {
  const image = await ensureDefaultImage();
  const tmp = await makePrivateTempDir('bench-restore');
  const accel = chooseAccelerator();
  const manager = new QemuManager({ image, accelerator: accel.accelerator });
  let n = 0;
  const newDir = (): string => {
    const dir = path.join(tmp.dir, `vm${++n}`);
    fs.mkdirSync(dir);
    return dir;
  };
  // time until start()/restore() resolved and one Ping answered; the VM is shut down after
  const timed = async (begin: () => Promise<Instance>): Promise<number> => {
    const t0 = performance.now();
    const inst = await begin();
    try {
      await inst.client().ping({ timeoutMs: 10_000 });
      return performance.now() - t0;
    } finally {
      await inst.shutdown();
    }
  };
  const cold = (): Promise<number> =>
    timed(async () => {
      const inst = await manager.newInstance(newDir());
      inst.setCPUAndMemory(SHAPE.cpus, SHAPE.ramMiB);
      await inst.start({ liveness: false });
      return inst;
    });
  const snapshotDir = path.join(tmp.dir, 'template');
  const restore = (): Promise<number> => timed(() => manager.restore(snapshotDir, newDir(), { start: { liveness: false } }));
  try {
    // the template: a booted VM, saved once its agent is ready
    const source = await manager.newInstance(newDir());
    source.setCPUAndMemory(SHAPE.cpus, SHAPE.ramMiB);
    await source.start({ liveness: false });
    const saved = await source.snapshot(snapshotDir, { ram: RAM });
    await cold(); // warm-up: page cache, QEMU
    const coldMs: number[] = [];
    const restoreMs: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      restoreMs.push(await restore());
      coldMs.push(await cold());
    }
    const m = { cold: median(coldMs), restore: median(restoreMs) };
    printFigure({
      figure: 'restore',
      accel: accel.accelerator,
      accelReason: accel.reason,
      machine: 'microvm',
      shape: SHAPE,
      ram: saved.ram,
      snapshotPausedMs: Math.round(saved.pausedMs),
      snapshotBytes: saved.bytes,
      rounds: ROUNDS,
      coldMs: coldMs.map(Math.round),
      restoreMs: restoreMs.map(Math.round),
      coldMedianMs: Math.round(m.cold),
      restoreMedianMs: Math.round(m.restore),
      speedupColdOverRestore: round(m.cold / m.restore, 2),
      ...roundRatios(coldMs, restoreMs, 2),
      goal: '>= 8',
    });
  } finally {
    await tmp.remove();
  }
}

await main();
