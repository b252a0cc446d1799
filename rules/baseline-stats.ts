/**
 * Robust statistics for learned routines: a bounded window of daily values
 * summarised by median and MAD (resistant to the odd strange day), and an
 * exponentially weighted per-hour activity probability (slow to drift).
 */

/** What a window of daily values says about one signal. */
export interface SignalSummary {
  /** Days in the window. */
  n: number;
  /** Fraction of those days on which the signal happened at all (e.g. the kettle was used). */
  happened: number;
  median: number;
  /** 1.4826 × MAD: a standard deviation that ignores outliers; never below the signal's floor. */
  spread: number;
  q10: number;
  q90: number;
}

/** `q`-quantile of sorted values by linear interpolation. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  const a = sorted[lo]!, b = sorted[hi]!;
  return a + (b - a) * (pos - lo);
}

/**
 * Median, MAD-based spread and 10/90 % quantiles of a window (NaN entries are
 * days the signal did not happen). `floor` keeps the spread honest for a
 * resident so regular that the MAD is zero.
 */
export function summarise(values: readonly number[], floor: number): SignalSummary | undefined {
  const seen = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (seen.length === 0) return undefined;
  const median = quantile(seen, 0.5);
  const deviations = seen.map((v) => Math.abs(v - median)).sort((a, b) => a - b);
  return {
    n: values.length, happened: seen.length / values.length, median,
    spread: Math.max(floor, 1.4826 * quantile(deviations, 0.5)),
    q10: quantile(seen, 0.1), q90: quantile(seen, 0.9),
  };
}

/** Appends `v` to a window of at most `max` values (the oldest leaves). */
export function pushWindow(window: number[], v: number, max: number): void {
  window.push(v);
  if (window.length > max) window.splice(0, window.length - max);
}

/**
 * One step of the per-hour probability: a running mean while learning (1/n),
 * then an exponential average with time constant `horizonDays`, so a change
 * of habit is taken up over weeks, not overnight.
 */
export function ewmaStep(p: number, n: number, x: number, horizonDays: number): number {
  const alpha = Math.max(1 / (n + 1), 1 / horizonDays);
  return p + alpha * (x - p);
}

/** Number of set bits in a 32-bit integer. */
export function popcount(x: number): number {
  let v = x >>> 0;
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Mean of the finite values, NaN when none. */
export function mean(values: readonly number[]): number {
  let sum = 0, n = 0;
  for (const v of values) if (Number.isFinite(v)) { sum += v; n++; }
  return n === 0 ? NaN : sum / n;
}
