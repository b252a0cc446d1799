/**
 * Time is injected everywhere as an RxJS `SchedulerLike`: `now()` reads the
 * clock and `schedule(work, delay)` sets a timer (unsubscribe to cancel).
 * Production uses `asyncScheduler`; tests and replay use a `VirtualClock`
 * that runs days of timers in milliseconds.
 */
import { asyncScheduler, type SchedulerAction, type SchedulerLike, type Subscription, VirtualAction, VirtualTimeScheduler } from 'rxjs';

export type Clock = SchedulerLike;

/** Wall-clock time, real timers. */
export const systemClock: Clock = asyncScheduler;

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
 * Real timers with time sped up `speed` times from `start`: the demo street
 * lives a simulated day in under a minute while everything still runs on
 * ordinary timers.
 */
export class ScaledClock implements SchedulerLike {
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
