/**
 * Video calls between browsers on two nodes: the exchange contract
 * (video-exchange-contract.ts) against the in-memory network and against a
 * real redis-server; and what only the Redis exchange has to show — bad
 * messages dropped, and a dead node's claim on a home running out.
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { createRedisVideoExchange } from '../../cluster/index.js';
import { createMemoryVideoNetwork, type VideoEnvelope } from '../../dashboards/index.js';
import { cuttableLink, startRedis } from '../support/redis.js';
import { until } from '../support/wait.js';
import { videoExchangeContract } from './video-exchange-contract.js';

t.test('in-memory network', async (t) => {
  videoExchangeContract(t, async () => {
    const net = createMemoryVideoNetwork();
    return [net.node('node-a'), net.node('node-b')];
  });
});

t.test('Redis', async (t) => {
  videoExchangeContract(t, async (t) => {
    const redis = await startRedis(t);
    const a = await createRedisVideoExchange({ redisUrl: redis.url, nodeId: 'node-a' });
    const b = await createRedisVideoExchange({ redisUrl: redis.url, nodeId: 'node-b' });
    // Closed after the web apps (teardowns run last-registered first).
    t.teardown(async () => { await a.close(); await b.close(); });
    return [a, b];
  });
});

t.test('Redis: what is not an envelope is dropped and the next one still arrives', async (t) => {
  const redis = await startRedis(t);
  const a = await createRedisVideoExchange({ redisUrl: redis.url, nodeId: 'node-a' });
  t.teardown(() => a.close());
  const got: VideoEnvelope[] = [];
  a.receive((e) => { got.push(e); });
  const raw = new Redis(redis.port, '127.0.0.1');
  t.teardown(() => { raw.disconnect(); });
  await raw.publish('mimamori:video:node:node-a', 'not json');
  await raw.publish('mimamori:video:node:node-a', JSON.stringify({ from: 'x', envelope: { kind: 'gone' } }));
  await raw.publish('mimamori:video:all', JSON.stringify({ from: 'x', envelope: { kind: 'client', from: { id: 'p', accountId: 'a', node: 'x' }, message: { type: 'call' } } }));
  const good: VideoEnvelope = { kind: 'gone', peerId: 'peer-1' };
  await raw.publish('mimamori:video:all', JSON.stringify({ from: 'node-b', envelope: good }));
  await until(() => got.length === 1, 30_000, 'the good envelope');
  t.same(got, [good], 'only the envelope reached the listener');
  t.equal(a.dropped(), 3, 'exactly the three bad messages were dropped');
});

t.test('Redis: a live node keeps renewing its claim; a node cut off frees its home when the claim runs out', async (t) => {
  const redis = await startRedis(t);
  const link = await cuttableLink(t, redis);
  const claimTtlMs = 3000;
  const a = await createRedisVideoExchange({ redisUrl: link.url, nodeId: 'node-a', claimTtlMs });
  const b = await createRedisVideoExchange({ redisUrl: redis.url, nodeId: 'node-b', claimTtlMs });
  t.teardown(async () => { await a.close(); await b.close(); });
  t.equal(await a.claimHome('h1', 'call-1'), true, 'node A claims h1 for call-1');
  t.equal(await b.claimHome('h1', 'call-2'), false, 'node B cannot claim h1 meanwhile');
  t.equal(await b.nodeOfCall('call-1'), 'node-a', 'node B finds call-1 on node A');
  // A renewal shows as the key's time to live going up again (without renewals it only goes down).
  const raw = new Redis(redis.port, '127.0.0.1');
  t.teardown(() => { raw.disconnect(); });
  let lowest = Infinity;
  await until(async () => {
    const ttl = await raw.pttl('mimamori:video:home:h1');
    if (ttl > lowest) return true;
    lowest = Math.min(lowest, ttl);
    return false;
  }, 30_000, 'node A renewing its claim');
  // Node A is cut off: it cannot renew or release; the claim runs out in Redis and node B may call.
  await link.cut();
  await until(() => b.claimHome('h1', 'call-2'), 30_000, 'node B claiming h1 after node A\'s claim ran out');
  t.equal(await b.nodeOfCall('call-1'), undefined, 'call-1 is gone with its claim');
  t.equal(await b.nodeOfCall('call-2'), 'node-b', 'call-2 is held by node B');
});
