// Short, seeded fuzz pass over every guest-facing decoder (bench/fuzz runs >= 1,000,000 inputs).
// Goal per target: 0 unexpected exceptions, 0 hangs, 0 limit violations.
import { describe, expect, it } from 'vitest';
import { runFuzz } from '../support/fuzz-engine.js';
import { allFuzzTargets } from '../support/fuzz-targets.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const SYNC_ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 100_000);
const ASYNC_ITERATIONS = Number(process.env.FUZZ_ASYNC_ITERATIONS ?? 5_000);

describe('fuzz: guest-facing decoders', () => {
  for (const target of allFuzzTargets()) {
    const isAsync = target.name === 'mux-session' || target.name === 'ttrpc-server';
    it(`${target.name}: no crash, no hang, limits hold`, async () => {
      const report = await runFuzz(target, { seed: SEED, iterations: isAsync ? ASYNC_ITERATIONS : SYNC_ITERATIONS });
      console.log(JSON.stringify({ ...report, findings: report.findings.slice(0, 3) }));
      expect(report.inputs).toBe(isAsync ? ASYNC_ITERATIONS : SYNC_ITERATIONS);
      expect(report.findings).toEqual([]);
      expect(report.failures).toBe(0);
      expect(report.hangs).toBe(0);
    }, 180_000);
  }
});
