/** The login throttle shared by the broker and the web sign-in, in virtual time. */
import t from 'tap';
import { VirtualClock } from '../../core/clock.js';
import { afterDelay, createLoginThrottle } from '../../core/login-throttle.js';

const options = (clock: VirtualClock) => ({
  maxFailures: 3, windowMs: 60_000, lockMs: 1000, maxLockMs: 8000,
  addressMaxFailures: 5, addressDelayMs: 100, maxAddressDelayMs: 400, clock,
});

t.test('failures count per (principal, address): another address is never refused', async (t) => {
  const clock = new VirtualClock(0);
  const throttle = createLoginThrottle(options(clock));
  t.same(throttle.recordFailure('h1/help', '10.0.0.66'), { failures: 1 });
  t.same(throttle.recordFailure('h1/help', '10.0.0.66'), { failures: 2 });
  t.same(throttle.recordFailure('h1/help', '10.0.0.66'), { failures: 3, backoffUntil: 1000 }, 'the third failure starts the back-off');
  t.same(throttle.admit('h1/help', '10.0.0.66'), { allow: false, retryAt: 1000 }, 'the attacking pair waits');
  t.same(throttle.admit('h1/help', '10.0.0.5'), { allow: true, delayMs: 0 }, 'the same client id from its own address is let in at once');
  t.same(throttle.admit('h1/kettle', '10.0.0.66'), { allow: true, delayMs: 0 }, 'another client id from the attacking address is not refused');
});

t.test('back-off doubles per failure up to maxLockMs, and is forgotten after windowMs', async (t) => {
  const clock = new VirtualClock(0);
  const throttle = createLoginThrottle(options(clock));
  const waits: number[] = [];
  for (let i = 0; i < 8; i++) {
    const admission = throttle.admit('web:alice', '10.0.0.66');
    if (!admission.allow) { t.fail(`attempt ${i} should be admitted after its back-off`); return; }
    const { backoffUntil } = throttle.recordFailure('web:alice', '10.0.0.66');
    if (backoffUntil === undefined) continue;
    waits.push(backoffUntil - clock.now());
    clock.advanceTo(backoffUntil - 1);
    t.equal(throttle.admit('web:alice', '10.0.0.66').allow, false, 'still waiting 1 ms before the end');
    clock.advanceBy(1);
  }
  t.same(waits, [1000, 2000, 4000, 8000, 8000, 8000], 'exponential, capped');
  clock.advanceBy(59_999);
  t.equal(throttle.recordFailure('web:alice', '10.0.0.66').backoffUntil, clock.now() + 8000, 'not forgotten 1 ms before windowMs');
  clock.advanceBy(8000 + 60_000);
  t.same(throttle.recordFailure('web:alice', '10.0.0.66'), { failures: 1 }, 'forgotten windowMs after the back-off ended');
});

t.test('a success clears the pair only', async (t) => {
  const clock = new VirtualClock(0);
  const throttle = createLoginThrottle(options(clock));
  throttle.recordFailure('a', '10.0.0.1'); throttle.recordFailure('a', '10.0.0.1');
  throttle.recordSuccess('a', '10.0.0.1');
  t.same(throttle.recordFailure('a', '10.0.0.1'), { failures: 1 });
});

t.test('an address past its cap is delayed, never refused, for principals that have not failed', async (t) => {
  const clock = new VirtualClock(0);
  const throttle = createLoginThrottle(options(clock));
  // Spraying: one failure each for many client ids from one address.
  const delays: number[] = [];
  for (let i = 0; i < 9; i++) {
    const admission = throttle.admit(`spray-${i}`, '10.0.0.66');
    t.equal(admission.allow, true);
    if (admission.allow) delays.push(admission.delayMs);
    throttle.recordFailure(`spray-${i}`, '10.0.0.66');
  }
  t.same(delays, [0, 0, 0, 0, 0, 0, 100, 200, 400], 'delay starts past 5 failures, doubles, capped at 400 ms');
  t.same(throttle.admit('h1/help', '10.0.0.66'), { allow: true, delayMs: 400 }, 'a device that has not failed is slowed, not refused');
  t.same(throttle.admit('h1/help', '10.0.0.5'), { allow: true, delayMs: 0 }, 'other addresses are not slowed');
  clock.advanceBy(60_000);
  t.same(throttle.admit('h1/help', '10.0.0.66'), { allow: true, delayMs: 0 }, 'the cap window slides');
});

t.test('afterDelay runs the check after the delay on the given clock', async (t) => {
  const clock = new VirtualClock(0);
  let ran = 0;
  const done = afterDelay(clock, 250, async () => ++ran);
  clock.advanceBy(249);
  t.equal(ran, 0);
  clock.advanceBy(1);
  t.equal(await done, 1);
  t.equal(await afterDelay(clock, 0, async () => 'now'), 'now');
});

t.test('memory is bounded', async (t) => {
  const clock = new VirtualClock(0);
  const throttle = createLoginThrottle({ ...options(clock), maxEntries: 100 });
  for (let i = 0; i < 1000; i++) throttle.recordFailure(`c${i}`, `10.0.${Math.floor(i / 250)}.${i % 250}`);
  t.ok(throttle.size() <= 202, `size ${throttle.size()}`);
});
