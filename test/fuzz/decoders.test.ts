// Short, seeded fuzz pass over every guest-facing decoder (bench/fuzz runs >= 1,000,000 inputs).
// Goal per target: 0 unexpected exceptions, 0 hangs, 0 limit violations, and every limit it
// enforces seen rejecting inputs. Then the self-test: each target built with one limit
// LOOSER times looser than its checks expect must report findings naming that limit.
import { describe, expect, it } from 'vitest';
import { LOOSER, runFuzz } from '../support/fuzz-engine.js';
import { allFuzzTargets } from '../support/fuzz-targets.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const SYNC_ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 100_000);
const ASYNC_ITERATIONS = Number(process.env.FUZZ_ASYNC_ITERATIONS ?? 5_000);
/** Enough for the seeds (run first, as is) and some of their mutations. */
const SELF_TEST_ITERATIONS = 200;

describe('fuzz: guest-facing decoders', () => {
  for (const target of allFuzzTargets()) {
    const iterations = target.async ? ASYNC_ITERATIONS : SYNC_ITERATIONS;
    it(`${target.name}: no crash, no hang, limits hold and are hit`, async () => {
      const report = await runFuzz(target, { seed: SEED, iterations });
      console.log(JSON.stringify({ ...report, findings: report.findings.slice(0, 3) }));
      expect(report.inputs).toBe(iterations);
      expect(report.findings).toEqual([]);
      expect(report.failures).toBe(0);
      expect(report.hangs).toBe(0);
      expect(report.unhitLimits).toEqual([]);
      expect(Object.keys(report.limitHits)).toEqual(target.limits);
    }, 180_000);
  }
});

describe(`fuzz self-test: a limit loosened ${LOOSER}x is caught`, () => {
  for (const target of allFuzzTargets()) {
    for (const limit of target.limits) {
      it(`${target.name}: ${limit}`, async () => {
        const loose = allFuzzTargets({ loosen: limit }).find((t) => t.name === target.name)!;
        const report = await runFuzz(loose, { seed: SEED, iterations: SELF_TEST_ITERATIONS });
        console.log(JSON.stringify({ target: report.target, loosened: limit, failures: report.failures, finding: report.findings[0]?.error.split('\n')[0] }));
        expect(report.failures).toBeGreaterThan(0);
        expect(report.findings[0]?.error).toContain(limit);
      }, 60_000);
    }
  }
});
