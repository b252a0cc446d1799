import t from 'tap';
import type { Reading } from '../../core/events.js';
import { eventTopic, heartbeatTopic } from '../../core/topics.js';
import { provisionDevice, provisionService } from '../../broker/device-credentials.js';
import { createIngest, type Ingest } from '../../broker/ingest.js';
import mqtt from 'mqtt';
import { captureLogs, connect, startBroker, ts, until, type Harness } from './helpers.js';

async function setUp(h: Harness) {
  await h.store.createHome({ id: 'h1', name: 'home one', timezone: 'Asia/Tokyo' });
  const kettle = await provisionDevice(h.store, { homeId: 'h1', deviceId: 'kettle', kind: 'kettle' });
  const door = await provisionDevice(h.store, { homeId: 'h1', deviceId: 'door', kind: 'door' });
  const svc = await provisionService(h.store, 'ingest');
  return { kettle, door, svc };
}

async function startIngest(h: Harness, svc: { username: string; secret: string }, logs = captureLogs()): Promise<{ ingest: Ingest; got: Reading[]; lines: string[] }> {
  // The hub's clock reads the time the test events carry (ts more than 5 min ahead would be refused).
  h.clock.advanceTo(Date.parse(ts));
  const ingest = await createIngest({ url: h.url(), username: svc.username, password: svc.secret, store: h.store, logger: logs.logger, clock: h.clock });
  const got: Reading[] = [];
  ingest.readings.subscribe((r) => got.push(r));
  return { ingest, got, lines: logs.lines };
}

t.test('valid events and heartbeats arrive as readings; duplicates are dropped', async (t) => {
  const h = await startBroker();
  t.teardown(() => h.close());
  const { kettle, door, svc } = await setUp(h);
  const { ingest, got } = await startIngest(h, svc);
  t.teardown(() => ingest.close());
  t.equal(ingest.stats().connected, true);

  const k = await connect(h.url(), { username: kettle.username, password: kettle.secret });
  const d = await connect(h.url('ws'), { username: door.username, password: door.secret });
  const on = JSON.stringify({ id: 'k-1', ts, kind: 'kettle', state: 'on', watts: 1200 });
  await k.publishAsync(eventTopic('h1', 'kettle'), on, { qos: 1 });
  await k.publishAsync(eventTopic('h1', 'kettle'), on, { qos: 1 }); // resent after a lost PUBACK
  await d.publishAsync(eventTopic('h1', 'door'), JSON.stringify({ id: 'k-1', ts, kind: 'door', open: true }), { qos: 1 }); // same id, other device
  await k.publishAsync(heartbeatTopic('h1', 'kettle'), JSON.stringify({ ts, battery: 80 }), { qos: 1 });
  await until(() => ingest.stats().received === 4);

  t.same(got, [
    { id: 'k-1', ts, kind: 'kettle', state: 'on', watts: 1200, home: 'h1', device: 'kettle', at: Date.parse(ts) },
    { id: 'k-1', ts, kind: 'door', open: true, home: 'h1', device: 'door', at: Date.parse(ts) },
    { kind: 'heartbeat', battery: 80, home: 'h1', device: 'kettle', at: Date.parse(ts) },
  ]);
  t.match(ingest.stats(), { received: 4, events: 2, heartbeats: 1, duplicates: 1, rejected: {} });
  await k.endAsync();
  await d.endAsync();
});

