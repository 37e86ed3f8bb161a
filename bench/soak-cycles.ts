// bench/soak, part 2: create → exec → rm cycles through the gRPC API of a real `vessel serve`.
// Each cycle: CreateInstance, AddFS of the soak share (read-only and read-write in turn: the
// read-only share runs virtiofsd in a private mount namespace), Start, one Exec of the soak
// command (soak-share.ts) fed random bytes as stdin messages, checked, DeleteInstance. After a warm-up the daemon is sampled; after
// the measured cycles it must hold no child process (zombies included), no process may run
// under its home but itself, its fd count must be back within `fdSlack` of the sample, its
// instances dir empty, no new entry under its home, and no mount under its home (in the
// host's namespace and the daemon's).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { processesOf } from '../test/cli/helpers.js';
import { checkInterrupted } from './ctr-bench.js';
import type { SoakDaemon } from './soak-daemon.js';
import { callWithin, execPiped } from './soak-grpc.js';
import { SHARE_TAG, SOAK_ARGS, soakExecProblem } from './soak-share.js';
import { countByComm, descendants, fdCount, growthPct, mountsUnder, rssKiB } from './soak-host.js';
import { median, round } from './stats.js';

export interface CycleSoakOptions {
  cycles: number;
  warmup: number;
  payloadBytes: number;
  startTimeoutMs: number;
  execTimeoutMs: number;
  /** How many more fds than after the warm-up the daemon may hold at the end. */
  fdSlack: number;
}

const UNARY_MS = 30_000;

async function cycle(d: SoakDaemon, share: string, n: number, o: CycleSoakOptions): Promise<number> {
  const t0 = performance.now();
  const { manager, instance } = d.clients;
  const instanceId = `cycle-${n}`;
  await callWithin(manager, 'CreateInstance', { id: instanceId }, UNARY_MS);
  await callWithin(instance, 'AddFS', { instanceId, tag: SHARE_TAG, hostPath: share, readOnly: n % 2 === 0 }, UNARY_MS);
  await callWithin(instance, 'Start', { instanceId }, o.startTimeoutMs);
  const payload = crypto.randomBytes(o.payloadBytes);
  const problem = soakExecProblem(payload, await execPiped(instance, instanceId, SOAK_ARGS, [payload], o.execTimeoutMs));
  if (problem) throw new Error(`cycle ${n}: the exec ${problem}`);
  await callWithin(manager, 'DeleteInstance', { instanceId }, o.startTimeoutMs);
  return performance.now() - t0;
}

/** Entries under `dir`, recursively, as relative paths; symlinks are listed, not followed. */
function entriesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).sort();
}

function daemonSample(d: SoakDaemon) {
  return { fds: fdCount(d.pid), rssKiB: rssKiB(d.pid), children: descendants(d.pid) };
}

export async function cycleSoak(d: SoakDaemon, share: string, o: CycleSoakOptions): Promise<{ figure: Record<string, unknown>; failures: string[] }> {
  let n = 0;
  for (let i = 0; i < o.warmup; i++) {
    checkInterrupted();
    await cycle(d, share, ++n, o);
  }
  const before = daemonSample(d);
  const homeBefore = entriesUnder(d.home.dir);
  const t0 = performance.now();
  const ms: number[] = [];
  for (let i = 0; i < o.cycles; i++) {
    checkInterrupted();
    ms.push(await cycle(d, share, ++n, o));
  }
  const soakMs = performance.now() - t0;
  const after = daemonSample(d);
  const listed = await callWithin(d.clients.manager, 'ListInstances', {}, UNARY_MS);
  const instancesDir = path.join(d.home.dir, 'daemon', 'instances');
  const left = {
    daemonChildren: countByComm(after.children),
    otherProcessesUnderHome: processesOf(d.home).filter((p) => p.pid !== d.pid),
    instancesListed: listed.instances.map((i: { id: string }) => i.id),
    instancesDirEntries: fs.existsSync(instancesDir) ? fs.readdirSync(instancesDir) : [],
    newHomeEntries: entriesUnder(d.home.dir).filter((e) => !homeBefore.includes(e)),
    mounts: [...new Set([...mountsUnder(d.home.dir), ...mountsUnder(d.home.dir, d.pid), ...mountsUnder(share), ...mountsUnder(share, d.pid)])],
  };
  const failures: string[] = [];
  if (after.children.length) failures.push(`cycles: the daemon still has child processes: ${JSON.stringify(left.daemonChildren)}`);
  if (left.otherProcessesUnderHome.length)
    failures.push(`cycles: processes still run under the daemon's home: ${JSON.stringify(left.otherProcessesUnderHome)}`);
  if (after.fds - before.fds > o.fdSlack) failures.push(`cycles: the daemon's fds grew ${before.fds} → ${after.fds} (bound: +${o.fdSlack})`);
  if (left.instancesListed.length) failures.push(`cycles: the daemon still lists instances ${left.instancesListed.join(', ')}`);
  if (left.instancesDirEntries.length) failures.push(`cycles: left in the instances dir: ${left.instancesDirEntries.join(', ')}`);
  if (left.newHomeEntries.length) failures.push(`cycles: new entries under the daemon's home: ${left.newHomeEntries.slice(0, 20).join(', ')}`);
  if (left.mounts.length) failures.push(`cycles: mounts left: ${left.mounts.join(', ')}`);
  return {
    figure: {
      cycles: o.cycles,
      warmupCycles: o.warmup,
      payloadBytes: o.payloadBytes,
      ms: round(soakMs, 0),
      cycleMedianMs: round(median(ms), 0),
      cycleMaxMs: round(Math.max(...ms), 0),
      daemonFds: { before: before.fds, after: after.fds, growth: after.fds - before.fds, bound: `+${o.fdSlack}` },
      daemonRssKiB: { before: before.rssKiB, after: after.rssKiB, growthPct: round(growthPct(before.rssKiB, after.rssKiB), 2) },
      left,
    },
    failures,
  };
}
