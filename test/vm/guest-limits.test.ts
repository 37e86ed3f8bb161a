// The agent keeps control of its guest (agent/internal/workload), on a real VM (the default
// 256 MiB, one vCPU): every exec runs in a cgroup of its own below the workload subtree
// /vessel, whose memory.max and pids.max leave the agent its reserve; the agent has
// oom_score_adj -1000 and its children 0. Under a fork bomb and under a memory hog the agent
// answers Ping within 1 s (median of 10) and ends the workload; an OOM kill is reported as
// such (137 and oom_killed), by the agent and by `vessel run`.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentClient } from '../../src/agent/index.js';
import { runCli } from '../../src/cli/index.js';
import { QemuManager, type QemuInstance } from '../../src/vm/index.js';
import { newTestManager } from '../support/backend.js';
import { shInGuest } from '../support/guest-exec.js';
import { makePrivateTempDir } from '../support/tmpdir.js';
import { sink, useTestHome, type TestHome } from '../cli/helpers.js';

const SIGKILL = 9;
const CG = '/sys/fs/cgroup/vessel';
/** The agent's reserve (agent/internal/workload/defaults.go). */
const TASK_RESERVE = 256;
const MEMORY_RESERVE = 32 << 20;

let tmp: { dir: string; remove: () => Promise<void> };
let inst: QemuInstance;
let agent: AgentClient;
let n = 0;
const nextId = (what: string) => `${what}-${++n}`;

beforeAll(async () => {
  tmp = await makePrivateTempDir('guest-limits');
  const dir = path.join(tmp.dir, 'vm');
  fs.mkdirSync(dir);
  inst = await new QemuManager().newInstance(dir);
  await inst.start();
  agent = inst.client();
}, 240_000);

afterAll(async () => {
  await inst?.shutdown({ now: true });
  await tmp?.remove();
});

/** Ten Pings one after another, in ms each. */
async function pings(count = 10): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await agent.ping({ timeoutMs: 30_000 });
    out.push(performance.now() - t0);
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** A file of the workload subtree, read by the agent itself (WaitFile: no process is started). */
async function subtreeFile(name: string): Promise<string> {
  return (await agent.waitFile({ path: `${CG}/${name}` })).toString();
}

/** A `key N` line's N (memory.events, pids.events). */
function counter(text: string, key: string): number {
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  if (m === null) throw new Error(`no ${key} in ${JSON.stringify(text)}`);
  return Number(m[1]);
}