t.test('invalid input lands in the dead-letter table with a reason, counted, logged without payload', async (t) => {
  const h = await startBroker();
  t.teardown(() => h.close());
  const { kettle, svc } = await setUp(h);
  const { ingest, got, lines } = await startIngest(h, svc);
  t.teardown(() => ingest.close());
  const k = await connect(h.url(), { username: kettle.username, password: kettle.secret });
  const bad: Array<[string, string, string]> = [
    [eventTopic('h1', 'kettle'), '{"id":"x1", secret-ish not json', 'malformed_json'],
    [eventTopic('h1', 'kettle'), JSON.stringify({ id: 'x2', ts, kind: 'toaster' }), 'unknown_kind'],
    [eventTopic('h1', 'kettle'), JSON.stringify({ id: 'x3', ts, kind: 'kettle', state: 'boiling' }), 'invalid_fields'],
    [eventTopic('h1', 'kettle'), '[1,2,3]', 'not_an_object'],
    [heartbeatTopic('h1', 'kettle'), JSON.stringify({ ts, battery: 140 }), 'invalid_fields'],
  ];
  for (const [topic, payload] of bad) await k.publishAsync(topic, payload, { qos: 1 });
  await until(() => ingest.stats().received === bad.length);
  t.same(got, [], 'nothing invalid reaches the rules');
  t.same(ingest.stats().rejected, { malformed_json: 1, unknown_kind: 1, invalid_fields: 2, not_an_object: 1 });

  const dead = await h.store.listRejected(10);
  t.equal(dead.length, bad.length);
  for (const [topic, payload, reason] of bad) {
    const row = dead.find((r) => r.payload === payload);
    t.match(row, { topic, payload, reason, homeId: 'h1', deviceId: 'kettle', at: h.clock.now() }, reason);
    t.ok((row?.detail ?? '').length > 0, 'has a detail');
  }
  t.match(dead.find((r) => r.payload?.includes('boiling'))?.detail, /state/);
  t.equal((await h.store.listRejected(2)).length, 2, 'limit');
  const log = lines.join('');
  t.match(log, /"reason":"unknown_kind"/);
  t.match(log, /mimamori\/v1\/homes\/h1\/devices\/kettle\/events/);
  t.notOk(log.includes('secret-ish'), 'payload never logged');
  t.notOk(log.includes('boiling'), 'payload never logged');
  await k.endAsync();
});

t.test('old event ids are pruned every minute in short statements, the event loop turning between them', async (t) => {
  const h = await startBroker();
  t.teardown(() => h.close());
  const { svc } = await setUp(h);
  h.clock.advanceTo(Date.parse(ts));
  const ingest = await createIngest({ url: h.url(), username: svc.username, password: svc.secret, store: h.store, logger: captureLogs().logger, clock: h.clock, pruneChunk: 2 });
  t.teardown(() => ingest.close());
  const eightDaysAgo = h.clock.now() - 8 * 24 * 3600_000;
  for (let i = 0; i < 5; i++) t.equal(await h.store.markEventSeen('h1', 'kettle', `old-${i}`, eightDaysAgo + i), true);
  t.equal(await h.store.markEventSeen('h1', 'kettle', 'recent', h.clock.now()), true);
  // Each statement: its limit, what it removed, and whether a task queued by the one before it ran first.
  const calls: { limit: number | undefined; removed: number; turned: boolean }[] = [];
  let turned = true;
  const prune = h.store.pruneSeenEvents.bind(h.store);
  h.store.pruneSeenEvents = async (olderThan, limit) => {
    const removed = await prune(olderThan, limit);
    calls.push({ limit, removed, turned });
    turned = false;
    setImmediate(() => { turned = true; });
    return removed;
  };
  h.clock.advanceBy(60_000);
  await until(() => calls.length === 3);
  t.same(calls, [
    { limit: 2, removed: 2, turned: true },
    { limit: 2, removed: 2, turned: true },
    { limit: 2, removed: 1, turned: true },
  ], 'a minute on: three statements of at most 2 ids, the last one short, each after a turn of the event loop');
  t.equal(ingest.stats().pruned, 5);
  t.equal(await prune(Number.MAX_SAFE_INTEGER), 1, 'the recent id is kept');
});

