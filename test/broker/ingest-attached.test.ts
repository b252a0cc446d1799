/**
 * The ingest attached to the broker in-process (what the hub runs): a
 * device's PUBACK waits for the batch holding its message to commit; many
 * messages share one transaction; a resend of an event whose batch has not
 * committed waits for it; the history outbox survives a crash and is
 * replayed exactly once.
 */
import t from 'tap';
import { join } from 'node:path';
import type { Reading } from '../../core/events.js';
import { createSqliteStore, type Store } from '../../core/store.js';
import { eventTopic, heartbeatTopic } from '../../core/topics.js';
import { provisionDevice } from '../../broker/device-credentials.js';
import { createIngest, type IngestHistory } from '../../broker/ingest.js';
import { createIngestBatcher } from '../../broker/ingest-batch.js';
import { tempDir } from '../support/wait.js';
import { closed, connect, startBroker, ts, until } from './helpers.js';

const event = (id: string) => JSON.stringify({ id, ts, kind: 'power', watts: 100 });

/** A store whose batch commits are counted and can be held back. */
function countingStore(store: Store): { store: Store; commits: () => number; hold(): () => void } {
  let commits = 0;
  let gate: Promise<void> | undefined;
  const wrapped = Object.create(store) as Store;
  wrapped.commitIngestBatch = async (items, at) => {
    if (gate) await gate;
    commits++;
    return store.commitIngestBatch(items, at);
  };
  return {
    store: wrapped, commits: () => commits,
    hold() { let release!: () => void; gate = new Promise((r) => { release = r; }); return () => { gate = undefined; release(); }; },
  };
}

t.test('the PUBACK waits for the sink; a refused message is never acknowledged', async (t) => {
  const h = await startBroker({ requireIngest: true });
  t.teardown(() => h.close());
  await h.store.createHome({ id: 'h1', name: 'home one', timezone: 'Asia/Tokyo' });
  const dev = await provisionDevice(h.store, { homeId: 'h1', deviceId: 'meter', kind: 'power' });

  await t.rejects(connect(h.url(), { username: dev.username, password: dev.secret }), /unavailable/i, 'no ingest attached: devices wait');
  const held: Array<{ topic: string; release: (ok: boolean) => void }> = [];
  const detach = h.broker.attachIngest((topic) => new Promise<void>((resolve, reject) => {
    held.push({ topic, release: (ok) => (ok ? resolve() : reject(new Error('store is down'))) });
  }));
  t.throws(() => h.broker.attachIngest(async () => undefined), { code: 'MIMAMORI_ERR_CONFLICT' }, 'one ingest at a time');

  const c = await connect(h.url(), { username: dev.username, password: dev.secret });
  let acked = false;
  const first = c.publishAsync(eventTopic('h1', 'meter'), event('e1'), { qos: 1 }).then(() => { acked = true; });
  await until(() => held.length === 1, 5000, 'the sink to get the message');
  // Give the broker every chance to answer early: a round trip on the same connection.
  await c.publishAsync(heartbeatTopic('h1', 'meter'), JSON.stringify({ ts, battery: 90 }), { qos: 0 });
  await until(() => held.length === 2, 5000, 'the QoS 0 heartbeat');
  t.equal(acked, false, 'no PUBACK while the sink has not resolved');
  held[0]!.release(true);
  held[1]!.release(true);
  await first;
  t.equal(acked, true, 'PUBACK once the sink resolved');

  void c.publishAsync(eventTopic('h1', 'meter'), event('e2'), { qos: 1 }).catch(() => undefined);
  await until(() => held.length === 3, 5000, 'the second message');
  held[2]!.release(false);
  t.equal(await closed(c), true, 'a message the ingest could not take closes the connection, unacknowledged');
  c.end(true); // its unacknowledged message would otherwise keep end() waiting

  detach();
  await t.rejects(connect(h.url(), { username: dev.username, password: dev.secret }), /unavailable/i, 'ingest detached: devices wait again');
});

