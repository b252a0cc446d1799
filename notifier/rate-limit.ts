/**
 * The per-person message budget: at most `max` messages to one person in a
 * sliding window. A forced message (the first page of a critical alert's
 * round: escalation-engine.ts) is counted but never held back — an alert
 * nobody sees is worse than one message too many. In memory: after a restart
 * the window starts empty.
 */
export interface RateLimiter extends RateLimiterPort {
  /** Whether one more message may go to `key` at `at`; counts it when allowed (or forced). */
  take(key: string, at: number, opts?: { force?: boolean; max?: number }): boolean;
  /** The earliest time one more message to `key` fits the window (`at` if it fits now). */
  nextFreeAt(key: string, at: number, max?: number): number;
}

/**
 * The budget as a port: the in-memory limiter answers at once, a cluster's
 * shared one (cluster/, on Redis: one person's budget across every node)
 * asynchronously.
 */
export interface RateLimiterPort {
  take(key: string, at: number, opts?: { force?: boolean; max?: number }): boolean | Promise<boolean>;
  nextFreeAt(key: string, at: number, max?: number): number | Promise<number>;
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
    nextFreeAt(key, at, m) {
      const max = m ?? opts.max;
      const recent = (sent.get(key) ?? []).filter((t) => t > at - opts.windowMs);
      if (recent.length < max) return at;
      // The window frees a place when the message that would be the (max)th from the end leaves it.
      return recent[recent.length - max]! + opts.windowMs;
    },
  };
}
