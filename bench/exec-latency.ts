// Figure: `exec true` round trip (Exec + Wait over ttrpc; the guest forks and execs
// busybox `true` and reaps it) against an agent Ping round trip, on one running VM,
// interleaved in batches. Prints one JSON object. Goal: exec / ping <= 3.
// Also measured in the same run: the guest's own cost of spawning `true` (a busybox shell
// loop of fork+exec+wait inside the guest, minus the same loop without the exec), so the
// figure separates what vessel adds from what the (emulated) guest kernel costs.
// BENCH_BASELINE_AGENT_DIR=<another checkout's agent/>: a second VM whose image has that
// agent (e.g. the main branch's) runs the same calls interleaved with the first, and the
// figure adds its exec median and the ratio (a change's cost, measured in one run).
import fs from 'node:fs';
import path from 'node:path';
import type { AgentClient } from '../src/agent/index.js';
import { buildImage } from '../src/image/index.js';
import { QemuManager, type QemuInstance } from '../src/vm/index.js';
import { makePrivateTempDir } from '../test/support/tmpdir.js';
import { median, printFigure, round } from './stats.js';
import { execTrueMs } from './exec-true.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PER_ROUND = Number(process.env.BENCH_CALLS ?? 40);

const LOOP = 100;
const BASELINE_AGENT_DIR = process.env.BENCH_BASELINE_AGENT_DIR;

/** Wall time of a guest shell loop, from Exec to Wait. */
async function loopMs(agent: AgentClient, execId: string, body: string): Promise<number> {
  const t0 = performance.now();
  await agent.exec({ execId, args: ['/bin/sh', '-c', `i=0; while [ $i -lt ${LOOP} ]; do ${body}i=$((i+1)); done`] });
  const st = await agent.wait(execId);
  if (st.exitCode !== 0) throw new Error(`loop exited ${st.exitCode}`);
  return performance.now() - t0;
}

/** The guest's own fork+exec+wait of `true`, per spawn. */
async function guestSpawnMs(agent: AgentClient, id: string): Promise<number> {
  const withSpawn = await loopMs(agent, `${id}-spawn`, '/bin/true; ');
  const without = await loopMs(agent, `${id}-empty`, '');
  return (withSpawn - without) / LOOP;
}

async function bootIn(parent: string, name: string, manager: QemuManager): Promise<QemuInstance> {
  const dir = path.join(parent, name);
  fs.mkdirSync(dir);
  const inst = await manager.newInstance(dir);
  await inst.start();
  return inst;
}

async function main(): Promise<void> {
  const tmp = await makePrivateTempDir('bench-exec');
  const instances: QemuInstance[] = [];
  try {
    const inst = await bootIn(tmp.dir, 'vm', new QemuManager());
    instances.push(inst);
    const agent = inst.client();
    let baseline: AgentClient | undefined;
    if (BASELINE_AGENT_DIR) {
      const image = await buildImage({ agentDir: path.resolve(BASELINE_AGENT_DIR) });
      const base = await bootIn(tmp.dir, 'baseline', new QemuManager({ image }));
      instances.push(base);
      baseline = base.client();
    }
    let id = 0;
    const execOnce = (a: AgentClient = agent) => execTrueMs(a, `true-${++id}`);
    const pingOnce = async () => {
      const t0 = performance.now();
      await agent.ping();
      return performance.now() - t0;
    };
    for (let i = 0; i < 10; i++) {
      await execOnce();
      if (baseline) await execOnce(baseline);
      await pingOnce();
    } // warm-up
    const execs: number[] = [];
    const baseExecs: number[] = [];
    const pings: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < PER_ROUND; i++) pings.push(await pingOnce());
      for (let i = 0; i < PER_ROUND; i++) {
        execs.push(await execOnce());
        if (baseline) baseExecs.push(await execOnce(baseline));
      }
    }
    const floor: number[] = [];
    for (let r = 0; r < ROUNDS; r++) floor.push(await guestSpawnMs(agent, `floor-${r}`));
    const m = { exec: median(execs), ping: median(pings), floor: median(floor) };
    printFigure({
      figure: 'exec-latency',
      accel: inst.accelerator,
      calls: execs.length,
      execTrueMedianMs: round(m.exec, 3),
      pingMedianMs: round(m.ping, 3),
      execP90Ms: round([...execs].sort((a, b) => a - b)[Math.floor(execs.length * 0.9)]!, 3),
      pingP90Ms: round([...pings].sort((a, b) => a - b)[Math.floor(pings.length * 0.9)]!, 3),
      guestSpawnTrueMs: round(m.floor, 3),
      vesselOverheadMs: round(m.exec - m.floor, 3),
      ratioExecOverPing: round(m.exec / m.ping, 3),
      ratioOverheadOverPing: round((m.exec - m.floor) / m.ping, 3),
      goal: '<= 3',
      ...(baseline
        ? {
            baselineAgentDir: path.resolve(BASELINE_AGENT_DIR!),
            baselineExecTrueMedianMs: round(median(baseExecs), 3),
            ratioExecOverBaseline: round(m.exec / median(baseExecs), 3),
          }
        : {}),
    });
  } finally {
    for (const i of instances) await i.shutdown();
    await tmp.remove();
  }
}

await main();
