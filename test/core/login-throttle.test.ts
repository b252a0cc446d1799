/** The login throttle shared by the broker and the web sign-in, in virtual time. */
import t from 'tap';
import { VirtualClock, VirtualWallClock } from '../../core/clock.js';
import { afterDelay, createLoginThrottle } from '../../core/login-throttle.js';
import { contractOptions, loginThrottleContract } from './fixtures/login-throttle-contract.js';

loginThrottleContract(t, 'in memory', async (_t, opts) => createLoginThrottle(opts));

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
  const clock = new VirtualWallClock(0);
  const throttle = createLoginThrottle({ ...contractOptions(clock), maxEntries: 100 });
  for (let i = 0; i < 1000; i++) throttle.recordFailure(`c${i}`, `10.0.${Math.floor(i / 250)}.${i % 250}`);
  t.ok(throttle.size() <= 202, `size ${throttle.size()}`);
});
