// A small deterministic fuzzing engine: seeded PRNG, structure-blind mutators over a corpus of
// valid inputs, and a driver that counts inputs, unexpected exceptions, slow (hung) inputs and
// the rejections of each limit a target enforces. Every corpus input runs once as is before
// mutation starts, so seeds built at and just over a limit are always tried.
// Used by test/fuzz (a short pass in CI) and bench/fuzz (>= 1,000,000 inputs).

/** mulberry32: tiny, fast, deterministic. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  int(n: number): number {
    return n <= 1 ? 0 : this.next() % n;
  }
  chance(p: number): boolean {
    return this.next() / 2 ** 32 < p;
  }
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

const INTERESTING_32 = [
  0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x3ffff, 0x40000, 0x40001, 0x3fffff, 0x400000, 0x400001, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
];

/** Applies 1..4 random mutations to a copy of `input`. */
export function mutate(rng: Rng, input: Buffer, maxLength = 1 << 16): Buffer {
  let buf: Buffer = Buffer.from(input.subarray(0, maxLength));
  const rounds = 1 + rng.int(4);
  for (let r = 0; r < rounds; r++) {
    switch (rng.int(9)) {
      case 0: // flip a bit
        if (buf.length) buf[rng.int(buf.length)]! ^= 1 << rng.int(8);
        break;
      case 1: // random byte
        if (buf.length) buf[rng.int(buf.length)] = rng.next() & 0xff;
        break;
      case 2: // interesting 32-bit big-endian value (lengths, ids)
        if (buf.length >= 4) buf.writeUInt32BE(rng.pick(INTERESTING_32), rng.int(buf.length - 3));
        break;
      case 3: // interesting byte (types, flags, versions)
        if (buf.length) buf[rng.int(buf.length)] = rng.pick([0, 1, 2, 3, 4, 5, 8, 0x0f, 0x7f, 0x80, 0xff]);
        break;
      case 4: {
        // delete a range
        if (!buf.length) break;
        const at = rng.int(buf.length);
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + 1 + rng.int(Math.min(64, buf.length - at)))]);
        break;
      }
      case 5: {
        // insert random bytes
        const at = rng.int(buf.length + 1);
        buf = Buffer.concat([buf.subarray(0, at), rng.bytes(1 + rng.int(32)), buf.subarray(at)]);
        break;
      }
      case 6: {
        // duplicate a range (repeats frames)
        if (!buf.length) break;
        const at = rng.int(buf.length);
        const len = 1 + rng.int(Math.min(256, buf.length - at));
        buf = Buffer.concat([buf, buf.subarray(at, at + len)]);
        break;
      }
      case 7: // truncate
        buf = buf.subarray(0, rng.int(buf.length + 1));
        break;
      case 8: // entirely random input
        buf = rng.bytes(rng.int(256));
        break;
    }
    if (buf.length > maxLength) buf = buf.subarray(0, maxLength);
  }
  return buf;
}

/** Splits an input into 1..8 chunks at random points (exercises incremental decoders). */
export function chunked(rng: Rng, input: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let pos = 0;
  const cuts = rng.int(8);
  for (let i = 0; i < cuts && pos < input.length; i++) {
    const n = 1 + rng.int(input.length - pos);
    parts.push(input.subarray(pos, pos + n));
    pos += n;
  }
  if (pos < input.length) parts.push(input.subarray(pos));
  return parts;
}

/** Records that an input was rejected by the named limit. */
export type LimitTally = (limit: string) => void;