t.test('event ids are forgotten after seven days (pruned on the injected clock), and so is the event', async (t) => {
  const h = await startBroker();
  t.teardown(() => h.close());
  const { kettle, svc } = await setUp(h);
  const { ingest, got } = await startIngest(h, svc);
  t.teardown(() => ingest.close());
  const k = await connect(h.url(), { username: kettle.username, password: kettle.secret });
  const event = JSON.stringify({ id: 'same', ts, kind: 'kettle', state: 'off' });
  await k.publishAsync(eventTopic('h1', 'kettle'), event, { qos: 1 });
  await until(() => ingest.stats().received === 1);
  h.clock.advanceBy(6 * 24 * 3600_000);
  await until(async () => (await h.store.pruneSeenEvents(h.clock.now() - 7 * 24 * 3600_000)) === 0);
  await k.publishAsync(eventTopic('h1', 'kettle'), event, { qos: 1 });
  await until(() => ingest.stats().received === 2);
  t.equal(ingest.stats().duplicates, 1, 'still remembered after six days');
  // Ids go by whole days: once the day of its ts is past the window (another day on).
  h.clock.advanceBy(2 * 24 * 3600_000);
  await until(() => ingest.stats().pruned === 1);
  // A retained or queued copy coming back now must not count as new: its ts is as old as its id.
  await k.publishAsync(eventTopic('h1', 'kettle'), event, { qos: 1 });
  await until(() => ingest.stats().received === 3);
  t.equal(got.length, 1, 'not accepted again once its id is pruned: too old');
  t.same(ingest.stats().rejected, { ts_too_old: 1 });
  await k.endAsync();
});

