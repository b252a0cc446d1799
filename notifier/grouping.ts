/**
 * Grouping: alerts of one home that arrive together go out as one message.
 * The first alert of a quiet home goes at once (leading edge); alerts that
 * follow within the window wait for its end and are sent together. Findings
 * from a backlog (older than `staleAfterMs`, e.g. replayed after an outage)
 * wait for the backlog window, so an outage becomes one summary per person
 * instead of a storm.
 *
 * A critical alert never waits, backlog or not: its first step runs at once
 * and alone (a cry for help must not sit behind a "no kettle today" notice
 * that opened 16 seconds earlier). It neither opens nor extends the home's
 * window, so alerts that do wait are still grouped among themselves.
 */
import type { Severity } from '../core/store.js';

export interface GroupingOptions { windowMs: number; staleAfterMs: number; backlogWindowMs: number }

export interface Grouping {
  /** When the first step of a new alert of `homeId` should run; `now` means at once. */
  firstStepAt(homeId: string, findingAt: number, now: number, severity: Severity): { at: number; backlog: boolean };
}

/** Creates the per-home grouping clock (in memory: after a restart every home is quiet). */
export function createGrouping(opts: GroupingOptions): Grouping {
  const windowEnds = new Map<string, number>();
  return {
    firstStepAt(homeId, findingAt, now, severity) {
      if (severity === 'critical') return { at: now, backlog: false };
      if (now - findingAt > opts.staleAfterMs) return { at: now + opts.backlogWindowMs, backlog: true };
      const end = windowEnds.get(homeId);
      if (end !== undefined && now < end) return { at: end, backlog: false };
      windowEnds.set(homeId, now + opts.windowMs);
      return { at: now, backlog: false };
    },
  };
}
