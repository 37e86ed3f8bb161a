// Figure: a pod through containerd's CRI plugin with crictl, vessel (the `vessel` runtime
// handler, io.containerd.vessel.v2) against runc, in one private containerd with CNI
// (test/support/cri.ts, the harness of test/cri):
// - podAndFirst: `crictl runp` + `create` + `start` of the first container, wall time until
//   start returned (the container is running);
// - second: `create` + `start` of a second container in that running pod.
// One untimed warm-up round each, then rounds interleaved (runc, vessel, runc, …); each round
// removes its pod afterwards (untimed). Medians, the ratio of medians and the median of the
// per-round ratios (bench/stats.ts); issue 11's goal: second ≤ 2× runc's. Then the floor a
// VM puts under any such start on this host (guest-runc-floor.ts: `runc run -d` alone, timed
// by the guest's clock) as a ratio to runc's second: the best vessel could reach here.
// Prints one JSON object.
//
// Cleanup on every path is the harness's: stop() removes every pod through the CRI, stops
// containerd and undoes the host network changes; SIGINT/SIGTERM/SIGHUP run it and exit
// 128+N (a second signal exits at once).
import os from 'node:os';
import { chooseAccelerator } from '../src/vm/qemu/index.js';
import { startCri, type CriHarness } from '../test/support/cri.js';
import { guestRuncRunMs } from './guest-runc-floor.js';
import { median, printFigure, round, roundRatios } from './stats.js';

const ROUNDS = Math.max(3, Number(process.env.BENCH_ROUNDS ?? 5));
const HANDLERS = ['runc', 'vessel'] as const;
type Handler = (typeof HANDLERS)[number];
const GOAL_SECOND_RATIO = 2;

interface Round {
  runpMs: number;
  podAndFirstMs: number;
  secondMs: number;
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await f();
  return [v, performance.now() - t0];
}

let n = 0;
async function round1(h: CriHarness, handler: Handler): Promise<Round> {
  const name = `bench-${handler}-${++n}`;
  const t0 = performance.now();
  const [pod, runpMs] = await timed(() => h.runPod({ name, handler }));
  try {
    await h.runContainer(pod, { name: 'first', command: ['sleep', '3600'] });
    const podAndFirstMs = performance.now() - t0;
    const [, secondMs] = await timed(() => h.runContainer(pod, { name: 'second', command: ['sleep', '3600'] }));
    return { runpMs, podAndFirstMs, secondMs };
  } finally {
    await h.crictlOk(['rmp', '-f', pod.id]);
  }
}

async function main(): Promise<void> {
  const h = await startCri();
  try {
    for (const handler of HANDLERS) await round1(h, handler); // warm-up: page cache, shims, the first VM
    const rounds: Record<Handler, Round[]> = { runc: [], vessel: [] };
    for (let i = 0; i < ROUNDS; i++) for (const handler of HANDLERS) rounds[handler].push(await round1(h, handler));
    const left = await h.settledLeftovers();
    if (left.length) throw new Error(`the rounds left things behind:\n${left.join('\n')}`);
    const floor = await guestRuncRunMs(ROUNDS);
    const col = (handler: Handler, k: keyof Round) => rounds[handler].map((r) => r[k]);
    const med = (handler: Handler, k: keyof Round) => median(col(handler, k));
    const second = roundRatios(col('vessel', 'secondMs'), col('runc', 'secondMs'), 2);
    const first = roundRatios(col('vessel', 'podAndFirstMs'), col('runc', 'podAndFirstMs'), 2);
    printFigure({
      figure: 'cri-pod',
      what: 'crictl runp + create + start (podAndFirst); create + start of a second container in the running pod (second)',
      accel: chooseAccelerator().accelerator,
      rounds: ROUNDS,
      warmup: 1,
      runc: {
        podAndFirstMs: col('runc', 'podAndFirstMs').map(Math.round),
        secondMs: col('runc', 'secondMs').map(Math.round),
        medianRunpMs: Math.round(med('runc', 'runpMs')),
        medianPodAndFirstMs: Math.round(med('runc', 'podAndFirstMs')),
        medianSecondMs: Math.round(med('runc', 'secondMs')),
      },
      vessel: {
        podAndFirstMs: col('vessel', 'podAndFirstMs').map(Math.round),
        secondMs: col('vessel', 'secondMs').map(Math.round),
        medianRunpMs: Math.round(med('vessel', 'runpMs')),
        medianPodAndFirstMs: Math.round(med('vessel', 'podAndFirstMs')),
        medianSecondMs: Math.round(med('vessel', 'secondMs')),
      },
      podAndFirstRatio: round(med('vessel', 'podAndFirstMs') / med('runc', 'podAndFirstMs'), 2),
      podAndFirstMedianRoundRatio: first.medianRoundRatio,
      secondRatio: round(med('vessel', 'secondMs') / med('runc', 'secondMs'), 2),
      secondMedianRoundRatio: second.medianRoundRatio,
      secondRoundRatios: second.roundRatios,
      goalSecondRatio: GOAL_SECOND_RATIO,
      secondMeetsGoal: second.medianRoundRatio <= GOAL_SECOND_RATIO,
      guestRuncRunMs: floor,
      medianGuestRuncRunMs: Math.round(median(floor)),
      floorSecondRatio: round(median(floor) / med('runc', 'secondMs'), 2),
      loadAvg1m: round(os.loadavg()[0]!, 2),
    });
  } finally {
    await h.stop();
  }
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench cri-pod: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
}
