/**
 * Login throttle shared by the broker (MQTT CONNECT) and the web sign-in.
 *
 * Failures are counted per **(principal, source address)** — a device's
 * client id or a web login, and the address it came from — never per
 * principal alone, so an attacker who knows a help button's client id or a
 * caregiver's login can only slow down their own attempts, not lock the
 * real device or person out from theirs:
 *
 * - after `maxFailures` failures from one pair, that pair waits `lockMs`,
 *   doubling with every further failure up to `maxLockMs` (exponential
 *   back-off); attempts from the pair while it waits are refused unchecked;
 * - every address also has a cap across principals (`addressMaxFailures`):
 *   past it, each attempt from that address is *delayed* (`addressDelayMs`,
 *   doubling up to `maxAddressDelayMs`) but still checked, so spraying many
 *   client ids is slowed while a device behind the same address that has
 *   not failed still gets in with its right secret;
 * - a correct secret from an address that has not failed for that principal
 *   is therefore never refused.
 *
 * A pair is forgotten `windowMs` after its last failure and its back-off
 * have passed; a success clears the pair. Time is wall-clock (the clock
 * passed in must be the real one in production, never the demo's sped-up
 * clock). Memory is bounded (`maxEntries` pairs and addresses, stale first).
 */
import type { SchedulerLike } from 'rxjs';

export interface LoginThrottleOptions {
  /** Failures from one (principal, address) before back-off starts. */
  maxFailures: number;
  /** A pair is forgotten this long after its last failure (and its back-off) passed; also the address window. */
  windowMs: number;
  /** First back-off; doubles with every further failure of the pair. */
  lockMs: number;
  /** Longest back-off (default the larger of `lockMs` and 15 minutes). */
  maxLockMs?: number;
  /** Failures from one address, any principal, within `windowMs` before its attempts are delayed (default 20). */
  addressMaxFailures?: number;
  /** First delay for an address past its cap; doubles per further failure (default 250 ms). */
  addressDelayMs?: number;
  /** Longest delay (default 4 s, well inside device and browser connect timeouts). */
  maxAddressDelayMs?: number;
  /** Wall-clock time. */
  clock: SchedulerLike;
  /** Most pairs (and addresses) remembered; the stalest are forgotten first (default 10 000). */
  maxEntries?: number;
}

/** What to do with one attempt, decided before its secret is checked. */
export type Admission =
  | { allow: true; /** Wait this long before checking (0 unless the address is past its cap). */ delayMs: number }
  | { allow: false; /** When the pair may try again (epoch ms). */ retryAt: number };

export interface FailureOutcome {
  /** Failures of this pair so far. */
  failures: number;
  /** Set when this failure started (or lengthened) the pair's back-off. */
  backoffUntil?: number;
}

/**
 * What the broker and the web sign-in need from a throttle. The in-memory
 * one answers at once; a cluster's shared one (cluster/, on Redis) answers
 * asynchronously, so callers await every answer.
 */
export interface LoginThrottlePort {
  admit(principal: string, address: string | undefined): Admission | Promise<Admission>;
  recordFailure(principal: string, address: string | undefined): FailureOutcome | Promise<FailureOutcome>;
  /** A correct secret clears the pair's failures (not the address's). */
  recordSuccess(principal: string, address: string | undefined): void | Promise<void>;
}

/** The in-memory throttle of one process. */
export interface LoginThrottle extends LoginThrottlePort {
  admit(principal: string, address: string | undefined): Admission;
  recordFailure(principal: string, address: string | undefined): FailureOutcome;
  recordSuccess(principal: string, address: string | undefined): void;
  /** Pairs and addresses remembered (for tests and stats). */
  size(): number;
}

/** The settings with their defaults filled in; the same for every implementation. */
export interface LoginThrottleSettings {
  maxFailures: number; windowMs: number; lockMs: number; maxLockMs: number;
  addressMaxFailures: number; addressDelayMs: number; maxAddressDelayMs: number;
  /** Failures remembered per address: enough to reach the longest delay, no more. */
  addressMemory: number;
}

/** The longest exponent used, so a long attack cannot overflow the back-off. */
export const maxThrottleDoublings = 30;

