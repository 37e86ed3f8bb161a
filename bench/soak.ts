// Figure: soak (issue 12, "Faults and soak"). Three parts, one JSON object:
//   execs:    BENCH_SOAK_EXECS (500) exec lifecycles on one VM through the TypeScript API,
//             after BENCH_SOAK_EXEC_WARMUP (50): the host's fd count and RSS (this process
//             plus the VM's qemu and virtiofsd) may grow at most 5 % (soak-execs.ts);
//   cycles:   BENCH_SOAK_CYCLES (100) create → exec → rm cycles through the gRPC API of a real
//             `vessel serve` on a unix socket, after BENCH_SOAK_CYCLE_WARMUP (2): no process,
//             fd (+2 at most), mount or directory left (soak-cycles.ts);
//   parallel: BENCH_SOAK_VMS (16) VMs at once under that daemon, each moving BENCH_SOAK_MIB
//             (16) MiB through Exec stdin → cat → stdout: every checksum exact; wall time
//             and per-VM MiB/s (soak-parallel.ts). BENCH_SOAK_BOOT_CONCURRENCY (4) VMs boot
//             at a time.
// A count of 0 skips its part. Exits 1, naming each bound exceeded, after printing the
// figure. Cleanup on every path (a failure, SIGINT/SIGTERM/SIGHUP: exit 128+N): the VM is
// shut down, the daemon stopped (it shuts its VMs down), anything left under its home
// killed, temporary dirs removed; a second signal exits at once (the helpers die with their
// owners through pdeathsig, the daemon stops on its own).
import os from 'node:os';
import { handleSignals, runBench } from './ctr-bench.js';
import { cycleSoak } from './soak-cycles.js';
import { startSoakDaemon } from './soak-daemon.js';
import { execSoak } from './soak-execs.js';
import { parallelSoak } from './soak-parallel.js';
import { makeShare } from './soak-share.js';
import { soakTempDir } from './soak-tmp.js';
import { printFigure, round } from './stats.js';

const count = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name} must be a whole number, got ${process.env[name]}`);
  return v;
};

const EXECS = count('BENCH_SOAK_EXECS', 500);
const EXEC_WARMUP = count('BENCH_SOAK_EXEC_WARMUP', 50);
const CYCLES = count('BENCH_SOAK_CYCLES', 100);
const CYCLE_WARMUP = count('BENCH_SOAK_CYCLE_WARMUP', 2);
const VMS = count('BENCH_SOAK_VMS', 16);
const MIB = count('BENCH_SOAK_MIB', 16);
const BOOT_CONCURRENCY = Math.max(1, count('BENCH_SOAK_BOOT_CONCURRENCY', 4));

/** The bound on the growth of host fds and RSS over the exec soak. */
const GROWTH_BOUND_PCT = 5;
/** How many more fds the daemon may hold after the cycles than after their warm-up. */
const DAEMON_FD_SLACK = 2;
const PAYLOAD_BYTES = 4096;
const START_TIMEOUT_MS = 240_000; // a TCG boot on a loaded 2-core host, with room
const EXEC_TIMEOUT_MS = 60_000;
const TRANSFER_TIMEOUT_MS = 900_000;

handleSignals('soak');

async function main(): Promise<void> {
  const t0 = performance.now();
  const figure: Record<string, unknown> = { figure: 'soak' };
  const failures: string[] = [];
  if (EXECS > 0) {
    const r = await execSoak({
      execs: EXECS,
      warmup: EXEC_WARMUP,
      payloadBytes: PAYLOAD_BYTES,
      execTimeoutMs: EXEC_TIMEOUT_MS,
      growthBoundPct: GROWTH_BOUND_PCT,
    });
    figure.execs = r.figure;
    failures.push(...r.failures);
  }
  if (CYCLES > 0 || VMS > 0) {
    const tmp = await soakTempDir('bench-soak');
    try {
      const share = makeShare(tmp.dir);
      const daemon = await startSoakDaemon(60_000);
      let finished = false;
      try {
        if (CYCLES > 0) {
          const r = await cycleSoak(daemon, share, {
            cycles: CYCLES,
            warmup: CYCLE_WARMUP,
            payloadBytes: PAYLOAD_BYTES,
            startTimeoutMs: START_TIMEOUT_MS,
            execTimeoutMs: EXEC_TIMEOUT_MS,
            fdSlack: DAEMON_FD_SLACK,
          });
          figure.cycles = r.figure;
          failures.push(...r.failures);
        }
        if (VMS > 0) {
          const r = await parallelSoak(daemon, {
            vms: VMS,
            mib: MIB,
            bootConcurrency: BOOT_CONCURRENCY,
            startTimeoutMs: START_TIMEOUT_MS,
            transferTimeoutMs: TRANSFER_TIMEOUT_MS,
          });
          figure.parallel = r.figure;
          failures.push(...r.failures);
        }
        finished = true;
      } finally {
        const end = await daemon.stop();
        if (!finished)
          process.stderr.write(
            `bench soak: vessel serve stopped in ${round(end.stopMs, 0)} ms (${end.code ?? end.signal}); left under its home: ${JSON.stringify(end.leftover)}\n`,
          );
        figure.daemonStop = { code: end.code, signal: end.signal, ms: round(end.stopMs, 0), leftover: end.leftover };
        if (end.code !== 0) failures.push(`daemon: vessel serve ended with ${end.code ?? end.signal} after SIGTERM; log tail: ${daemon.log().slice(-2000)}`);
        if (end.leftover.length) failures.push(`daemon: processes left under its home after it exited (killed): ${JSON.stringify(end.leftover)}`);
      }
    } finally {
      await tmp.remove();
    }
  }
  figure.loadAverage1m = round(os.loadavg()[0]!);
  figure.totalMs = round(performance.now() - t0, 0);
  figure.failures = failures;
  printFigure(figure);
  if (failures.length) throw new Error(`soak bounds exceeded:\n  ${failures.join('\n  ')}`);
}

await runBench('soak', main);