/** Checks `condition` every 50 ms until it holds; fails after `timeoutMs`. */
async function until(condition: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

describe('the workload subtree', () => {
  it('each exec is born in a cgroup of its own below /vessel/exec, at oom_score_adj 0 (the agent: -1000)', async () => {
    const out = await shInGuest(inst, 'cat /proc/self/cgroup /proc/self/oom_score_adj /proc/1/oom_score_adj');
    const [cgroupLine, own, agentScore] = out.trim().split('\n');
    expect(cgroupLine).toMatch(/^0::\/vessel\/exec\/exec@\d+$/);
    expect(own).toBe('0');
    expect(agentScore).toBe('-1000');
    // one running exec and another beside it: two cgroups
    const running = nextId('running');
    await agent.exec({ execId: running, args: ['/bin/sh', '-c', 'cat /proc/self/cgroup > /tmp/cg.new; mv /tmp/cg.new /tmp/running.cg; exec sleep 1000'] });
    try {
      const first = (await agent.waitFile({ path: '/tmp/running.cg', whileExecId: running })).toString();
      const second = await shInGuest(inst, 'cat /proc/self/cgroup');
      expect(first).toMatch(/^0::\/vessel\/exec\/exec@\d+\n$/);
      expect(second).toMatch(/^0::\/vessel\/exec\/exec@\d+\n$/);
      expect(second).not.toBe(first);
    } finally {
      await agent.signal(running, SIGKILL);
      await agent.wait(running);
    }
    // an empty cgroup without limits of its own is kept for the next execs: five execs one
    // after another need fewer than five
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) seen.add(await shInGuest(inst, 'cat /proc/self/cgroup'));
    expect(seen.size).toBeLessThan(5);
  });

  it('the subtree keeps the reserve: pids.max below min(pid_max, threads-max), memory.max below MemTotal', async () => {
    const [pidsMax, memoryMax, pidMax, threadsMax] = (
      await shInGuest(inst, `cat ${CG}/pids.max ${CG}/memory.max /proc/sys/kernel/pid_max /proc/sys/kernel/threads-max`)
    )
      .trim()
      .split('\n')
      .map(Number);
    expect(pidsMax).toBe(Math.min(pidMax!, threadsMax!) - TASK_RESERVE);
    const { memoryTotalBytes } = await agent.info();
    expect(memoryMax).toBeLessThanOrEqual(Number(memoryTotalBytes) - MEMORY_RESERVE);
    expect(memoryMax).toBeGreaterThan(Number(memoryTotalBytes) / 2);
    expect(await shInGuest(inst, 'cat /sys/fs/cgroup/cgroup.subtree_control')).toMatch(/\bmemory\b.*\bpids\b/);
  });

  it('CPU time by priority: every agent thread SCHED_BATCH at nice -20, an exec (and what it starts) SCHED_NORMAL at 0', async () => {
    // fields 19 and 41 of stat: nice and policy (SCHED_NORMAL 0, SCHED_BATCH 3); the comm
    // (field 2) of these threads has no spaces
    const agentThreads = (await shInGuest(inst, 'for t in /proc/1/task/*/stat; do cut -d" " -f19,41 $t; done')).trim().split('\n');
    // a thread of the boot's background work (loading the remaining modules) may still be
    // there, SCHED_IDLE (5) on purpose
    const serving = agentThreads.filter((t) => !t.endsWith(' 5'));
    expect(serving.length).toBeGreaterThan(1);
    expect(new Set(serving)).toEqual(new Set(['-20 3']));
    const children = await shInGuest(inst, 'cut -d" " -f19,41 /proc/$$/stat; sh -c \'cut -d" " -f19,41 /proc/$$/stat\'');
    expect(children.trim().split('\n')).toEqual(['0 0', '0 0']);
  });

  it('an exec with limits of its own gets them; beyond its memory.max it is OOM-killed: 137, oom_killed', async () => {
    const id = nextId('limits');
    const ex = await agent.exec({
      execId: id,
      args: ['/bin/sh', '-c', 'cg=/sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup); cat $cg/memory.max $cg/pids.max > /tmp/limits; echo $cg > /tmp/limits.cg'],
      memoryMaxBytes: BigInt(32 << 20),
      pidsMax: 16,
    });
    expect(ex.pid).toBeGreaterThan(1);
    expect(await agent.wait(id)).toMatchObject({ exitCode: 0, signal: 0, oomKilled: false });
    expect(await shInGuest(inst, 'cat /tmp/limits')).toBe(`${32 << 20}\n16\n`);
    // a cgroup with limits is not kept for another exec: it is gone once the exec ended
    expect(await shInGuest(inst, 'test -e $(cat /tmp/limits.cg) && echo left || echo gone')).toBe('gone\n');

    // dd's buffer is one 64 MiB allocation, filled by one read of /dev/zero
    const hog = nextId('hog');
    await agent.exec({ execId: hog, args: ['/bin/dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1'], memoryMaxBytes: BigInt(32 << 20) });
    expect(await agent.wait(hog, { timeoutMs: 60_000 })).toMatchObject({ exitCode: 137, signal: SIGKILL, oomKilled: true });

    // a SIGKILL that is not the OOM killer's is no OOM kill
    const killed = nextId('killed');
    await agent.exec({ execId: killed, args: ['/bin/sh', '-c', 'kill -9 $$'], memoryMaxBytes: BigInt(32 << 20) });
    expect(await agent.wait(killed)).toMatchObject({ exitCode: 137, signal: SIGKILL, oomKilled: false });
  });

  it('a memory limit below 1 MiB is refused (the agent: INVALID_ARGUMENT, which the client reports as a command that cannot run)', async () => {
    await expect(agent.exec({ execId: nextId('tiny'), args: ['/bin/true'], memoryMaxBytes: 4096n })).rejects.toThrow(/memory_max_bytes 4096 is below 1048576/);
  });
});

