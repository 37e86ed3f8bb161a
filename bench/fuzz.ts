// Figure: a long seeded fuzz run over every guest-facing decoder, >= 1,000,000 inputs in all.
// Counts uncaught exceptions and unhandled rejections process-wide as well as per-target
// findings and rejections per limit, and reports memory before and after. Prints one JSON
// object; exits 1 on any finding or on a limit that rejected no input.
import { runFuzz } from '../test/support/fuzz-engine.js';
import { allFuzzTargets } from '../test/support/fuzz-targets.js';
import { printFigure, round } from './stats.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
const TOTAL = Number(process.env.FUZZ_TOTAL ?? 1_050_000);
const ASYNC_SHARE = Number(process.env.FUZZ_ASYNC_PER_TARGET ?? 25_000);

let uncaught = 0;
let unhandled = 0;
process.on('uncaughtException', () => {
  uncaught++;
});
process.on('unhandledRejection', () => {
  unhandled++;
});

const targets = allFuzzTargets();
const asyncCount = targets.filter((t) => t.async).length;
const perSync = Math.ceil((TOTAL - ASYNC_SHARE * asyncCount) / (targets.length - asyncCount));

const memBefore = process.memoryUsage();
const reports = [];
for (const target of targets) {
  const iterations = target.async ? ASYNC_SHARE : perSync;
  const r = await runFuzz(target, { seed: SEED, iterations });
  reports.push({
    target: r.target,
    inputs: r.inputs,
    rejected: r.rejected,
    limitHits: r.limitHits,
    unhitLimits: r.unhitLimits,
    failures: r.failures,
    hangs: r.hangs,
    slowestMs: round(r.slowestMs),
    seconds: round(r.seconds),
    findings: r.findings.slice(0, 3),
  });
}
const memAfter = process.memoryUsage();
const inputs = reports.reduce((a, r) => a + r.inputs, 0);
const failures = reports.reduce((a, r) => a + r.failures, 0);
const unhitLimits = reports.flatMap((r) => r.unhitLimits.map((l) => `${r.target}: ${l}`));
printFigure({
  figure: 'fuzz',
  seed: SEED,
  inputs,
  failures,
  unhitLimits,
  uncaughtExceptions: uncaught,
  unhandledRejections: unhandled,
  hangs: reports.reduce((a, r) => a + r.hangs, 0),
  rssMiB: { before: round(memBefore.rss / 2 ** 20), after: round(memAfter.rss / 2 ** 20) },
  heapUsedMiB: { before: round(memBefore.heapUsed / 2 ** 20), after: round(memAfter.heapUsed / 2 ** 20) },
  targets: reports,
});
process.exitCode = failures + uncaught + unhandled + unhitLimits.length > 0 ? 1 : 0;
