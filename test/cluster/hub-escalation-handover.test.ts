/**
 * Escalation follows the home (issue 13): two hubs in cluster mode on a real
 * PostgreSQL and redis-server, one virtual clock. Node A starts alone and
 * runs every home; each home's help press pages its family (tier 1) from A.
 * Node B joins and takes its rendezvous share — A stays up. When the next
 * tier falls due, each home's caregiver is paged once, by the node that runs
 * the home NOW: B's share by B, A's by A; nobody is paged twice and nobody is
 * missed. A's old lease token for a moved home is refused by PostgreSQL. The
 * waits are barriers (a node reports running a home, a message is recorded);
 * the bounds only guard against hangs.
 */
import { join } from 'node:path';
import t from 'tap';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { toLocalIso } from '../../core/time.js';
import { provisionDevice } from '../../broker/index.js';
import { createEdgeAgent } from '../../edge/index.js';
import type { Hub } from '../../hub/index.js';
import { startClusterNode } from './cluster-node.js';
import { rendezvousOwner } from '../../cluster/index.js';
import { postgresInstalled, startPostgres } from '../support/postgres.js';
import { startRedis } from '../support/redis.js';
import { freePort, tempDir, until } from '../support/wait.js';

const tz = 'Asia/Tokyo';
const start = Date.parse('2026-11-21T10:00:00+09:00');
const homes = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'];
const hang = 90_000;
const min = 60_000;
const family = (h: string) => `+8190111100${h.slice(1).padStart(2, '0')}`;
const carer = (h: string) => `+8190333300${h.slice(1).padStart(2, '0')}`;
const policy = {
  tiers: [
    { name: 'family', recipients: [{ role: 'family' }], channels: ['sms'], waitMinutes: 10 },
    { name: 'caregiver', recipients: [{ role: 'caregiver' }], channels: ['sms'], waitMinutes: 10 },
  ],
  entry: { info: 'family', warning: 'family', critical: 'family' },
};

t.test('a joining node takes its homes\' running escalations: the next tier is sent once, by the home\'s new owner', { skip: postgresInstalled ? false : 'PostgreSQL 15 not installed' }, async (t) => {
  const pg = await startPostgres(t);
  const databaseUrl = await pg.createDatabase();
  const redis = await startRedis(t);
  const influxUrl = `http://127.0.0.1:${await freePort()}`; // nobody there: history buffers, the alert path does not wait on it
  const clock = new VirtualClock(start);
  const startNode = (nodeId: string): Promise<Hub> => startClusterNode(t, { databaseUrl, redisUrl: redis.url, influxUrl, nodeId, clock });

  const a = await startNode('node-a');
  t.teardown(() => a.close());
  const creds = new Map<string, string>();
  for (const h of homes) {
    await a.store.createHome({ id: h, name: `Home ${h}`, timezone: tz });
    await a.store.addContact({ homeId: h, name: `Family ${h}`, role: 'family', phone: family(h), language: 'en', priority: 1 });
    await a.store.addContact({ homeId: h, name: `Carer ${h}`, role: 'caregiver', phone: carer(h), language: 'en', priority: 2 });
    await a.notifier.setEscalationPolicy(h, policy);
    creds.set(h, (await provisionDevice(a.store, { homeId: h, deviceId: 'help-button', kind: 'button' })).secret);
  }
  const running = (hub: Hub) => hub.cluster!.runningHomes();
  await until(() => running(a).length === homes.length, hang, 'node A running every home');

  // Every home's help press: tier 1 (family) from A, the only node.
  for (const h of homes) {
    const agent = await createEdgeAgent({ url: a.mqttUrl, home: h, device: 'help-button', secret: creds.get(h)!, queueDir: join(tempDir(t), 'q'), logger: silentLogger() });
    t.teardown(() => agent.close());
    await agent.publishEvent({ id: `press-${h}`, ts: toLocalIso(start, tz), kind: 'button', press: 'help' });
  }
  const to = (hub: Hub, phone: string) => hub.localTwilio!.messages().filter((m) => m.to === phone).length;
  await until(() => homes.every((h) => to(a, family(h)) === 1), hang, 'node A paging every family');
  await a.notifier.idle();
  const tokensBefore = new Map(homes.map((h) => [h, a.cluster!.ownership.tokenOf(h)]));

  // B joins: it takes its share; A keeps running and keeps the rest.
  const b = await startNode('node-b');
  t.teardown(() => b.close());
  const share = (node: string) => homes.filter((h) => rendezvousOwner(h, ['node-a', 'node-b']) === node);
  t.ok(share('node-a').length > 0 && share('node-b').length > 0, 'both nodes have a share of the homes');
  await until(() => running(a).join() === share('node-a').join() && running(b).join() === share('node-b').join(), hang, 'each node running exactly its share');
  for (const h of share('node-b')) {
    t.equal(b.cluster!.ownership.tokenOf(h), (tokensBefore.get(h) ?? 0) + 1, `${h}: B holds the next token`);
    t.same(await b.store.getHomeFence(h), { token: (tokensBefore.get(h) ?? 0) + 1, owner: 'node-b' }, `${h}: PostgreSQL's fence names B`);
  }

  // Tier 2 falls due: each home's caregiver is paged once, by the node running the home now.
  clock.advanceTo(start + 10 * min + 1000);
  await until(() => homes.every((h) => to(a, carer(h)) + to(b, carer(h)) >= 1), hang, 'every caregiver paged');
  await a.notifier.idle();
  await b.notifier.idle();
  for (const h of homes) {
    const [by, other] = share('node-b').includes(h) ? [b, a] : [a, b];
    t.same([to(by, carer(h)), to(other, carer(h))], [1, 0], `${h}: the caregiver paged once, by ${by === a ? 'A' : 'B'}`);
    t.same([to(a, family(h)), to(b, family(h))], [1, 0], `${h}: the family was paged once (tier 1, by A) and not again`);
  }
  t.equal(a.localTwilio!.messages().length + b.localTwilio!.messages().length, homes.length * 2, 'no other message');

  // A stalled A, still carrying its old token for a moved home, is refused by PostgreSQL.
  const moved = share('node-b')[0]!;
  const [alert] = await a.store.listAlerts({ homeId: moved });
  await t.rejects(a.store.claimSendKeys([{ key: 'stale', alertId: alert!.id, channel: 'sms', createdAt: clock.now() }], { home: moved, owner: 'node-a', token: tokensBefore.get(moved)! }),
    { code: 'MIMAMORI_ERR_FENCED' }, 'a send with the former owner\'s token is refused');
});
