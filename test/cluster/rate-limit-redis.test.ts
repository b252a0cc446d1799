/** The per-person message budget a cluster shares through a real Redis. */
import t from 'tap';
import { createRedisRateLimiter } from '../../cluster/index.js';
import { rateLimitContract } from '../notifier/rate-limit-contract.js';
import { startRedis, type TestRedis } from '../support/redis.js';

let redis: TestRedis;
t.before(async () => { redis = await startRedis(t); });

let run = 0;
rateLimitContract(t, 'on Redis', async (t, opts) => {
  const limiter = await createRedisRateLimiter({ ...opts, redisUrl: redis.url, name: `contract-${++run}` });
  t.teardown(() => limiter.close());
  return limiter;
});

t.test('two nodes share one budget: 20 messages at once to one person, exactly max go out', async (t) => {
  const at = Date.parse('2026-12-02T09:00:00+09:00');
  const nodeA = await createRedisRateLimiter({ redisUrl: redis.url, name: 'people', max: 6, windowMs: 3600_000 });
  const nodeB = await createRedisRateLimiter({ redisUrl: redis.url, name: 'people', max: 6, windowMs: 3600_000 });
  t.teardown(async () => { await nodeA.close(); await nodeB.close(); });
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? nodeA : nodeB).take('caregiver-7', at + i)));
  t.equal(results.filter(Boolean).length, 6, 'six places, six messages, across both nodes');
  t.equal(await nodeA.take('caregiver-7', at + 100), false, 'node A sees the budget spent');
  t.equal(await nodeB.nextFreeAt('caregiver-7', at + 100), await nodeA.nextFreeAt('caregiver-7', at + 100), 'both nodes agree when it frees');
});
