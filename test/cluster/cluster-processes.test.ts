/**
 * The multi-process cluster (issue 13, item 4): three hub PROCESSES
 * (test/cluster/fixtures/cluster-node.ts, `startHub` in cluster mode) on one
 * real PostgreSQL and one redis-server, on one scaled clock. Each home's help
 * button is connected to a node that does not own the home; the press is
 * stored once and raised once, by the owner; every family is paged (tier 1).
 * Then the owner of the watched home is killed with SIGKILL between tiers:
 * its homes are fenced by the survivors within 30 s, and when tier 2 falls
 * due every caregiver is paged exactly once — the dead node's by the new
 * owners. Messages are counted in every node's local Twilio record (the dead
 * node's included), presses in PostgreSQL.
 *
 * The second test keeps devices sending through a node join (a rebalance)
 * and a kill -9 of another node: every event acknowledged to a device is in
 * InfluxDB exactly once, though its home had no owner for a while (the
 * inbox, docs/scale.md "Ingest by ownership"). Waits are barriers; the
 * bounds only guard against hangs on a busy machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import pg from 'pg';
import { InfluxDB } from 'influx';
import mqtt from 'mqtt';
import { silentLogger } from '../../core/logger.js';
import { eventTopic } from '../../core/topics.js';
import { startManagedInfluxd } from '../../history/managed-influxd.js';
import { createPgStore } from '../../core/store-pg.js';
import { toLocalIso } from '../../core/time.js';
import { provisionDevice } from '../../broker/index.js';
import { createEdgeAgent } from '../../edge/index.js';
import { rendezvousOwner } from '../../cluster/index.js';
import { postgresInstalled, startPostgres } from '../support/postgres.js';
import { startRedis } from '../support/redis.js';
import { tsChildArgs } from '../support/ts-child.js';
import { tempDir, until } from '../support/wait.js';

const child = fileURLToPath(new URL('./fixtures/cluster-node.ts', import.meta.url));
// Three children each loading the whole hub: on a busy 2-core machine a start alone can take a minute.
t.setTimeout(900_000);
const hang = 240_000;

const tz = 'Asia/Tokyo';
const homes = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'];
const nodes = ['node-a', 'node-b', 'node-c'];
const family = (h: string) => `+8190111100${h.slice(1).padStart(2, '0')}`;
const carer = (h: string) => `+8190333300${h.slice(1).padStart(2, '0')}`;
// Tier 1 waits 20 virtual minutes: at speed 20 that is 60 s of real time to kill a node and hand its homes over.
const speed = 20;
const policy = {
  tiers: [
    { name: 'family', recipients: [{ role: 'family' }], channels: ['sms'], waitMinutes: 20 },
    { name: 'caregiver', recipients: [{ role: 'caregiver' }], channels: ['sms'], waitMinutes: 60 },
  ],
  entry: { info: 'family', warning: 'family', critical: 'family' },
};

interface Node { id: string; dir: string; proc: ChildProcess; mqttUrl: Promise<string>; exited: Promise<unknown> }

function startNode(t: Test, id: string, databaseUrl: string, redisUrl: string, clockFile: string, env: NodeJS.ProcessEnv = process.env): Node {
  const dir = tempDir(t, `mimamori-${id}-`);
  const proc = spawn(process.execPath, tsChildArgs(child, dir, id, databaseUrl, redisUrl, clockFile), { stdio: ['ignore', 'pipe', 'inherit'], env });
  let out = '';
  const mqttUrl = new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /^ready (\S+)$/m.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.once('exit', (code, signal) => reject(new Error(`${id} exited before it was ready (${code ?? signal})`)));
  });
  mqttUrl.catch(() => undefined);
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  t.teardown(async () => { if (proc.exitCode === null && proc.signalCode === null) { proc.kill('SIGTERM'); await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]); proc.kill('SIGKILL'); } });
  return { id, dir, proc, mqttUrl, exited };
}

/** Distinct messages per destination over every node's local Twilio record. */
function sentTo(list: Node[]): Map<string, { count: number; by: string[] }> {
  const out = new Map<string, { count: number; by: string[] }>();
  for (const n of list) {
    const file = join(n.dir, 'twilio-messages.ndjson');
    if (!existsSync(file)) continue;
    const sids = new Map<string, string>();
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const r = JSON.parse(line) as { kind: string; sid: string; to: string };
      if (r.kind === 'message') sids.set(r.sid, r.to);
    }
    for (const to of sids.values()) {
      const e = out.get(to) ?? { count: 0, by: [] };
      e.count++;
      e.by.push(n.id);
      out.set(to, e);
    }
  }
  return out;
}

