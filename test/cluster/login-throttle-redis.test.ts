/** The login throttle a cluster shares through a real Redis: the same contract as the in-memory one, and one count across nodes. */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import t from 'tap';
import { createRedisLoginThrottle } from '../../cluster/index.js';
import { VirtualWallClock } from '../../core/clock.js';
import { createLoginThrottle } from '../../core/login-throttle.js';
import { contractOptions, loginThrottleContract } from '../core/fixtures/login-throttle-contract.js';
import { startRedis, type TestRedis } from '../support/redis.js';

let redis: TestRedis;
t.before(async () => { redis = await startRedis(t); });

let run = 0;
loginThrottleContract(t, 'on Redis', async (t, opts) => {
  const throttle = await createRedisLoginThrottle({ ...opts, redisUrl: redis.url, name: `contract-${++run}` });
  t.teardown(() => throttle.close());
  return throttle;
});

t.test('two nodes share one count: failures on either add up, and the back-off holds on both', async (t) => {
  const clock = new VirtualWallClock(0);
  const nodeA = await createRedisLoginThrottle({ ...contractOptions(clock), redisUrl: redis.url, name: 'shared' });
  const nodeB = await createRedisLoginThrottle({ ...contractOptions(clock), redisUrl: redis.url, name: 'shared' });
  t.teardown(async () => { await nodeA.close(); await nodeB.close(); });
  t.same(await nodeA.recordFailure('login:alice', '10.0.0.66'), { failures: 1 });
  t.same(await nodeB.recordFailure('login:alice', '10.0.0.66'), { failures: 2 }, 'node B sees node A\'s failure');
  t.same(await nodeA.recordFailure('login:alice', '10.0.0.66'), { failures: 3, backoffUntil: 1000 });
  t.same(await nodeB.admit('login:alice', '10.0.0.66'), { allow: false, retryAt: 1000 }, 'the back-off started on A refuses on B');
  await nodeB.recordSuccess('login:alice', '10.0.0.66');
  t.same(await nodeA.admit('login:alice', '10.0.0.66'), { allow: true, delayMs: 0 }, 'a success on B clears the pair on A');

  // Twenty failures at once from two nodes: none is lost.
  await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? nodeA : nodeB).recordFailure('h9/door', '10.0.0.9')));
  t.same(await nodeA.recordFailure('h9/door', '10.0.0.9'), { failures: 21, backoffUntil: 8000 }, 'exactly 20 counted before this one');
});

t.test('a different name keeps its own counts (the web sign-in and the broker)', async (t) => {
  const clock = new VirtualWallClock(0);
  const web = await createRedisLoginThrottle({ ...contractOptions(clock), redisUrl: redis.url, name: 'web-apart' });
  const mqtt = await createRedisLoginThrottle({ ...contractOptions(clock), redisUrl: redis.url, name: 'mqtt-apart' });
  t.teardown(async () => { await web.close(); await mqtt.close(); });
  for (let i = 0; i < 3; i++) await web.recordFailure('x', '10.0.0.1');
  t.same(await mqtt.admit('x', '10.0.0.1'), { allow: true, delayMs: 0 });
  t.same(await mqtt.recordFailure('x', '10.0.0.1'), { failures: 1 });
});

t.test('any sequence of attempts gets the same answers as the in-memory throttle', async (t) => {
  const op = fc.record({
    kind: fc.constantFrom('admit', 'failure', 'failure', 'success'),
    principal: fc.constantFrom('p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'),
    address: fc.constantFrom('10.0.0.1', '10.0.0.2', undefined),
    advanceMs: fc.constantFrom(0, 0, 1, 500, 999, 1000, 4000, 30_000, 61_000),
  });
  let runs = 0;
  await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
    const clock = new VirtualWallClock(0);
    const memory = createLoginThrottle(contractOptions(clock));
    const shared = await createRedisLoginThrottle({ ...contractOptions(clock), redisUrl: redis.url, name: `property-${++runs}` });
    try {
      for (const o of ops) {
        clock.advanceBy(o.advanceMs);
        if (o.kind === 'admit') assert.deepStrictEqual(await shared.admit(o.principal, o.address), memory.admit(o.principal, o.address));
        else if (o.kind === 'failure') assert.deepStrictEqual(await shared.recordFailure(o.principal, o.address), memory.recordFailure(o.principal, o.address));
        else { await shared.recordSuccess(o.principal, o.address); memory.recordSuccess(o.principal, o.address); }
      }
    } finally {
      await shared.close();
    }
  }), { numRuns: 30, seed: 13 });
  t.equal(runs, 30, '30 random sequences agreed step by step');
});
