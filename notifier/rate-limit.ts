/**
 * Per-recipient rate limits: at most `max` messages to one person in a
 * sliding window. Critical alerts are counted but never held back — an alert
 * nobody sees is worse than one message too many.
 */
export interface RateLimiter {
  /** Whether one more message may go to `key` at `at`; counts it when allowed (or forced). */
  take(key: string, at: number, opts?: { force?: boolean; max?: number }): boolean;
}

/** Creates a sliding-window limiter (in memory: after a restart the window starts empty). */
export function createRateLimiter(opts: { max: number; windowMs: number }): RateLimiter {
  const sent = new Map<string, number[]>();
  return {
    take(key, at, o = {}) {
      const max = o.max ?? opts.max;
      const recent = (sent.get(key) ?? []).filter((t) => t > at - opts.windowMs);
      const ok = o.force === true || recent.length < max;
      if (ok) recent.push(at);
      if (recent.length) sent.set(key, recent); else sent.delete(key);
      return ok;
    },
  };
}
