/**
 * Time is injected everywhere as an RxJS `SchedulerLike`: `now()` reads the
 * clock and `schedule(work, delay)` sets a timer (unsubscribe to cancel).
 * Production uses `asyncScheduler`; tests and replay use a `VirtualClock`
 * that runs days of timers in milliseconds.
 *
 * Two kinds of time, kept apart by type:
 * - the hub's clock (`Clock`, the "simulated" time in the demo): when the
 *   homes' readings happen, what the rules and the alert path count in;
 * - wall-clock time (`WallClock`): what people and their devices live in —
 *   TOTP codes, sign-in lockouts, sessions, video ring timeouts, check-in
 *   schedules. In production both are the wall clock; in the sped-up demo
 *   only the first is sped up. A `ScaledClock` or a plain `VirtualClock` is
 *   not a `WallClock`, so the compiler refuses it where wall time is meant.
 */
import { asyncScheduler, type SchedulerAction, type SchedulerLike, type Subscription, VirtualAction, VirtualTimeScheduler } from 'rxjs';

export type Clock = SchedulerLike;

/** A clock that keeps wall-clock time (or, in a test, stands for it: `VirtualWallClock`). */
export interface WallClock extends SchedulerLike {
  readonly timeBase: 'wall';
}

/** Wall-clock time, real timers. */
export const systemClock: WallClock = {
  timeBase: 'wall',
  now: () => asyncScheduler.now(),
  schedule: asyncScheduler.schedule.bind(asyncScheduler) as SchedulerLike['schedule'],
};

/** The longest single delay `setTimeout` honours; longer timers are chained. */
const maxTimerDelay = 2 ** 31 - 1;

/**
 * Runs `work` at absolute time `at` (epoch ms) on `clock`, chaining timers so
 * delays longer than ~24.8 days still fire on time. Returns a cancel function.
 */
export function scheduleAt(clock: Clock, at: number, work: () => void): () => void {
  let sub = arm();
  function arm() {
    const delay = Math.max(0, at - clock.now());
    if (delay > maxTimerDelay) return clock.schedule(() => { sub = arm(); }, maxTimerDelay);
    return clock.schedule(work, delay);
  }
  return () => sub.unsubscribe();
}

/**
 * A virtual clock: time moves only when the test (or replay) says so, and every
 * timer due on the way runs in order.
 *
 * @example
 * const clock = new VirtualClock(Date.parse('2026-01-05T00:00:00+09:00'));
 * clock.advanceBy(6 * 3600_000); // runs six hours of timers now
 */
export class VirtualClock extends VirtualTimeScheduler {
  /** A plain virtual clock is simulated time; `VirtualWallClock` stands for wall time in tests. */
  readonly timeBase: 'simulated' | 'wall' = 'simulated';

  constructor(start = 0) {
    super(VirtualAction, Infinity);
    this.frame = start;
  }

  /** Moves time forward to `at`, running every timer due up to and including it. */
  advanceTo(at: number): void {
    if (at < this.frame) return;
    this.maxFrames = at;
    this.flush();
    this.maxFrames = Infinity;
    this.frame = at;
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.frame + ms);
  }
}

/**
 * A virtual clock that stands for wall-clock time in tests: lockouts,
 * sessions and ring timeouts advanced in milliseconds.
 */
export class VirtualWallClock extends VirtualClock {
  override readonly timeBase = 'wall' as const;
}

/**
 * Real timers with time sped up `speed` times from `start`: the demo street
 * lives a simulated day in under a minute while everything still runs on
 * ordinary timers.
 */
export class ScaledClock implements SchedulerLike {
  readonly timeBase = 'simulated' as const;
  private readonly realStart = Date.now();
  constructor(readonly start: number, readonly speed: number) {}

  now(): number {
    return this.start + (Date.now() - this.realStart) * this.speed;
  }

  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    return asyncScheduler.schedule(work, Math.max(0, delay / this.speed), state);
  }
}

/**
 * Runs `work` every `periodMs` on `clock` until the returned function is
 * called. Each period is a fresh top-level timer: rescheduling from inside an
 * action (`this.schedule`) nests a new action under the old one on RxJS's
 * virtual scheduler, and weeks of virtual time then overflow the stack.
 */
export function scheduleEvery(clock: Clock, periodMs: number, work: () => void): () => void {
  let stopped = false;
  let sub = arm();
  function arm(): Subscription {
    return clock.schedule(() => {
      if (stopped) return;
      sub = arm();
      work();
    }, periodMs);
  }
  return () => { stopped = true; sub.unsubscribe(); };
}
