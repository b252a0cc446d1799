/**
 * Two hub brokers given the cluster's shared login throttle (Redis): wrong
 * passwords tried on one node put the (client id, address) pair on back-off
 * on the other too. Real brokers, real store, real MQTT clients, real Redis.
 */
import t from 'tap';
import { provisionDevice } from '../../broker/index.js';
import { createRedisLoginThrottle } from '../../cluster/index.js';
import { VirtualWallClock } from '../../core/clock.js';
import { createSqliteStore } from '../../core/store.js';
import { connect, start, startBroker } from '../broker/helpers.js';
import { startRedis } from '../support/redis.js';

t.test('a pair locked out on node A is refused unchecked on node B; another pair is not', async (t) => {
  const redis = await startRedis(t);
  const lockout = { maxFailures: 3, windowMs: 60_000, lockMs: 300_000 };
  const securityClock = new VirtualWallClock(start);
  const throttles = await Promise.all(['node-a', 'node-b'].map(() => createRedisLoginThrottle({ ...lockout, clock: securityClock, redisUrl: redis.url, name: 'mqtt' })));
  const store = createSqliteStore(':memory:');
  const nodeA = await startBroker({ lockout, loginThrottle: throttles[0]! }, { store });
  const nodeB = await startBroker({ lockout, loginThrottle: throttles[1]! }, { store });
  t.teardown(async () => { await nodeA.close(); await nodeB.close(); for (const th of throttles) await th.close(); await store.close(); });
  await store.createHome({ id: 'h1', name: 'home one', timezone: 'Asia/Tokyo' });
  const kettle = await provisionDevice(store, { homeId: 'h1', deviceId: 'kettle', kind: 'kettle' });
  const door = await provisionDevice(store, { homeId: 'h1', deviceId: 'door', kind: 'door' });

  for (let i = 0; i < 3; i++) {
    await t.rejects(connect(nodeA.url(), { clientId: 'h1/kettle', username: kettle.username, password: `guess-${i}` }), /Bad username or password/i, `guess ${i + 1} checked and refused on node A`);
  }
  await t.rejects(connect(nodeB.url(), { clientId: 'h1/kettle', username: kettle.username, password: kettle.secret }), /Not authorized/i,
    'on node B even the right secret waits out the back-off node A started');
  const door1 = await connect(nodeB.url(), { clientId: 'h1/door', username: door.username, password: door.secret });
  t.ok(door1.connected, 'another device behind the same address connects on node B');
  await door1.endAsync();

  t.same([nodeA.broker.stats().authFailures, nodeA.broker.stats().lockouts], [3, 1], 'node A checked 3 guesses and started one back-off');
  t.same([nodeB.broker.stats().authFailures, nodeB.broker.stats().lockedOutLogins], [0, 1], 'node B refused the locked pair unchecked, once');

  securityClock.advanceBy(300_000);
  const kettle1 = await connect(nodeB.url(), { clientId: 'h1/kettle', username: kettle.username, password: kettle.secret });
  t.ok(kettle1.connected, 'after the back-off the kettle connects on node B');
  await kettle1.endAsync();
});