describe('hostile workloads', () => {
  it('a fork bomb: Ping stays under 1 s (median of 10), a Signal to its group ends it, Wait returns, the agent reaps it all, and a new exec runs', async () => {
    const hitsBefore = counter(await subtreeFile('memory.events'), 'max');
    const id = nextId('bomb');
    // The shell that starts the bomb takes oom_score_adj -1000 after its one fork, so the OOM
    // killer leaves the process this test signals (the bomb's own processes stay at 0).
    await agent.exec({ execId: id, args: ['/bin/sh', '-c', 'f(){ f | f & }; f; echo -1000 > /proc/self/oom_score_adj; exec sleep 1000'] });
    // at the limits: tasks within 5 % of pids.max, or memory at memory.max (a refused fork
    // counts in pids.events of the forking task's own cgroup, the bomb's leaf, not here)
    const pidsMax = Number(await subtreeFile('pids.max'));
    const atLimits = async () => Number(await subtreeFile('pids.current')) >= pidsMax * 0.95 || counter(await subtreeFile('memory.events'), 'max') > hitsBefore;
    await until(atLimits, 'the fork bomb to reach the workloads’ limits', 180_000);
    const ms = await pings();
    const tasks = Number(await subtreeFile('pids.current'));
    console.log(JSON.stringify({ figure: 'ping-under-fork-bomb', medianMs: Math.round(median(ms)), maxMs: Math.round(Math.max(...ms)), tasks }));
    expect(tasks).toBeGreaterThan(100);
    expect(median(ms)).toBeLessThan(1000);

    await agent.signal(id, SIGKILL, true);
    expect(await agent.wait(id, { timeoutMs: 30_000 })).toMatchObject({ exitCode: 137, signal: SIGKILL, oomKilled: false });
    await until(async () => Number(await subtreeFile('pids.current')) === 0, 'the agent to reap the bomb', 60_000);
    expect(await shInGuest(inst, 'echo runs')).toBe('runs\n');
  }, 300_000);

  it('a memory hog at the subtree limit: OOM-killed (137, oom_killed) while Ping stays under 1 s; SignalAll ends a looping one', async () => {
    const memoryMax = Number(await subtreeFile('memory.max'));
    // one allocation 16 MiB beyond the subtree's memory.max (still below MemTotal, which
    // the kernel's overcommit heuristic would refuse outright)
    const bs = `bs=${Math.ceil(memoryMax / 2 ** 20) + 16}M`;
    const hog = nextId('hog');
    await agent.exec({ execId: hog, args: ['/bin/dd', 'if=/dev/zero', 'of=/dev/null', bs, 'count=1'] });
    expect(await agent.wait(hog, { timeoutMs: 60_000 })).toMatchObject({ exitCode: 137, signal: SIGKILL, oomKilled: true });

    const loop = nextId('hog-loop');
    await agent.exec({ execId: loop, args: ['/bin/sh', '-c', `while :; do dd if=/dev/zero of=/dev/null ${bs} count=1 2>/dev/null; done`] });
    // measured while the loop keeps hitting the limit: two more OOM kills at least
    const kills = async () => counter(await subtreeFile('memory.events'), 'oom_kill');
    const before = await kills();
    await until(async () => (await kills()) >= before + 2, 'the looping hog to be OOM-killed twice', 120_000);
    const ms = await pings();
    const during = (await kills()) - before;
    console.log(JSON.stringify({ figure: 'ping-under-memory-hog', medianMs: Math.round(median(ms)), maxMs: Math.round(Math.max(...ms)), oomKills: during }));
    expect(median(ms)).toBeLessThan(1000);

    await agent.signalAll(SIGKILL);
    expect(await agent.wait(loop, { timeoutMs: 30_000 })).toMatchObject({ signal: SIGKILL, oomKilled: false });
    expect(await shInGuest(inst, 'echo alive')).toBe('alive\n');
  }, 300_000);
});

describe('vessel run', () => {
  let home: TestHome;
  beforeAll(async () => {
    home = await useTestHome();
  }, 600_000);
  afterAll(async () => {
    await home?.restore();
  });

  it('says the guest OOM killer ended the command, and exits 137', async () => {
    const out = sink();
    const err = sink();
    const code = await runCli(
      ['run', '--', 'sh', '-c', 'cat /sys/fs/cgroup/vessel/memory.max; exec dd if=/dev/zero of=/dev/null bs=200M count=1'],
      newTestManager,
      out,
      err,
      {},
    );
    expect(code).toBe(137);
    expect(Number(out.text())).toBeLessThan(200 << 20);
    expect(err.text()).toContain("vessel run: sh: killed by the guest's OOM killer (out of memory)");
  }, 240_000);
});
