// Figure: wall time of `ctr run --rm IMG ID true` with the vessel runtime
// (io.containerd.vessel.v2: a microVM per container) against runc (io.containerd.runc.v2),
// in one private containerd (test/support/containerd.ts, the harness of test/containerd)
// with the busybox image the tests build (test/support/oci-image.ts). One untimed warm-up
// each, then rounds interleaved (runc, vessel, runc, vessel, …); every round must exit 0.
// Informative, no goal: the VM costs what it costs. Prints one JSON object.
//
// Cleanup on every path (success, a failed round, SIGINT/SIGTERM/SIGHUP): the running ctr
// is killed, a container left behind is killed and removed through containerd (so its shim
// tears its VM down), then the harness stops containerd, ends every process still working
// in a bundle, unmounts and removes its dir; finally whatever a vessel shim keeps outside
// the bundle (its socket under /run/vessel/shim, a VM state dir under /run/vessel/vm) is
// reaped and removed. A second signal exits at once (containerd and the VMs' helpers die
// with their owners through pdeathsig).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureDefaultImage } from '../src/image/index.js';
import { shimLauncher } from '../src/shim/index.js';
import { existingVmStateDir, shimSocketPath } from '../src/shim/paths.js';
import { chooseAccelerator } from '../src/vm/qemu/index.js';
import { startContainerd } from '../test/support/containerd.js';
import { buildOciImage } from '../test/support/oci-image.js';
import { checkInterrupted, cleanUp, ctrFailure, handleSignals, runBench, runCtr } from './ctr-bench.js';
import { median, printFigure, round, roundRatios } from './stats.js';

const ROUNDS = Math.max(5, Number(process.env.BENCH_ROUNDS ?? 7));
const RUN_TIMEOUT_MS = Number(process.env.BENCH_RUN_TIMEOUT_MS ?? 120_000);
const IMAGE = 'docker.io/library/vessel-bench:latest';
const NAMESPACE = 'default';
const VESSEL = 'io.containerd.vessel.v2';
const RUNC = 'io.containerd.runc.v2';

type Runtime = 'vessel' | 'runc';

handleSignals('ctr-run');

async function main(): Promise<void> {
  await ensureDefaultImage();
  checkInterrupted();
  const c = await startContainerd({ shimBins: { 'containerd-shim-vessel-v2': shimLauncher() } });
  let inflight: string | undefined; // the container of the round under way
  const vesselIds = new Set<string>();
  const bundle = (id: string) => path.join(c.dir, 'state', 'io.containerd.runtime.v2.task', NAMESPACE, id);
  // What a vessel shim keeps outside the bundle; the VM state dir is known only while the bundle exists.
  const outside = new Map<string, { socket: string; vmDir?: string }>();
  const noteOutside = (id: string) => {
    const o = outside.get(id) ?? { socket: shimSocketPath(NAMESPACE, id) };
    o.vmDir ??= existingVmStateDir(bundle(id));
    outside.set(id, o);
  };
  try {
    const work = path.join(c.dir, 'image');
    fs.mkdirSync(work);
    const img = await buildOciImage(work, { name: IMAGE });
    const imported = await c.ctr(['images', 'import', img.tarPath]);
    if (imported.code !== 0) throw new Error(`ctr images import: ${imported.stderr}`);

    let n = 0;
    const runOnce = async (rt: Runtime): Promise<number> => {
      // Short (the VM state dir stays in the bundle, as in the tests) and unique host-wide
      // (shim sockets under /run/vessel/shim are keyed by namespace/id).
      const id = `b${process.pid}${rt[0]}${++n}`;
      inflight = id;
      if (rt === 'vessel') vesselIds.add(id);
      const flags = rt === 'vessel' ? ['--runtime', VESSEL, '--fifo-dir', path.join(c.dir, 'fifo')] : ['--runtime', RUNC, ...c.runcFlags()];
      const r = await runCtr(c, ['run', '--rm', ...flags, IMAGE, id, 'true'], RUN_TIMEOUT_MS);
      if (r.code !== 0) throw ctrFailure(c, `ctr run --rm (${rt}) ${id}`, r);
      inflight = undefined; // --rm removed it
      return r.ms;
    };

    await runOnce('runc'); // warm-up: page cache, runc, the first shim of each kind
    await runOnce('vessel');
    const runc: number[] = [];
    const vessel: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      runc.push(await runOnce('runc'));
      vessel.push(await runOnce('vessel'));
    }
    const m = { runc: median(runc), vessel: median(vessel) };
    printFigure({
      figure: 'ctr-run',
      command: `ctr run --rm IMG ID true`,
      containerd: (await c.ctr(['version'])).stdout.match(/Server:[\s\S]*?Version:\s*(\S+)/)?.[1] ?? 'unknown',
      accel: chooseAccelerator().accelerator, // what the shim's QemuManager picks (VESSEL_ACCEL honoured)
      rounds: ROUNDS,
      warmup: 1,
      runcMs: runc.map(Math.round),
      vesselMs: vessel.map(Math.round),
      runcMedianMs: Math.round(m.runc),
      vesselMedianMs: Math.round(m.vessel),
      ratioVesselOverRunc: round(m.vessel / m.runc, 2),
      ...roundRatios(vessel, runc, 2),
      loadAvg1m: round(os.loadavg()[0]!, 2),
      note: 'informative: the VM costs what it costs',
    });
  } finally {
    await cleanUp(
      c,
      // whatever a failed or interrupted round left
      async (quick) => [
        ...new Set([...((await quick?.(['containers', 'ls', '-q']))?.stdout.split('\n').filter(Boolean) ?? []), ...(inflight ? [inflight] : [])]),
      ],
      (ids) => {
        for (const id of ids) if (vesselIds.has(id)) noteOutside(id);
        return [...outside.values()];
      },
    );
  }
}

await runBench('ctr-run', main);