/** Fills in the defaults (see `LoginThrottleOptions`). */
export function loginThrottleSettings(opts: Omit<LoginThrottleOptions, 'clock' | 'maxEntries'>): LoginThrottleSettings {
  const { maxFailures, windowMs, lockMs } = opts;
  const maxLockMs = Math.max(lockMs, opts.maxLockMs ?? 15 * 60_000);
  const addressMaxFailures = opts.addressMaxFailures ?? 20;
  const addressDelayMs = opts.addressDelayMs ?? 250;
  const maxAddressDelayMs = Math.max(addressDelayMs, opts.maxAddressDelayMs ?? 4000);
  const addressMemory = addressMaxFailures + Math.ceil(Math.log2(maxAddressDelayMs / Math.max(1, addressDelayMs))) + 1;
  return { maxFailures, windowMs, lockMs, maxLockMs, addressMaxFailures, addressDelayMs, maxAddressDelayMs, addressMemory };
}

interface PairEntry { failures: number; last: number; until: number }
interface AddressEntry { failures: number[] }

/** Creates a throttle with bounded memory. */
export function createLoginThrottle(opts: LoginThrottleOptions): LoginThrottle {
  const { clock } = opts;
  const { maxFailures, windowMs, lockMs, maxLockMs, addressMaxFailures, addressDelayMs, maxAddressDelayMs, addressMemory } = loginThrottleSettings(opts);
  const maxDoublings = maxThrottleDoublings;
  const maxEntries = opts.maxEntries ?? 10_000;
  // Maps keep insertion order: re-inserting on every touch makes the first key the stalest.
  const pairs = new Map<string, PairEntry>();
  const addresses = new Map<string, AddressEntry>();

  // A NUL cannot appear in an MQTT client id or a login form field, so the key is unambiguous.
  const pairKey = (principal: string, address: string | undefined) => `${address ?? '?'}\u0000${principal}`;
  const pairStale = (e: PairEntry, now: number) => now - Math.max(e.last, e.until) >= windowMs;

  function touch<E>(map: Map<string, E>, key: string, entry: E, stale: (e: E, now: number) => boolean): void {
    map.delete(key);
    map.set(key, entry);
    if (map.size <= maxEntries) return;
    const now = clock.now();
    for (const [k, e] of map) {
      if (map.size <= maxEntries * 0.9) break;
      // Stale keys go first; once none are left the oldest go regardless.
      if (stale(e, now) || map.size > maxEntries) map.delete(k);
    }
  }

  function recentAddressFailures(address: string | undefined, now: number): AddressEntry | undefined {
    const e = addresses.get(address ?? '?');
    if (!e) return undefined;
    e.failures = e.failures.filter((at) => at > now - windowMs);
    return e;
  }

  return {
    admit(principal, address) {
      const now = clock.now();
      const key = pairKey(principal, address);
      const pair = pairs.get(key);
      if (pair && pair.until > now) return { allow: false, retryAt: pair.until };
      if (pair && pairStale(pair, now)) pairs.delete(key);
      const excess = (recentAddressFailures(address, now)?.failures.length ?? 0) - addressMaxFailures;
      if (excess <= 0) return { allow: true, delayMs: 0 };
      return { allow: true, delayMs: Math.min(addressDelayMs * 2 ** Math.min(excess - 1, maxDoublings), maxAddressDelayMs) };
    },
    recordFailure(principal, address) {
      const now = clock.now();
      const key = pairKey(principal, address);
      const known = pairs.get(key);
      const pair = known && !pairStale(known, now) ? known : { failures: 0, last: now, until: 0 };
      pair.failures++;
      pair.last = now;
      const outcome: FailureOutcome = { failures: pair.failures };
      if (pair.failures >= maxFailures) {
        pair.until = now + Math.min(lockMs * 2 ** Math.min(pair.failures - maxFailures, maxDoublings), maxLockMs);
        outcome.backoffUntil = pair.until;
      }
      touch(pairs, key, pair, pairStale);
      const addr = recentAddressFailures(address, now) ?? { failures: [] };
      addr.failures.push(now);
      if (addr.failures.length > addressMemory) addr.failures.splice(0, addr.failures.length - addressMemory);
      touch(addresses, address ?? '?', addr, (e, at) => (e.failures[e.failures.length - 1] ?? -Infinity) <= at - windowMs);
      return outcome;
    },
    recordSuccess(principal, address) {
      pairs.delete(pairKey(principal, address));
    },
    size() {
      return pairs.size + addresses.size;
    },
  };
}

/** Wraps `check` so it runs after `delayMs` on `clock` (0: at once). */
export function afterDelay<T>(clock: SchedulerLike, delayMs: number, check: () => Promise<T>): Promise<T> {
  if (delayMs <= 0) return check();
  return new Promise<T>((resolve, reject) => {
    clock.schedule(() => { check().then(resolve, reject); }, delayMs);
  });
}