t.test('an event or heartbeat far from the hub clock is dead-lettered with its reason; a late queue within 7 days is not', async (t) => {
  const h = await startBroker();
  t.teardown(() => h.close());
  const { kettle, svc } = await setUp(h);
  const { ingest, got } = await startIngest(h, svc);
  t.teardown(() => ingest.close());
  const now = h.clock.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  const k = await connect(h.url(), { username: kettle.username, password: kettle.secret });
  const sent: Array<[string, string, string | undefined]> = [
    [eventTopic('h1', 'kettle'), JSON.stringify({ id: 'f1', ts: '2300-01-01T00:00:00+09:00', kind: 'kettle', state: 'on' }), 'ts_in_future'],
    [eventTopic('h1', 'kettle'), JSON.stringify({ id: 'f2', ts: iso(now + 6 * 60_000), kind: 'kettle', state: 'on' }), 'ts_in_future'],
    [eventTopic('h1', 'kettle'), JSON.stringify({ id: 'p1', ts: iso(now - 8 * 24 * 3600_000), kind: 'kettle', state: 'on' }), 'ts_too_old'],
    [heartbeatTopic('h1', 'kettle'), JSON.stringify({ ts: '2300-01-01T00:00:00Z' }), 'ts_in_future'],
    [eventTopic('h1', 'kettle'), JSON.stringify({ id: 'ok1', ts: iso(now + 4 * 60_000), kind: 'kettle', state: 'on' }), undefined],
    [eventTopic('h1', 'kettle'), JSON.stringify({ id: 'ok2', ts: iso(now - 6 * 24 * 3600_000), kind: 'kettle', state: 'off' }), undefined],
    [heartbeatTopic('h1', 'kettle'), JSON.stringify({ ts: iso(now - 6 * 3600_000), battery: 50 }), undefined],
  ];
  for (const [topic, payload] of sent) await k.publishAsync(topic, payload, { qos: 1 });
  await until(() => ingest.stats().received === sent.length);
  t.same(got.map((r) => (r.kind === 'heartbeat' ? 'heartbeat' : r.id)), ['ok1', 'ok2', 'heartbeat'], 'drift of 4 min, a 6-day-old queued event and a late heartbeat pass');
  t.same(ingest.stats().rejected, { ts_in_future: 3, ts_too_old: 1 });
  const dead = await h.store.listRejected(10);
  t.equal(dead.length, 4, 'nothing refused is lost: every one is kept');
  for (const [topic, payload, reason] of sent.filter((x) => x[2] !== undefined)) {
    t.match(dead.find((r) => r.payload === payload), { topic, reason, homeId: 'h1', deviceId: 'kettle' }, reason ?? '');
  }
  t.match(dead.find((r) => r.payload?.includes('"f1"'))?.detail, /2299-12-31T15:00:00.000Z is 99752 days ahead of the hub's clock.*at most 5 min/);
  t.match(dead.find((r) => r.payload?.includes('"p1"'))?.detail, /8 days behind the hub's clock.*older than 7 days/);
  await k.endAsync();
});

t.test('event-time bounds are configurable but never beyond the de-duplication window', async (t) => {
  const h = await startBroker();
  t.teardown(() => h.close());
  const { svc } = await setUp(h);
  const opts = { url: h.url(), username: svc.username, password: svc.secret, store: h.store, logger: captureLogs().logger, clock: h.clock };
  await t.rejects(createIngest({ ...opts, eventTime: { maxAgeMs: 8 * 24 * 3600_000 } }), { code: 'MIMAMORI_ERR_CONFIG', message: /de-duplication window/ });
  await t.rejects(createIngest({ ...opts, eventTime: { maxFutureMs: -1 } }), { code: 'MIMAMORI_ERR_CONFIG', message: /maxFutureMs/ });
  const ingest = await createIngest({ ...opts, eventTime: { maxAgeMs: 24 * 3600_000 } });
  await ingest.close();
});

t.test('a refused ingest login is a clear error', async (t) => {
  const h = await startBroker();
  t.teardown(() => h.close());
  await t.rejects(createIngest({ url: h.url(), username: 'service:ingest', password: 'nope', store: h.store, logger: captureLogs().logger, clock: h.clock }), { code: 'MIMAMORI_ERR_UNAVAILABLE', message: /service:ingest/ });
  await t.rejects(createIngest({ url: 'http://x', username: 'a', password: 'b', store: h.store, logger: captureLogs().logger, clock: h.clock }), { code: 'MIMAMORI_ERR_CONFIG' });
});

t.test('while the ingest is away nothing is acknowledged; the device resends and it arrives when the ingest returns', async (t) => {
  const h = await startBroker({ requireService: 'ingest', persistence: 'level' });
  t.teardown(() => h.close());
  const { kettle, svc } = await setUp(h);
  const first = await startIngest(h, svc);
  const k = await mqtt.connectAsync(h.url(), { username: kettle.username, password: kettle.secret, clientId: 'h1/kettle', reconnectPeriod: 0 });
  await k.publishAsync(eventTopic('h1', 'kettle'), JSON.stringify({ id: 'live-1', ts, kind: 'kettle', state: 'on' }), { qos: 1 });
  await until(() => first.got.length === 1);
  const sentAway = new Promise<void>((resolve) => k.once('close', () => resolve()));
  await first.ingest.close();
  await sentAway;
  t.pass('the device is disconnected when the ingest leaves');
  const attempt = mqtt.connect(h.url(), { username: kettle.username, password: kettle.secret, clientId: 'h1/kettle', reconnectPeriod: 0 });
  const refused = await new Promise<number | string>((resolve) => {
    attempt.once('connect', () => resolve('connected'));
    attempt.once('error', (e: Error & { code?: number }) => resolve(e.code ?? e.message));
  });
  attempt.end(true);
  k.end(true);
  t.equal(refused, 3, 'and cannot come back (server unavailable) until the ingest is back');

  // After a broker restart (the hub restarting), the same holds, and the event the device kept arrives.
  await h.restart({ requireService: 'ingest', persistence: 'level' });
  const second = await startIngest(h, svc);
  t.teardown(() => second.ingest.close());
  const again = await connect(h.url(), { username: kettle.username, password: kettle.secret, clientId: 'h1/kettle' });
  await again.publishAsync(eventTopic('h1', 'kettle'), JSON.stringify({ id: 'kept-1', ts, kind: 'kettle', state: 'off' }), { qos: 1 });
  await until(() => second.got.length === 1);
  t.match(second.got[0], { id: 'kept-1', device: 'kettle' });
  await again.endAsync();

  // A second hub on the same data folder is refused clearly instead of sharing the session store.
  const { createBroker } = await import('../../broker/index.js');
  await t.rejects(createBroker({
    host: '127.0.0.1', tcpPort: 0, tlsPort: 0, wsPort: 0, maxPacketSize: 4096, lockout: { maxFailures: 3, windowMs: 60_000, lockMs: 60_000 },
    dataDir: h.dataDir, store: h.store, logger: captureLogs().logger, clock: h.clock, persistence: 'level',
  }), { code: 'MIMAMORI_ERR_UNAVAILABLE', message: /another hub/ });
});
