/**
 * The web sign-in given the cluster's shared login throttle (Redis): a
 * back-off started through node A's sign-in page holds on node B's sign-in.
 */
import t from 'tap';
import { createRedisLoginThrottle } from '../../cluster/index.js';
import { VirtualWallClock } from '../../core/clock.js';
import { createAuth } from '../../dashboards/index.js';
import { password, setup, start, testSeedKey } from '../dashboards/helpers.js';
import { startRedis } from '../support/redis.js';

// The web sign-in's own settings (dashboards/auth.ts): 5 failures, then 1 minute doubling to 15.
const settings = { maxFailures: 5, windowMs: 15 * 60_000, lockMs: 60_000, maxLockMs: 15 * 60_000, addressMaxFailures: 20, addressDelayMs: 250, maxAddressDelayMs: 4000 };

t.test('failures on node A\'s sign-in page lock the pair out on node B, and only that pair', async (t) => {
  const redis = await startRedis(t);
  const wall = new VirtualWallClock(start);
  const [throttleA, throttleB] = await Promise.all([1, 2].map(() => createRedisLoginThrottle({ ...settings, clock: wall, redisUrl: redis.url, name: 'web' })));
  const nodeA = await setup({ wallClock: wall, loginThrottle: throttleA! });
  t.teardown(async () => { await nodeA.close(); await throttleA!.close(); await throttleB!.close(); });
  const nodeB = createAuth({ store: nodeA.store, wallClock: wall, totpSeedKey: testSeedKey, loginThrottle: throttleB! });

  const attacker = '10.6.6.6';
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) {
    const form = await nodeA.web.app.inject({ method: 'GET', url: '/signin' });
    const pre = [form.headers['set-cookie']].flat().find((c) => c?.startsWith('mimamori_pre='))!.split(';')[0]!;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!;
    statuses.push((await nodeA.web.app.inject({ method: 'POST', url: '/signin', remoteAddress: attacker, headers: { cookie: pre }, payload: { login: 'care1', password: 'wrong password!!', _csrf: csrf } })).statusCode);
  }
  t.same(statuses, [401, 401, 401, 401, 429], 'node A: four refusals, the fifth starts the back-off');
  t.match(await nodeB.signIn('care1', password, attacker), { ok: false, reason: 'locked_out' }, 'node B refuses the right password from that address');
  t.match(await nodeB.signIn('care1', password, '192.0.2.10'), { ok: true }, 'node B lets her in from her own address');
  wall.advanceBy(60_000);
  t.match(await nodeB.signIn('care1', password, attacker), { ok: true }, 'a minute later node B lets that address try again');
});
