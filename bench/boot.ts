// Figure: boot to a ready guest. QEMU start → vessel-agent answers Ping (uncompressed and
// gzip initramfs), against the floor measured in the same run: the same kernel and QEMU
// line with a trivial static PID 1 that loads the virtio-serial modules and writes READY to
// the port. Rounds interleaved. Prints one JSON object. Goal: agent / floor <= 1.10.
import { ensureDefaultImage } from '../src/image/index.js';
import { bootTestVm } from '../test/support/test-vm.js';
import { makePrivateTempDir } from '../test/support/tmpdir.js';
import { buildFloorInitramfs, floorBootMs } from './boot-floor.js';
import { median, printFigure, round, roundRatios } from './stats.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

async function agentBootMs(kernelPath: string, initrdPath: string): Promise<number> {
  const vm = await bootTestVm({ kernelPath, initrdPath });
  try {
    return vm.bootMs;
  } finally {
    await vm.stop();
  }
}

async function main(): Promise<void> {
  const plain = await ensureDefaultImage({ compression: 'none' });
  const gzip = await ensureDefaultImage({ compression: 'gzip' });
  const tmp = await makePrivateTempDir('bench-boot');
  try {
    const floorInitrd = await buildFloorInitramfs(plain, tmp.dir);
    await floorBootMs(plain.kernelPath, floorInitrd); // warm the page cache and QEMU
    const floor: number[] = [];
    const agent: number[] = [];
    const agentGzip: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      floor.push(await floorBootMs(plain.kernelPath, floorInitrd));
      agent.push(await agentBootMs(plain.kernelPath, plain.initrdPath));
      agentGzip.push(await agentBootMs(gzip.kernelPath, gzip.initrdPath));
    }
    const m = { floor: median(floor), agent: median(agent), agentGzip: median(agentGzip) };
    printFigure({
      figure: 'boot',
      accel: 'tcg',
      machine: 'microvm',
      rounds: ROUNDS,
      floorMs: floor.map((v) => Math.round(v)),
      agentMs: agent.map((v) => Math.round(v)),
      agentGzipMs: agentGzip.map((v) => Math.round(v)),
      floorMedianMs: Math.round(m.floor),
      agentMedianMs: Math.round(m.agent),
      agentGzipMedianMs: Math.round(m.agentGzip),
      ratioAgentOverFloor: round(m.agent / m.floor, 3),
      ...roundRatios(agent, floor),
      ratioAgentGzipOverFloor: round(m.agentGzip / m.floor, 3),
      faster: m.agentGzip < m.agent ? 'gzip' : 'none',
      goal: '<= 1.10',
    });
  } finally {
    await tmp.remove();
  }
}

await main();
