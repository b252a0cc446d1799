/**
 * The per-person message budget contract, run against every implementation
 * (the in-memory one of a single hub, the Redis one a cluster shares): at
 * most `max` per sliding window, forced messages counted but never held
 * back, when the next place frees up, keys apart.
 */
import type { Test } from 'tap';
import type { RateLimiterPort } from '../../notifier/index.js';

export type MakeLimiter = (t: Test, opts: { max: number; windowMs: number }) => Promise<RateLimiterPort>;

const hour = 3600_000;
const start = Date.parse('2026-12-02T09:00:00+09:00');

export function rateLimitContract(t: Test, name: string, make: MakeLimiter): void {
  t.test(`${name}: at most max per window, per key, and the window slides`, async (t) => {
    const limiter = await make(t, { max: 3, windowMs: hour });
    const taken: boolean[] = [];
    for (let i = 0; i < 5; i++) taken.push(await limiter.take('contact-1', start + i * 60_000));
    t.same(taken, [true, true, true, false, false], 'the 4th and 5th in the hour are held back');
    t.equal(await limiter.take('contact-2', start + 5 * 60_000), true, 'another person has a budget of their own');
    t.equal(await limiter.nextFreeAt('contact-1', start + 5 * 60_000), start + hour, 'a place frees when the first leaves the window');
    t.equal(await limiter.take('contact-1', start + hour - 1), false, '1 ms before, still full');
    t.equal(await limiter.take('contact-1', start + hour), true, 'the first message left the window');
    t.equal(await limiter.nextFreeAt('contact-1', start + hour), start + 60_000 + hour, 'next frees with the second');
    t.equal(await limiter.nextFreeAt('contact-9', start), start, 'an unknown person fits now');
  });

  t.test(`${name}: a forced message is counted but never held back; max can be given per call`, async (t) => {
    const limiter = await make(t, { max: 2, windowMs: hour });
    t.equal(await limiter.take('c', start), true);
    t.equal(await limiter.take('c', start + 1), true);
    t.equal(await limiter.take('c', start + 2, { force: true }), true, 'forced past the budget');
    t.equal(await limiter.take('c', start + 3, { max: 3 }), false, 'the forced one counted: 3 in the window already');
    t.equal(await limiter.take('c', start + 4, { max: 4 }), true, 'a larger max for this call lets one more in');
    t.equal(await limiter.nextFreeAt('c', start + 5), start + 2 + hour, 'with max 2 of 4 sent, the third from the end must leave');
    t.equal(await limiter.nextFreeAt('c', start + 5, 5), start + 5, 'with max 5 there is room now');
  });
}