t.test('three hub processes: a press raised once by its owner; kill -9 of an owner between tiers; the next tier sent once by the new owner', { skip: postgresInstalled ? false : 'PostgreSQL 15 not installed' }, async (t) => {
  const server = await startPostgres(t);
  const databaseUrl = await server.createDatabase();
  const redis = await startRedis(t);
  const sql = new pg.Client({ connectionString: databaseUrl });

  // The shared data, written before any node starts (the first store creates the schema).
  const setup = await createPgStore(databaseUrl);
  const creds = new Map<string, string>();
  for (const h of homes) {
    await setup.createHome({ id: h, name: `Home ${h}`, timezone: tz });
    await setup.addContact({ homeId: h, name: `Family ${h}`, role: 'family', phone: family(h), language: 'en', priority: 1 });
    await setup.addContact({ homeId: h, name: `Carer ${h}`, role: 'caregiver', phone: carer(h), language: 'en', priority: 2 });
    await setup.setEscalationPolicy(h, policy, Date.now());
    creds.set(h, (await provisionDevice(setup, { homeId: h, deviceId: 'help-button', kind: 'button' })).secret);
  }
  await setup.close();
  await sql.connect();
  t.teardown(() => sql.end());

  const clockFile = join(tempDir(t, 'mimamori-clock-'), 'clock.json');
  const t0 = { real: Date.now(), virtual: Date.parse('2026-11-21T10:00:00+09:00'), speed };
  writeFileSync(clockFile, JSON.stringify(t0));
  const virtualNow = () => t0.virtual + (Date.now() - t0.real) * speed;

  const running: Node[] = nodes.map((id) => startNode(t, id, databaseUrl, redis.url, clockFile));
  const urls = new Map<string, string>();
  for (const n of running) urls.set(n.id, await n.mqttUrl);

  const fences = async () => new Map((await sql.query<{ home_id: string; owner: string | null }>('SELECT home_id, owner FROM home_fences')).rows.map((r) => [r.home_id, r.owner]));
  const ownerIs = async (expected: (h: string) => string | undefined) => { const f = await fences(); return homes.every((h) => f.get(h) === expected(h)); };
  await until(() => ownerIs((h) => rendezvousOwner(h, nodes)), hang, 'every home fenced by its rendezvous owner among the three');
  const owner = (h: string) => rendezvousOwner(h, nodes)!;
  t.ok(nodes.every((n) => homes.some((h) => owner(h) === n)), 'each node owns some homes');

  // Each home's button is connected to the next node after its owner: never the owner.
  const agents = [];
  for (const h of homes) {
    const via = nodes[(nodes.indexOf(owner(h)) + 1) % nodes.length]!;
    const agent = await createEdgeAgent({ url: urls.get(via)!, home: h, device: 'help-button', secret: creds.get(h)!, queueDir: join(tempDir(t), `q-${h}`), logger: silentLogger() });
    t.teardown(() => agent.close());
    agents.push(agent);
    await agent.publishEvent({ id: `press-${h}`, ts: toLocalIso(virtualNow(), tz), kind: 'button', press: 'help' });
  }
  for (const agent of agents) await agent.drained();
  t.pass('every press acknowledged to its device');
  await until(async () => homes.every((h) => (sentTo(running).get(family(h))?.count ?? 0) >= 1), hang, 'every family paged');
  const tier1 = sentTo(running);
  for (const h of homes) t.same(tier1.get(family(h)), { count: 1, by: [owner(h)] }, `${h}: pressed on another node, paged once by its owner ${owner(h)}`);
  const stored = await sql.query<{ home_id: string; n: string }>("SELECT home_id, COUNT(*) AS n FROM seen_ids WHERE device_id = 'help-button' GROUP BY home_id ORDER BY home_id");
  t.same(stored.rows.map((r) => [r.home_id, Number(r.n)]), homes.map((h) => [h, 1]), 'each acknowledged press stored once');
  const alerts = await sql.query<{ home_id: string }>('SELECT home_id FROM alerts ORDER BY home_id');
  t.same(alerts.rows.map((r) => r.home_id), homes, 'one alert per home');

  // kill -9 of the node that owns h1, between tiers (tier 2 is due 20 virtual minutes after tier 1).
  const victim = running.find((n) => n.id === owner('h1'))!;
  const victimHomes = homes.filter((h) => owner(h) === victim.id);
  const survivors = nodes.filter((n) => n !== victim.id);
  const killedAt = Date.now();
  victim.proc.kill('SIGKILL');
  await victim.exited;
  await until(() => ownerIs((h) => rendezvousOwner(h, survivors)), hang, 'the dead node\'s homes fenced by the survivors');
  const handOverMs = Date.now() - killedAt;
  t.comment(`hand-over after kill -9: ${handOverMs} ms for ${victimHomes.length} homes (${victimHomes.join(', ')})`);
  t.ok(handOverMs <= 30_000, `the dead node's homes moved within 30 s (${handOverMs} ms)`);
  t.ok(homes.every((h) => (sentTo(running).get(carer(h))?.count ?? 0) === 0), 'no caregiver paged yet: the kill was between tiers');

  await until(async () => homes.every((h) => (sentTo(running).get(carer(h))?.count ?? 0) >= 1), hang, 'every caregiver paged');
  const tier2 = sentTo(running);
  for (const h of homes) {
    const by = rendezvousOwner(h, survivors)!;
    t.same(tier2.get(carer(h)), { count: 1, by: [by] }, `${h}: caregiver paged once, by ${by}${victimHomes.includes(h) ? ' (took the home over from the dead node)' : ''}`);
    t.same(tier2.get(family(h))?.count, 1, `${h}: family not paged again`);
  }
  t.equal([...tier2.values()].reduce((a, e) => a + e.count, 0), homes.length * 2, 'no other message');
  const keys = await sql.query<{ n: string }>("SELECT COUNT(*) AS n FROM send_keys");
  t.equal(Number(keys.rows[0]!.n), homes.length * 2, 'one send key per message: none claimed twice, none left unsent');
});