export interface FuzzTarget {
  readonly name: string;
  /** run() returns a promise (a whole session or server): far fewer inputs per second. */
  readonly async: boolean;
  /** The limits this target enforces; a run must see each of them reject some input. */
  readonly limits: readonly string[];
  /** Valid inputs to mutate, including inputs at and just over each limit; built once from the seed. */
  corpus(rng: Rng): Buffer[];
  /**
   * Runs one input. Throwing an error that `expected(err)` accepts is a correct rejection;
   * anything else thrown is a finding. Async targets must settle by themselves (a guard
   * timer turns a target that does not settle into a reported hang). Rejections that are
   * not thrown (a refusal written to the peer) are reported through `tally`.
   */
  run(input: Buffer, rng: Rng, tally: LimitTally): void | Promise<void>;
  expected(err: unknown): boolean;
  /** The limit behind an expected rejection, if a limit caused it. */
  limitOf?(err: unknown): string | undefined;
  /** Called after each input: a returned string is a finding (e.g. a limit that did not hold). */
  check?(): string | undefined;
}

export interface FuzzReport {
  target: string;
  seed: number;
  inputs: number;
  rejected: number;
  /** Rejections per limit the target enforces. */
  limitHits: Record<string, number>;
  /** Limits that rejected no input: the run proved nothing about them. */
  unhitLimits: string[];
  /** Inputs that threw something unexpected, hung, or broke a limit (0 is the goal). */
  failures: number;
  /** The first few failures, for reproduction. */
  findings: { input: string; error: string }[];
  hangs: number;
  slowestMs: number;
  seconds: number;
}

export async function runFuzz(target: FuzzTarget, options: { seed: number; iterations: number; hangMs?: number }): Promise<FuzzReport> {
  const rng = new Rng(options.seed);
  const corpus = target.corpus(rng);
  const hangMs = options.hangMs ?? 2000;
  const limitHits: Record<string, number> = Object.fromEntries(target.limits.map((l) => [l, 0]));
  const tally: LimitTally = (limit) => {
    if (limitHits[limit] === undefined) throw new Error(`${target.name}: tally of unknown limit ${limit}`);
    limitHits[limit]++;
  };
  const report: FuzzReport = {
    target: target.name,
    seed: options.seed,
    inputs: 0,
    rejected: 0,
    limitHits,
    unhitLimits: [],
    failures: 0,
    findings: [],
    hangs: 0,
    slowestMs: 0,
    seconds: 0,
  };
  const started = performance.now();
  for (let i = 0; i < options.iterations; i++) {
    let input: Buffer;
    if (i < corpus.length) input = corpus[i]!;
    else {
      const base = corpus[rng.int(corpus.length)] ?? Buffer.alloc(0);
      input = rng.chance(0.05) ? base : mutate(rng, base);
    }
    const t0 = performance.now();
    const fail = (error: string) => {
      report.failures++;
      if (report.findings.length < 20) report.findings.push({ input: input.toString('hex').slice(0, 512), error });
    };
    try {
      const out = target.run(input, rng, tally);
      if (out instanceof Promise) {
        let timer: NodeJS.Timeout | undefined;
        const guard = new Promise<'hang'>((resolve) => {
          timer = setTimeout(() => resolve('hang'), hangMs);
        });
        const result = await Promise.race([out.then(() => 'ok' as const), guard]);
        clearTimeout(timer);
        if (result === 'hang') {
          report.hangs++;
          fail(`did not settle in ${hangMs} ms`);
        }
      }
    } catch (err) {
      if (target.expected(err)) {
        report.rejected++;
        const limit = target.limitOf?.(err);
        if (limit !== undefined) tally(limit);
      } else fail(String((err as Error)?.stack ?? err));
    }
    const problem = target.check?.();
    if (problem !== undefined) fail(problem);
    const ms = performance.now() - t0;
    if (ms > report.slowestMs) report.slowestMs = ms;
    report.inputs++;
  }
  report.unhitLimits = target.limits.filter((l) => limitHits[l] === 0);
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

/** How much looser a deliberately weakened limit is in the self-test of the fuzz targets. */
export const LOOSER = 4;

export interface TargetOptions {
  /**
   * Builds the code under test with this one limit LOOSER times looser than the target's
   * checks expect (a stand-in for a bug that weakens it): the run must report findings.
   */
  loosen?: string;
}

/** The value of limit `name` given to the code under test. */
export function enforced(options: TargetOptions, name: string, value: number): number {
  return options.loosen === name ? value * LOOSER : value;
}
