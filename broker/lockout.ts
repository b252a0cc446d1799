/**
 * Login lockout: too many failed logins from one client id or one remote
 * address within a window lock that id / address out for a while, even with
 * the right credentials, so secrets cannot be guessed online.
 */
import type { SchedulerLike } from 'rxjs';

export interface LockoutOptions {
  maxFailures: number;
  windowMs: number;
  lockMs: number;
  clock: SchedulerLike;
  /** Most keys remembered; the oldest are forgotten first. */
  maxEntries?: number;
}

export interface LockStatus { locked: boolean; until?: number; key?: string }
export interface FailureOutcome { /** Keys (`id:…`, `addr:…`) this failure locked. */ locked: string[]; until?: number }

export interface Lockout {
  /** Is this client id or address locked out right now? */
  check(clientId: string, address: string | undefined): LockStatus;
  /** Counts a failed login; returns the keys this failure locked out. */
  recordFailure(clientId: string, address: string | undefined): FailureOutcome;
  /** A successful login clears the client id's failures (not the address's). */
  recordSuccess(clientId: string): void;
  /** Keys currently remembered (for tests and stats). */
  size(): number;
}

interface Entry { failures: number[]; lockedUntil: number }

/** Creates a lockout tracker with bounded memory. */
export function createLockout(opts: LockoutOptions): Lockout {
  const { maxFailures, windowMs, lockMs, clock } = opts;
  const maxEntries = opts.maxEntries ?? 10_000;
  // Map keeps insertion order: re-inserting on every touch makes the first key the stalest.
  const entries = new Map<string, Entry>();

  const keysOf = (clientId: string, address: string | undefined): string[] =>
    address === undefined ? [`id:${clientId}`] : [`id:${clientId}`, `addr:${address}`];

  function isStale(entry: Entry, now: number): boolean {
    const last = entry.failures[entry.failures.length - 1] ?? -Infinity;
    return entry.lockedUntil <= now && last <= now - windowMs;
  }

  function touch(key: string, entry: Entry): void {
    entries.delete(key);
    entries.set(key, entry);
    if (entries.size <= maxEntries) return;
    const now = clock.now();
    for (const [k, e] of entries) {
      if (entries.size <= maxEntries * 0.9) break;
      // Evict stale keys first; once none are left the oldest go regardless.
      if (isStale(e, now) || entries.size > maxEntries) entries.delete(k);
    }
  }

  return {
    check(clientId, address) {
      const now = clock.now();
      for (const key of keysOf(clientId, address)) {
        const e = entries.get(key);
        if (e && e.lockedUntil > now) return { locked: true, until: e.lockedUntil, key };
      }
      return { locked: false };
    },
    recordFailure(clientId, address) {
      const now = clock.now();
      const imposed: FailureOutcome = { locked: [] };
      for (const key of keysOf(clientId, address)) {
        const e = entries.get(key) ?? { failures: [], lockedUntil: 0 };
        e.failures = e.failures.filter((at) => at > now - windowMs);
        e.failures.push(now);
        if (e.failures.length >= maxFailures && e.lockedUntil <= now) {
          e.lockedUntil = now + lockMs;
          e.failures = [];
          imposed.locked.push(key);
          imposed.until = e.lockedUntil;
        }
        touch(key, e);
      }
      return imposed;
    },
    recordSuccess(clientId) {
      entries.delete(`id:${clientId}`);
    },
    size() {
      return entries.size;
    },
  };
}