t.test('many devices in flight share transactions; every event once, resends dropped', async (t) => {
  const h = await startBroker({ requireIngest: true });
  t.teardown(() => h.close());
  await h.store.createHome({ id: 'h1', name: 'home one', timezone: 'Asia/Tokyo' });
  h.clock.advanceTo(Date.parse(ts));
  const counting = countingStore(h.store);
  const ingest = await createIngest({ broker: h.broker, store: counting.store, logger: h.logs.logger, clock: h.clock });
  t.teardown(() => ingest.close());
  const got: Reading[] = [];
  ingest.readings.subscribe((r) => got.push(r));

  const devices = 4, perDevice = 100;
  const clients = await Promise.all(Array.from({ length: devices }, async (_, d) => {
    const creds = await provisionDevice(h.store, { homeId: 'h1', deviceId: `m${d}`, kind: 'power' });
    return connect(h.url(), { username: creds.username, password: creds.secret });
  }));
  // No waiting for each PUBACK: all in flight at once, and every event sent twice.
  await Promise.all(clients.flatMap((c, d) => Array.from({ length: perDevice }, (_, i) => [
    c.publishAsync(eventTopic('h1', `m${d}`), event(`e${i}`), { qos: 1 }),
    c.publishAsync(eventTopic('h1', `m${d}`), event(`e${i}`), { qos: 1 }),
  ]).flat()));
  await ingest.idle();

  t.equal(got.length, devices * perDevice, 'each event emitted exactly once');
  t.equal(new Set(got.map((r) => `${r.device}/${(r as { id: string }).id}`)).size, devices * perDevice, 'no event twice');
  t.match(ingest.stats(), { received: 2 * devices * perDevice, events: devices * perDevice, duplicates: devices * perDevice });
  t.ok(counting.commits() < devices * perDevice / 4, `far fewer transactions than events (${counting.commits()} for ${devices * perDevice})`);
  await Promise.all(clients.map((c) => c.endAsync()));
});

t.test('a resend waits for its original batch to commit, and fails with it', async (t) => {
  const store = createSqliteStore(':memory:');
  t.teardown(() => store.close());
  const counting = countingStore(store);
  const emitted: string[] = [];
  const batcher = createIngestBatcher<string>({ store: counting.store, now: () => 1, emit: (v) => emitted.push(v) });
  const item = { homeId: 'h1', deviceId: 'd1', eventId: 'e1', value: 'first' };

  const release = counting.hold();
  const order: string[] = [];
  const original = batcher.submit(item).then((fresh) => { order.push(`original ${fresh}`); });
  await new Promise((r) => setImmediate(r));
  const resend = batcher.submit({ ...item, value: 'resend' }).then((fresh) => { order.push(`resend ${fresh}`); });
  await new Promise((r) => setTimeout(r, 20));
  t.same(order, [], 'neither answered while the batch is held');
  release();
  await Promise.all([original, resend]);
  t.same(order, ['original true', 'resend false'], 'the resend is answered after the original, as a duplicate');
  t.same(emitted, ['first']);
  t.equal(counting.commits(), 1, 'the resend cost no transaction');

  // A failed commit answers neither, and forgets the id so a later resend is tried again.
  const failing = Object.create(store) as Store;
  failing.commitIngestBatch = () => Promise.reject(new Error('disk full'));
  const b2 = createIngestBatcher<string>({ store: failing, now: () => 1, emit: (v) => emitted.push(v) });
  const a = b2.submit({ ...item, eventId: 'e2' });
  const b = b2.submit({ ...item, eventId: 'e2' });
  await t.rejects(a, /disk full/);
  await t.rejects(b, /disk full/, 'the resend is not acknowledged either');
  t.same(emitted, ['first'], 'nothing emitted from a failed batch');
});

t.test('recent ids: the newest are answered from memory, older ones from the store, and both are duplicates', async (t) => {
  const store = createSqliteStore(':memory:');
  t.teardown(() => store.close());
  const counting = countingStore(store);
  const batcher = createIngestBatcher<string>({ store: counting.store, now: () => 1, emit: () => undefined, recentIds: 50 });
  const item = (i: number) => ({ homeId: 'h1', deviceId: 'd1', eventId: `e${i}`, value: `v${i}` });
  // 2,000 ids in batches of 20: the memory of 50 is evicted oldest first, over and over.
  for (let i = 0; i < 2000; i += 20) {
    const fresh = await Promise.all(Array.from({ length: 20 }, (_, k) => batcher.submit(item(i + k))));
    t.ok(fresh.every((f) => f), `ids ${i}–${i + 19} fresh`);
  }
  const before = counting.commits();
  const newest = await Promise.all(Array.from({ length: 50 }, (_, k) => batcher.submit(item(1950 + k))));
  t.ok(newest.every((f) => !f), 'the 50 newest resent: duplicates');
  t.equal(counting.commits(), before, 'answered from memory, no transaction');
  const older = await batcher.submit(item(1949));
  t.equal(older, false, 'an id older than the memory: still a duplicate');
  t.equal(counting.commits(), before + 1, 'asked of the store');
  const oldest = await batcher.submit(item(0));
  t.equal(oldest, false, 'the very first id: a duplicate too');
  const again = await batcher.submit(item(1949));
  t.equal(again, false);
  t.equal(counting.commits(), before + 2, 'an id just confirmed by the store is remembered again');
});

