// bench/soak, part 3: many VMs at once under one daemon, each moving the same amount of
// random bytes through Exec stdin → `cat` → stdout messages (every byte hashed on both
// sides). The VMs boot a few at a time (all booting at once on a small TCG host only slows
// each boot past its deadline), then every transfer starts together. Every VM's sha256 and
// byte count must match what was sent; the wall time of all transfers and each VM's MiB/s
// are reported. Then every VM is deleted and the daemon must hold no child process.
import crypto from 'node:crypto';
import { checkInterrupted } from './ctr-bench.js';
import type { SoakDaemon } from './soak-daemon.js';
import { callWithin, execPiped } from './soak-grpc.js';
import { countByComm, descendants, rssKiB } from './soak-host.js';
import { median, round } from './stats.js';

export interface ParallelSoakOptions {
  vms: number;
  mib: number;
  bootConcurrency: number;
  startTimeoutMs: number;
  transferTimeoutMs: number;
}

const CHUNK = 64 * 1024;
const UNARY_MS = 30_000;

/** `mib` MiB of random bytes in 64 KiB chunks, hashed into `hash` as they are handed out. */
function* randomInput(mib: number, hash: crypto.Hash): Iterable<Buffer> {
  for (let sent = 0; sent < mib * 2 ** 20; sent += CHUNK) {
    const chunk = crypto.randomBytes(CHUNK);
    hash.update(chunk);
    yield chunk;
  }
}

/** Runs `f` on every item, at most `limit` at a time; rejects with the first failure. */
async function pool<T>(items: T[], limit: number, f: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
        checkInterrupted();
        await f(item);
      }
    }),
  );
}

interface Transfer {
  id: string;
  exact: boolean;
  ms: number;
  mibps: number;
  problem?: string;
}

async function transfer(d: SoakDaemon, id: string, o: ParallelSoakOptions): Promise<Transfer> {
  const sent = crypto.createHash('sha256');
  const r = await execPiped(d.clients.instance, id, ['cat'], randomInput(o.mib, sent), o.transferTimeoutMs);
  const want = sent.digest('hex');
  const bytes = o.mib * 2 ** 20;
  const problem =
    r.exitCode !== 0 || r.signal !== 0
      ? `cat exited ${r.exitCode} (signal ${r.signal}): ${r.stderr.slice(0, 400)}`
      : r.stdoutBytes !== bytes
        ? `${r.stdoutBytes} bytes came back of ${bytes}`
        : r.stdoutSha256 !== want
          ? `sha256 ${r.stdoutSha256} differs from the input's ${want}`
          : undefined;
  return { id, exact: problem === undefined, ms: r.ms, mibps: o.mib / (r.ms / 1000), ...(problem ? { problem } : {}) };
}

export async function parallelSoak(d: SoakDaemon, o: ParallelSoakOptions): Promise<{ figure: Record<string, unknown>; failures: string[] }> {
  const { manager, instance } = d.clients;
  const ids = Array.from({ length: o.vms }, (_, i) => `parallel-${i}`);
  for (const id of ids) await callWithin(manager, 'CreateInstance', { id }, UNARY_MS);
  const b0 = performance.now();
  await pool(ids, o.bootConcurrency, async (instanceId) => {
    await callWithin(instance, 'Start', { instanceId }, o.startTimeoutMs);
  });
  const bootMs = performance.now() - b0;
  const running = countByComm(descendants(d.pid));
  const rssBefore = rssKiB(d.pid);
  const t0 = performance.now();
  const settled = await Promise.allSettled(ids.map((id) => transfer(d, id, o)));
  const wallMs = performance.now() - t0;
  const rssAfter = rssKiB(d.pid);
  const transfers = settled.map((s, i): Transfer =>
    s.status === 'fulfilled' ? s.value : { id: ids[i]!, exact: false, ms: NaN, mibps: NaN, problem: String(s.reason) },
  );
  for (const instanceId of ids) await callWithin(manager, 'DeleteInstance', { instanceId }, o.startTimeoutMs);
  const left = descendants(d.pid);
  const failures = transfers.filter((t) => !t.exact).map((t) => `parallel: ${t.id}: ${t.problem}`);
  if (left.length) failures.push(`parallel: the daemon still has child processes after DeleteInstance: ${JSON.stringify(countByComm(left))}`);
  const rates = transfers.filter((t) => t.exact).map((t) => t.mibps);
  return {
    figure: {
      vms: o.vms,
      mibEach: o.mib,
      bootConcurrency: o.bootConcurrency,
      bootAllMs: round(bootMs, 0),
      helpersWhileRunning: running,
      exact: `${transfers.filter((t) => t.exact).length}/${o.vms}`,
      wallMs: round(wallMs, 0),
      aggregateMiBps: round((o.vms * o.mib) / (wallMs / 1000), 2),
      perVmMiBps: transfers.map((t) => round(t.mibps, 2)),
      perVmMedianMiBps: round(median(rates), 2),
      perVmMinMiBps: round(Math.min(...rates), 2),
      daemonRssKiB: { beforeTransfers: rssBefore, afterTransfers: rssAfter },
    },
    failures,
  };
}
