// bench/soak, part 1: exec lifecycles on one VM through the TypeScript API (QemuManager
// instance, execWithStreams). Each exec runs the soak command (soak-share.ts: random bytes
// in on stdin must come back on stdout, a file of the VM's virtio-fs share on stderr) with
// stdin, stdout and stderr on raw streams. The host's fds and RSS (this process plus the VM's helper processes) are sampled
// after the warm-up and after the measured execs; the guest agent's fds and RSS too
// (informative: the guest is not the host, but a leak there shows up here first).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execWithStreams, type AgentClient } from '../src/agent/index.js';
import { QemuManager, type Instance } from '../src/vm/index.js';
import { checkInterrupted } from './ctr-bench.js';
import { countByComm, descendants, fdCount, growthPct, rssKiB } from './soak-host.js';
import { SHARE_TAG, SOAK_ARGS, makeShare, sha256, soakExecProblem } from './soak-share.js';
import { soakTempDir } from './soak-tmp.js';
import { bounded, shutdownInstance } from './soak-wait.js';
import { median, round } from './stats.js';

export interface ExecSoakOptions {
  /** Measured execs, between the two samples. */
  execs: number;
  warmup: number;
  payloadBytes: number;
  execTimeoutMs: number;
  /** How much the host's fd count and RSS may grow over the measured execs, in %. */
  growthBoundPct: number;
}

interface Ran {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
  signal: number;
  ms: number;
}

const GUEST_AGENT_ARGS = ['/bin/sh', '-c', 'ls /proc/1/fd | wc -l; sed -n "s/^VmRSS:[^0-9]*\\([0-9]*\\).*/\\1/p" /proc/1/status'];

/** One exec with its three stdio streams: `stdin` in, everything out, until it exited. */
async function run(agent: AgentClient, args: string[], stdin: Buffer, timeoutMs: number): Promise<Ran> {
  const t0 = performance.now();
  const exec = await bounded(execWithStreams(agent, { args }, { stdin: 'open', stdout: 'open', stderr: 'open' }), timeoutMs, `exec of ${args.join(' ')}`);
  try {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    exec.stdout!.on('data', (c: Buffer) => out.push(c));
    exec.stderr!.on('data', (c: Buffer) => err.push(c));
    exec.stdin!.end(stdin);
    const st = await bounded(exec.exited, timeoutMs, `the exit of ${args.join(' ')} (exec ${exec.execId})`);
    return { stdout: Buffer.concat(out), stderr: Buffer.concat(err), exitCode: st.exitCode, signal: st.signal, ms: performance.now() - t0 };
  } finally {
    exec.close();
  }
}

async function soakExec(agent: AgentClient, o: ExecSoakOptions): Promise<number> {
  const payload = crypto.randomBytes(o.payloadBytes);
  const r = await run(agent, SOAK_ARGS, payload, o.execTimeoutMs);
  const problem = soakExecProblem(payload, { ...r, stdoutSha256: sha256(r.stdout), stdoutBytes: r.stdout.length, stderr: r.stderr.toString() });
  if (problem) throw new Error(`soak exec ${problem}`);
  return r.ms;
}

async function guestAgentSample(agent: AgentClient, timeoutMs: number): Promise<{ fds: number; rssKiB: number }> {
  const r = await run(agent, GUEST_AGENT_ARGS, Buffer.alloc(0), timeoutMs);
  const [fds, rss] = r.stdout.toString().trim().split('\n').map(Number);
  if (r.exitCode !== 0 || !Number.isFinite(fds) || !Number.isFinite(rss)) throw new Error(`guest sample failed: ${r.stdout.toString()} ${r.stderr.toString()}`);
  // (the sampling shell and its `ls` hold none of the agent's fds: /proc/1 is the agent)
  return { fds: fds!, rssKiB: rss! };
}

interface HostSample {
  fds: Record<string, number> & { total: number };
  rssKiB: Record<string, number> & { total: number };
  helperPids: number[];
}

/** This process and its helper processes (every descendant: here, the VM's qemu and virtiofsd). */
function hostSample(): HostSample {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const helpers = descendants(process.pid);
  const fds: Record<string, number> = { self: fdCount('self') };
  const rss: Record<string, number> = { self: rssKiB('self') };
  for (const h of helpers) {
    fds[h.comm] = (fds[h.comm] ?? 0) + fdCount(h.pid);
    rss[h.comm] = (rss[h.comm] ?? 0) + rssKiB(h.pid);
  }
  const total = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);
  return { fds: { ...fds, total: total(fds) }, rssKiB: { ...rss, total: total(rss) }, helperPids: helpers.map((h) => h.pid).sort() };
}

export async function execSoak(o: ExecSoakOptions): Promise<{ figure: Record<string, unknown>; failures: string[] }> {
  const tmp = await soakTempDir('bench-soak-execs');
  let inst: Instance | undefined;
  try {
    const share = makeShare(tmp.dir);
    const stateDir = path.join(tmp.dir, 'vm');
    fs.mkdirSync(stateDir);
    inst = await new QemuManager().newInstance(stateDir);
    inst.addFS(SHARE_TAG, share);
    const started = await inst.start();
    const agent = inst.client();
    const helpers = countByComm(descendants(process.pid));
    for (let i = 0; i < o.warmup; i++) {
      checkInterrupted();
      await soakExec(agent, o);
    }
    const guestBefore = await guestAgentSample(agent, o.execTimeoutMs);
    const before = hostSample();
    const t0 = performance.now();
    const ms: number[] = [];
    for (let i = 0; i < o.execs; i++) {
      checkInterrupted();
      ms.push(await soakExec(agent, o));
    }
    const soakMs = performance.now() - t0;
    const after = hostSample();
    const guestAfter = await guestAgentSample(agent, o.execTimeoutMs);
    const sameHelpers = JSON.stringify(before.helperPids) === JSON.stringify(after.helperPids);
    const fdGrowth = round(growthPct(before.fds.total, after.fds.total), 2);
    const rssGrowth = round(growthPct(before.rssKiB.total, after.rssKiB.total), 2);
    const failures: string[] = [];
    if (fdGrowth > o.growthBoundPct) failures.push(`execs: the host's fd count grew ${fdGrowth} % (bound ${o.growthBoundPct} %)`);
    if (rssGrowth > o.growthBoundPct) failures.push(`execs: the host's RSS grew ${rssGrowth} % (bound ${o.growthBoundPct} %)`);
    if (!sameHelpers) failures.push('execs: the VM helper processes changed during the soak');
    const figure = {
      accel: started.accelerator,
      helpers,
      execs: o.execs,
      warmupExecs: o.warmup,
      payloadBytes: o.payloadBytes,
      ms: round(soakMs, 0),
      execMedianMs: round(median(ms), 2),
      execMaxMs: round(Math.max(...ms), 2),
      hostFds: { before: before.fds, after: after.fds, growthPct: fdGrowth },
      hostRssKiB: { before: before.rssKiB, after: after.rssKiB, growthPct: rssGrowth },
      bound: `<= ${o.growthBoundPct} %`,
      sameHelperProcesses: sameHelpers,
      guestAgent: { before: guestBefore, after: guestAfter },
    };
    return { figure, failures };
  } finally {
    if (inst) await shutdownInstance(inst);
    await tmp.remove();
  }
}