t.test('the history outbox: kept until history confirms, replayed once after a crash', async (t) => {
  const dir = tempDir(t, 'mimamori-outbox-');
  const file = join(dir, 'hub.sqlite');
  const h = await startBroker({ requireIngest: true });
  t.teardown(() => h.close());
  h.clock.advanceTo(Date.parse(ts));
  const store1 = createSqliteStore(file);
  await store1.createHome({ id: 'h1', name: 'home one', timezone: 'Asia/Tokyo' });
  const dev = await provisionDevice(store1, { homeId: 'h1', deviceId: 'meter', kind: 'power' });
  // The broker checks logins against its own store: the same device there.
  await h.store.createHome({ id: 'h1', name: 'home one', timezone: 'Asia/Tokyo' });
  await h.store.addDevice({ homeId: 'h1', deviceId: 'meter', kind: 'power', secretHash: (await store1.getDevice('h1', 'meter'))!.secretHash });

  const written: Reading[] = [];
  let flushes = 0;
  const history: IngestHistory = { writeReading: (r) => written.push(r), flush: async () => { flushes++; } };
  const ingest1 = await createIngest({ broker: h.broker, store: store1, logger: h.logs.logger, clock: h.clock, history, confirmEveryMs: 60_000 });
  ingest1.readings.subscribe((r) => history.writeReading(r));
  const c = await connect(h.url(), { username: dev.username, password: dev.secret });
  for (let i = 0; i < 5; i++) await c.publishAsync(eventTopic('h1', 'meter'), event(`e${i}`), { qos: 1 });
  await c.publishAsync(heartbeatTopic('h1', 'meter'), JSON.stringify({ ts, battery: 90 }), { qos: 1 });
  t.equal((await store1.listIngestOutbox()).length, 6, 'every acknowledged reading is in the outbox until history confirms');

  // The crash: ingest1 is abandoned, its store closed without a confirm.
  await store1.close();
  const store2 = createSqliteStore(file);
  t.teardown(() => store2.close());
  const replayed: Reading[] = [];
  const history2: IngestHistory = { writeReading: (r) => replayed.push(r), flush: async () => { flushes++; } };
  // Only the replay matters here: a stand-in for the broker the restarted hub would attach to.
  const ingest2 = await createIngest({ broker: { attachIngest: () => () => undefined }, store: store2, logger: h.logs.logger, clock: h.clock, history: history2, confirmEveryMs: 60_000 });
  t.teardown(() => ingest2.close());
  t.equal(ingest2.stats().replayed, 6, 'all six replayed');
  t.same(replayed, written, 'the same readings history had been given');
  t.equal((await store2.listIngestOutbox()).length, 0, 'confirmed after the replay');
  t.equal(flushes, 1, 'the replay flushed history once');
  await c.endAsync();
});

t.test('outbox rows are deleted after a confirm round on the clock', async (t) => {
  const h = await startBroker({ requireIngest: true });
  t.teardown(() => h.close());
  h.clock.advanceTo(Date.parse(ts));
  await h.store.createHome({ id: 'h1', name: 'home one', timezone: 'Asia/Tokyo' });
  const dev = await provisionDevice(h.store, { homeId: 'h1', deviceId: 'meter', kind: 'power' });
  let flushes = 0;
  let releaseFlush: (() => void) | undefined;
  const history: IngestHistory = { writeReading: () => undefined, flush: () => { flushes++; return new Promise((r) => { releaseFlush = r; }); } };
  const ingest = await createIngest({ broker: h.broker, store: h.store, logger: h.logs.logger, clock: h.clock, history, confirmEveryMs: 1000 });
  ingest.readings.subscribe(() => undefined);
  const c = await connect(h.url(), { username: dev.username, password: dev.secret });
  for (let i = 0; i < 3; i++) await c.publishAsync(eventTopic('h1', 'meter'), event(`e${i}`), { qos: 1 });
  t.equal((await h.store.listIngestOutbox()).length, 3);
  h.clock.advanceBy(1000);
  t.equal(flushes, 1, 'the confirm round asked history to flush');
  t.equal((await h.store.listIngestOutbox()).length, 3, 'kept while history has not confirmed');
  releaseFlush!();
  await until(async () => (await h.store.listIngestOutbox()).length === 0, 5000, 'the outbox to empty');
  await c.endAsync();
  await ingest.close();
});
