// Figure: host memory per idle VM in one vessel process. RSS of this Node process (QEMU,
// virtiofsd and passt are other processes and are not counted) after a forced GC, with
// 0, 1, 2 and 4 running idle instances; the slope of the least-squares line through
// (count, RSS) is the cost per VM. The V8 heap + external figure is reported
// too: RSS moves in pages and by allocator decisions, the heap counts what vessel holds. Each VM has one virtio-fs share so that the per-VM
// state (mux session, ttrpc client, QMP client, console log, helper supervision) is all
// there. Prints one JSON object. Goal: slope <= 5 MiB per VM.
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { setTimeout as sleep } from 'node:timers/promises';
import { QemuManager, type QemuInstance } from '../src/vm/index.js';
import { makePrivateTempDir } from '../test/support/tmpdir.js';
import { printFigure, round } from './stats.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const COUNTS = [0, 1, 2, 4];

async function settledMemory(): Promise<{ rss: number; js: number }> {
  // Settle: several GCs with turns of the event loop between them, then read.
  for (let i = 0; i < 5; i++) {
    gc();
    await sleep(20);
  }
  const m = process.memoryUsage();
  return { rss: m.rss / 2 ** 20, js: (m.heapUsed + m.external) / 2 ** 20 };
}

function slope(xs: number[], ys: number[]): number {
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  xs.forEach((x, i) => {
    num += (x - mx) * (ys[i]! - my);
    den += (x - mx) ** 2;
  });
  return num / den;
}

async function main(): Promise<void> {
  const tmp = await makePrivateTempDir('bench-mem');
  const share = path.join(tmp.dir, 'share');
  fs.mkdirSync(share);
  const manager = new QemuManager();
  const running: QemuInstance[] = [];
  const accelerators = new Set<string>();
  let n = 0;
  const add = async () => {
    const dir = path.join(tmp.dir, `vm${++n}`);
    fs.mkdirSync(dir);
    const inst = await manager.newInstance(dir);
    accelerators.add(inst.accelerator);
    inst.addFS('data', share);
    await inst.start();
    await inst.client().ping();
    running.push(inst);
  };
  try {
    // Warm-up: one VM started and stopped so that code paths, the image and pools are loaded.
    await add();
    await running.pop()!.shutdown();
    const rss: number[] = [];
    const js: number[] = [];
    for (const count of COUNTS) {
      while (running.length < count) await add();
      const m = await settledMemory();
      rss.push(m.rss);
      js.push(m.js);
    }
    printFigure({
      figure: 'mem-per-vm',
      accel: [...accelerators].join(','),
      vms: COUNTS,
      rssMiB: rss.map((v) => round(v, 1)),
      // V8 heap in use + external (Buffers): the part of RSS that vessel's own objects hold.
      heapAndExternalMiB: js.map((v) => round(v, 2)),
      rssSlopeMiBPerVm: round(slope(COUNTS, rss), 2),
      heapAndExternalSlopeMiBPerVm: round(slope(COUNTS, js), 3),
      goal: '<= 5 MiB per VM (RSS slope)',
    });
  } finally {
    await Promise.all(running.map((i) => i.shutdown()));
    await tmp.remove();
  }
}

await main();
