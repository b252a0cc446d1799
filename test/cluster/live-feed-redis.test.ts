/** The web app's live feed across nodes, over a real Redis's pub/sub. */
import t from 'tap';
import { Redis } from 'ioredis';
import { createRedisLiveFeed, type RedisLiveFeed } from '../../cluster/index.js';
import type { LiveEvent } from '../../dashboards/index.js';
import { startRedis } from '../support/redis.js';

/** Collects events; `seen(n)` resolves once `n` have arrived (bounded). */
function collector() {
  const got: LiveEvent[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  return {
    got,
    fn(e: LiveEvent) { got.push(e); for (const w of waiters) if (got.length >= w.n) w.resolve(); },
    seen(n: number, ms = 10_000): Promise<void> {
      if (got.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`saw ${got.length} of ${n} events`)), ms);
        waiters.push({ n, resolve: () => { clearTimeout(timer); resolve(); } });
      });
    },
  };
}

t.test('an event published on one node reaches every node\'s subscribers once, in order', async (t) => {
  const redis = await startRedis(t);
  const feeds: RedisLiveFeed[] = [];
  t.teardown(async () => { for (const f of feeds) await f.close(); });
  const nodeA = await createRedisLiveFeed({ redisUrl: redis.url, nodeId: 'node-a' });
  const nodeB = await createRedisLiveFeed({ redisUrl: redis.url, nodeId: 'node-b' });
  feeds.push(nodeA, nodeB);

  const bHome1 = collector(); const bAll = collector(); const aHome2 = collector();
  const offHome1 = nodeB.subscribe('home-1', bHome1.fn);
  nodeB.subscribe('*', bAll.fn);
  nodeA.subscribe('home-2', aHome2.fn);

  const e1: LiveEvent = { type: 'alert', homeId: 'home-1', alertId: 'al-1', at: 1000 };
  const e2: LiveEvent = { type: 'news', homeId: 'home-2', at: 1001 };
  const e3: LiveEvent = { type: 'ack', homeId: 'home-1', alertId: 'al-1', at: 1002 };
  await nodeA.publish(e1); await nodeA.publish(e2); await nodeA.publish(e3);
  await bAll.seen(3);
  t.same(bAll.got, [e1, e2, e3], 'node B\'s "*" subscriber got all three, in order');
  t.same(bHome1.got, [e1, e3], 'node B\'s home-1 subscriber got home-1\'s only');
  await aHome2.seen(1);
  t.same(aHome2.got, [e2], 'the publishing node\'s own subscriber got its event once, through Redis');

  // Something that is not a live event on the feed's channels is dropped; what follows still arrives.
  const raw = new Redis(redis.port, '127.0.0.1');
  t.teardown(() => { raw.disconnect(); });
  await raw.publish('mimamori:live:home-1', 'not json');
  await raw.publish('mimamori:live:home-1', JSON.stringify({ type: 'alert', homeId: 'home-1' }));
  await raw.publish('mimamori:live:home-1', JSON.stringify({ type: 'alert', homeId: 'home-2', at: 5 }));
  offHome1();
  const e4: LiveEvent = { type: 'alert', homeId: 'home-1', at: 1003 };
  await nodeA.publish(e4);
  await bAll.seen(4);
  t.same(bAll.got, [e1, e2, e3, e4], 'the three bad messages reached nobody; the next event did');
  t.equal(nodeB.dropped(), 3, 'node B dropped exactly the three bad messages');
  t.same(bHome1.got, [e1, e3], 'an unsubscribed listener gets nothing more');
  await t.rejects(nodeA.publish({ type: '', homeId: 'home-1', at: 1 }), 'a bad event is refused at the publisher');
});