t.test('devices keep sending while a node joins and another is killed with SIGKILL: every acknowledged event is in InfluxDB exactly once', { skip: postgresInstalled ? false : 'PostgreSQL 15 not installed' }, async (t) => {
  const server = await startPostgres(t);
  const databaseUrl = await server.createDatabase();
  const redis = await startRedis(t);
  const influxd = await startManagedInfluxd({ dataDir: join(tempDir(t, 'mimamori-influx-'), 'db'), logger: silentLogger() });
  t.teardown(() => influxd.close());
  const sql = new pg.Client({ connectionString: databaseUrl });

  const setup = await createPgStore(databaseUrl);
  const logins = new Map<string, { username: string; password: string }>();
  for (const h of homes) {
    await setup.createHome({ id: h, name: `Home ${h}`, timezone: tz });
    const c = await provisionDevice(setup, { homeId: h, deviceId: 'meter', kind: 'power' });
    logins.set(h, { username: c.username, password: c.secret });
  }
  await setup.close();
  await sql.connect();
  t.teardown(() => sql.end());
  const clockFile = join(tempDir(t, 'mimamori-clock-'), 'clock.json');
  writeFileSync(clockFile, JSON.stringify({ real: Date.now(), virtual: Date.now(), speed: 1 }));
  const env = { ...process.env, MIMAMORI_TEST_INFLUX_URL: influxd.url };
  const fences = async () => new Map((await sql.query<{ home_id: string; owner: string | null }>('SELECT home_id, owner FROM home_fences')).rows.map((r) => [r.home_id, r.owner]));
  const ownedAmong = async (members: string[]) => { const f = await fences(); return homes.every((h) => f.get(h) === rendezvousOwner(h, members)); };

  const [a, b] = [startNode(t, 'node-a', databaseUrl, redis.url, clockFile, env), startNode(t, 'node-b', databaseUrl, redis.url, clockFile, env)];
  const aUrl = await a!.mqttUrl;
  await b!.mqttUrl;
  await until(() => ownedAmong(['node-a', 'node-b']), hang, 'the homes fenced by A and B');

  // Every meter is connected to node A, which stays up throughout; each sends QoS 1 events one after another.
  const base = Date.now() - 60_000;
  let stop = false;
  const acked = new Map<string, number>(homes.map((h) => [h, 0]));
  const failures: string[] = [];
  const senders = await Promise.all(homes.map(async (h) => {
    const client = await mqtt.connectAsync(aUrl, { ...logins.get(h)!, clientId: `${h}/meter`, reconnectPeriod: 0 });
    t.teardown(() => client.endAsync(true));
    // Wrapped: a promise returned from an async function would be waited for by Promise.all.
    return { done: (async () => {
      for (let i = 0; !stop; i++) {
        const payload = JSON.stringify({ id: `ev-${i}`, ts: new Date(base + i).toISOString(), kind: 'power', watts: i });
        try {
          await client.publishAsync(eventTopic(h, 'meter'), payload, { qos: 1 });
          acked.set(h, i + 1);
        } catch (err) {
          failures.push(`${h} ev-${i}: ${(err as Error).message}`);
          return;
        }
        await new Promise((r) => setTimeout(r, 10)); // paces the load; nothing waits on this for a result
      }
    })() };
  }));
  const total = () => [...acked.values()].reduce((x, y) => x + y, 0);
  await until(() => total() >= 200, hang, 'events flowing');

  // A node joins while the meters send: some homes move to it.
  const c = startNode(t, 'node-c', databaseUrl, redis.url, clockFile, env);
  await c.mqttUrl;
  await until(() => ownedAmong(['node-a', 'node-b', 'node-c']), hang, 'the homes rebalanced over A, B and C');
  const moved = homes.filter((h) => rendezvousOwner(h, ['node-a', 'node-b']) !== rendezvousOwner(h, ['node-a', 'node-b', 'node-c']));
  t.ok(moved.length > 0, `homes moved to the new node while their meters sent (${moved.join(', ')})`);

  // kill -9 of node B while the meters send: its homes have no owner until the lease runs out.
  const bHomes = homes.filter((h) => rendezvousOwner(h, nodes) === 'node-b');
  t.ok(bHomes.length > 0, `node B owns homes when it is killed (${bHomes.join(', ')})`);
  const atKill = total();
  b!.proc.kill('SIGKILL');
  await b!.exited;
  await until(() => ownedAmong(['node-a', 'node-c']), hang, 'node B\'s homes fenced by A and C');
  const afterHandOver = total();
  t.ok(afterHandOver > atKill, `events acknowledged while node B's homes had no owner (${afterHandOver - atKill})`);
  await until(() => total() >= afterHandOver + 200, hang, 'events flowing after the hand-over');
  stop = true;
  await Promise.all(senders.map((x) => x.done));
  t.same(failures, [], 'every publish acknowledged');

  // Barriers: the inbox empties (every row run or replayed, and confirmed), then InfluxDB has every point.
  await until(async () => Number((await sql.query<{ n: string }>('SELECT COUNT(*) AS n FROM ingest_outbox')).rows[0]!.n) === 0, hang, 'the inbox to empty');
  const u = new URL(influxd.url);
  const influx = new InfluxDB({ host: u.hostname, port: Number(u.port), database: 'mimamori' });
  const count = async (h: string) => Number((await influx.query<{ count: number }>(`SELECT COUNT(watts) FROM mimamori.raw.event WHERE home = '${h}'`))[0]?.count ?? 0);
  await until(async () => { for (const h of homes) if (await count(h) < acked.get(h)!) return false; return true; }, hang, 'InfluxDB to hold every acknowledged event');
  for (const h of homes) {
    const distinct = await influx.query<{ count: number }>(`SELECT COUNT(DISTINCT(id)) FROM mimamori.raw.event WHERE home = '${h}'`);
    t.same([await count(h), Number(distinct[0]?.count)], [acked.get(h), acked.get(h)], `${h}: ${acked.get(h)} events acknowledged, ${acked.get(h)} points, one per event id${bHomes.includes(h) ? ' (its owner was killed)' : moved.includes(h) ? ' (moved to the new node)' : ''}`);
  }
  const seen = await sql.query<{ n: string }>("SELECT COUNT(*) AS n FROM seen_ids WHERE device_id = 'meter'");
  t.equal(Number(seen.rows[0]!.n), total(), 'each event de-duplicated and stored once');
});
