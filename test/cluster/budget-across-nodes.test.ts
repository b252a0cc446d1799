/**
 * The per-person message budget shared by a cluster's nodes (issue 13): the
 * notifier given the Redis budget (`createRedisRateLimiter`, what hub/cluster.ts
 * gives every node's notifier) counts what another node already sent a person.
 * Node B sent Taro a message; node A's notifier, with a budget of one message
 * per 10 minutes, holds its warning for Taro (not for Ken, who got nothing
 * yet) and sends Taro one summary when the window allows. Real SQLite,
 * redis-server and the local Twilio server, virtual time.
 */
import { join } from 'node:path';
import t from 'tap';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { createSqliteStore } from '../../core/store.js';
import { createSmsChannel } from '../../notifier/channels/sms.js';
import { createNotifier } from '../../notifier/index.js';
import { createTwilioClient } from '../../notifier/twilio-client.js';
import { createRedisRateLimiter } from '../../cluster/index.js';
import { at1942, finding, homeId, seedHome, startLocal } from '../notifier/helpers.js';
import { startRedis } from '../support/redis.js';
import { tempDir } from '../support/wait.js';

const min = 60_000;
const budget = { max: 1, windowMs: 10 * min };

t.test('a person\'s budget counts the messages every node sent them', async (t) => {
  const redis = await startRedis(t);
  const { store, taro, ken } = await seedHome(createSqliteStore(join(tempDir(t), 'hub.db')));
  const clock = new VirtualClock(at1942);
  const local = await startLocal(clock);
  const sms = createSmsChannel({ client: createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url }), from: '+815000000000', logger: silentLogger() });
  await store.setEscalationPolicy(homeId, { tiers: [{ name: 'family', recipients: [{ role: 'family' }], channels: ['sms'], waitMinutes: 30 }], entry: { info: 'family', warning: 'family', critical: 'family' } }, clock.now());
  const onA = await createRedisRateLimiter({ redisUrl: redis.url, name: 'people', ...budget });
  const onB = await createRedisRateLimiter({ redisUrl: redis.url, name: 'people', ...budget });
  const notifier = await createNotifier({ store, logger: silentLogger(), clock, sms, rateLimiter: onA, groupWindowMs: 0 });
  t.teardown(async () => { await notifier.close(); await onA.close(); await onB.close(); await local.close(); await store.close(); });
  const to = (phone: string | undefined) => local.messages().filter((m) => m.to === phone).map((m) => m.body);

  t.equal(await onB.take(taro.id, clock.now()), true, 'node B sent Taro a message (its place in the window)');
  await notifier.handleFinding(finding({ rule: 'door', severity: 'warning' }));
  await notifier.idle();
  t.same([to(taro.phone).length, to(ken.phone).length], [0, 1], 'node A holds Taro\'s message (B used his budget) and sends Ken\'s');
  t.same((await store.listNotifications()).filter((n) => n.status === 'held').map((n) => n.contactId), [taro.id], 'held, not dropped');

  for (let m = 1; m <= 10; m++) { clock.advanceTo(at1942 + m * min); await notifier.idle(); }
  t.equal(to(taro.phone).length, 1, 'one summary to Taro once B\'s message left the window');
  t.match(to(taro.phone)[0], /1件のお知らせを控えました/);
  t.equal(await onB.take(taro.id, clock.now()), false, 'and node B now finds Taro\'s budget used by A\'s summary');
});
