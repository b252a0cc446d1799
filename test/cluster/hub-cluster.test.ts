/**
 * Two hubs in cluster mode (`startHub` with a Redis URL) on a real
 * PostgreSQL and a real redis-server: every home runs on exactly one node;
 * a device connected to either node reaches the home's owner, whose rules
 * raise its finding exactly once; a node that leaves hands its homes over
 * with their rule state, and a help press to a moved home is raised once,
 * by the new owner. A tablet button pressed on a node that does not run the
 * home reaches the one that does (through the inbox). Waits are barriers (a node reports running a home);
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
const start = Date.parse('2026-11-21T09:00:00+09:00');
const homes = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'];
const hang = 60_000;

t.test('two nodes share the homes; each home\'s events are processed once, by its owner, and follow it when it moves', { skip: postgresInstalled ? false : 'PostgreSQL 15 not installed' }, async (t) => {
  const pg = await startPostgres(t);
  const databaseUrl = await pg.createDatabase();
  const redis = await startRedis(t);
  const influxUrl = `http://127.0.0.1:${await freePort()}`; // nobody there: history buffers, the alert path does not wait on it
  const startNode = (nodeId: string): Promise<Hub> => startClusterNode(t, { databaseUrl, redisUrl: redis.url, influxUrl, nodeId, clock: new VirtualClock(start) });

  const a = await startNode('node-a');
  let aClosed = false;
  t.teardown(async () => { if (!aClosed) await a.close(); });
  for (const h of homes) await a.store.createHome({ id: h, name: `Home ${h}`, timezone: tz });
  const creds = new Map<string, string>();
  for (const h of homes) creds.set(h, (await provisionDevice(a.store, { homeId: h, deviceId: 'help-button', kind: 'button' })).secret);
  const b = await startNode('node-b');
  t.teardown(() => b.close());

  const running = (hub: Hub) => hub.cluster!.runningHomes();
  // Rendezvous hashing is deterministic: the share each node must end with is known in advance.
  const share = (node: string) => homes.filter((h) => rendezvousOwner(h, ['node-a', 'node-b']) === node);
  t.ok(share('node-a').length > 0 && share('node-b').length > 0, 'both nodes have a share of the homes');
  await until(() => running(a).join() === share('node-a').join() && running(b).join() === share('node-b').join(), hang, 'each node running exactly its share');
  const ownerOf = (h: string) => (running(a).includes(h) ? a : b);
  const otherOf = (h: string) => (ownerOf(h) === a ? b : a);

  // Each home's help press comes in through the node that does NOT own it.
  const agents = [];
  for (const h of homes) {
    const agent = await createEdgeAgent({ url: otherOf(h).mqttUrl, home: h, device: 'help-button', secret: creds.get(h)!, queueDir: join(tempDir(t), 'q'), logger: silentLogger() });
    t.teardown(() => agent.close());
    agents.push(agent);
    await agent.publishEvent({ id: `press-${h}`, ts: toLocalIso(start, tz), kind: 'button', press: 'help' });
  }
  const helpFindings = (hub: Hub, h: string) => hub.recentFindings().filter((f) => f.home === h && f.type === 'helpButton');
  await until(() => homes.every((h) => helpFindings(ownerOf(h), h).length === 1), hang, 'each owner raising its home\'s help press');
  for (const h of homes) {
    t.equal(helpFindings(ownerOf(h), h).length, 1, `${h}: raised once, by its owner`);
    t.equal(helpFindings(otherOf(h), h).length, 0, `${h}: not by the node the device is connected to`);
  }
  // Each press was de-duplicated and stored once, by the ingest of the node its device is connected to (docs/scale.md,
  // "Ingest by ownership"): that node put it in the inbox, and the owner read it from there.
  await a.ingest.idle();
  await b.ingest.idle();
  t.equal(a.ingest.stats().received + b.ingest.stats().received, homes.length, 'every press heard by one node\'s ingest only: no broadcast to every node');
  t.equal(a.ingest.stats().events, share('node-b').length, 'node A\'s ingest took the presses of the devices connected to it: node B\'s homes');
  t.equal(b.ingest.stats().events, share('node-a').length, 'and node B\'s the others');
  await a.notifier.idle();
  await b.notifier.idle();
  t.same((await a.store.listAlerts({})).map((x) => x.homeId).sort(), homes, 'one alert per home in the shared store');

  // "I'm OK" on a tablet connected to node A, for a home node B runs: through the inbox to B, which clears the help finding, once.
  const bHome = share('node-b')[0]!;
  a.acceptReading({ kind: 'button', press: 'ok', id: `tablet-ok-${bHome}`, ts: toLocalIso(start, tz), home: bHome, device: 'tablet', at: start });
  await until(() => helpFindings(b, bHome).some((x) => x.state === 'cleared'), hang, 'node B clearing the help finding');
  t.same(helpFindings(b, bHome).map((x) => x.state), ['raised', 'cleared'], 'the tablet\'s "I\'m OK" pressed on node A reached the owner once');
  t.equal(helpFindings(a, bHome).length, 0, 'node A raised or cleared nothing for it');

  // Node A leaves: its homes move to B, with their rule state.
  const moved = running(a);
  aClosed = true;
  await a.close();
  await until(() => running(b).length === homes.length, hang, 'node B running every home');
  const h = moved[0]!;
  const agent = await createEdgeAgent({ url: b.mqttUrl, home: h, device: 'help-button', secret: creds.get(h)!, queueDir: join(tempDir(t), 'q2'), logger: silentLogger() });
  t.teardown(() => agent.close());
  await agent.publishEvent({ id: `press-again-${h}`, ts: toLocalIso(start, tz), kind: 'button', press: 'help' });
  await until(() => helpFindings(b, h).length === 1, hang, 'node B raising the moved home\'s press');
  const f = helpFindings(b, h)[0]!;
  t.same([f.state, f.data?.again], ['raised', true], 'the new owner knows the home\'s help press was already raised on node A: "again", not a second emergency');
  t.equal((await b.store.listAlerts({ homeId: h })).length, 1, 'still one alert for the moved home');
});
