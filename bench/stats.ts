// Small statistics for benchmark scripts.
export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function printFigure(figure: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(figure)}\n`);
}

/**
 * Each round's measurement over its reference from the same round, and their median. The
 * host is shared and noisy; measurements taken back to back see the most similar load, so
 * the median of these ratios is steadier than the ratio of the medians.
 */
export function roundRatios(values: number[], references: number[], digits = 3): { roundRatios: number[]; medianRoundRatio: number } {
  const ratios = values.map((v, i) => v / references[i]!);
  return { roundRatios: ratios.map((r) => round(r, digits)), medianRoundRatio: round(median(ratios), digits) };
}
