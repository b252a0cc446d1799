import t from 'tap';
import { join } from 'node:path';
import { createSqliteStore } from '../../core/store.js';
import { migrations } from '../../core/migrations.js';
import { tempDir } from '../support/wait.js';
import Database from 'better-sqlite3';

const day = 86_400_000;

t.test('homes, residents, contacts and devices', async (t) => {
  const store = createSqliteStore(':memory:');
  t.teardown(() => store.close());
  await store.createHome({ id: 'h1', name: 'Yamada', timezone: 'Asia/Tokyo', address: '1-2-3 Chuo', entryNotes: 'key box 1234' });
  await t.rejects(store.createHome({ id: 'h1', name: 'dup', timezone: 'Asia/Tokyo' }), { code: 'MIMAMORI_ERR_CONFLICT' });
  t.equal((await store.getHome('h1'))?.entryNotes, 'key box 1234');
  t.equal(await store.getHome('nope'), undefined);
  await store.addResident({ homeId: 'h1', name: '山田花子', birthYear: 1941, language: 'ja' });
  t.equal((await store.listResidents('h1'))[0]?.birthYear, 1941);
  await store.addContact({ homeId: 'h1', name: 'Ken', role: 'family', phone: '+819011112222', language: 'en', priority: 2 });
  await store.addContact({ homeId: 'h1', name: '太郎', role: 'family', phone: '+819033334444', language: 'ja', priority: 1 });
  t.same((await store.listContacts('h1')).map((c) => c.priority), [1, 2], 'contacts come in priority order');
  await store.addDevice({ homeId: 'h1', deviceId: 'kettle', kind: 'kettle', secretHash: 'x' });
  await t.rejects(store.addDevice({ homeId: 'h1', deviceId: 'kettle', kind: 'kettle', secretHash: 'y' }));
  await store.setDeviceSecretHash('h1', 'kettle', 'z');
  t.equal((await store.getDevice('h1', 'kettle'))?.secretHash, 'z');
  await t.rejects(store.setDeviceSecretHash('h1', 'nope', 'z'), { code: 'MIMAMORI_ERR_NOT_FOUND' });
  t.equal((await store.listDevices()).length, 1);
  await store.setService('ingest', 'h1'); await store.setService('ingest', 'h2');
  t.equal(await store.getServiceSecretHash('ingest'), 'h2', 'setting a service again rotates its secret');
});

t.test('one open alert per home and rule; repeats update it', async (t) => {
  const store = createSqliteStore(':memory:');
  t.teardown(() => store.close());
  await store.createHome({ id: 'h1', name: 'Yamada', timezone: 'Asia/Tokyo' });
  const first = await store.openAlert({ homeId: 'h1', rule: 'help', severity: 'warning', message: 'a', finding: { n: 1 }, openedAt: 1000 });
  t.ok(first.created);
  const again = await store.openAlert({ homeId: 'h1', rule: 'help', severity: 'critical', message: 'b', finding: { n: 2 }, openedAt: 2000 });
  t.notOk(again.created, 'the repeat does not open a second alert');
  t.equal(again.alert.id, first.alert.id);
  t.equal(again.alert.repeats, 1);
  t.equal(again.alert.severity, 'critical', 'severity only rises');
  const lower = await store.openAlert({ homeId: 'h1', rule: 'help', severity: 'info', message: 'c', finding: {}, openedAt: 3000 });
  t.equal(lower.alert.severity, 'critical');
  await store.updateAlertStatus(first.alert.id, 'resolved', 4000);
  t.equal((await store.getAlert(first.alert.id))?.closedAt, 4000);
  const next = await store.openAlert({ homeId: 'h1', rule: 'help', severity: 'warning', message: 'd', finding: {}, openedAt: 5000 });
  t.ok(next.created, 'after resolving, the next finding opens a new alert');
  t.equal((await store.listAlerts({ homeId: 'h1' })).length, 2);
  t.equal((await store.listAlerts({ status: 'open' })).length, 1);
  t.equal(await store.findOpenAlert('h1', 'help').then((a) => a?.id), next.alert.id);
  await t.rejects(store.updateAlertStatus('missing', 'resolved', 1));

  const n = await store.recordNotification({ alertId: next.alert.id, contactId: 'c1', channel: 'sms', status: 'queued', providerId: 'SM1', createdAt: 5000 });
  await store.updateNotification(n.id, { status: 'delivered' }, 6000);
  const found = await store.findNotificationByProviderId('SM1');
  t.equal(found?.status, 'delivered');
  t.equal(found?.providerId, 'SM1', 'an update without a provider id keeps it');
  t.equal((await store.listNotifications(next.alert.id)).length, 1);
  await store.audit({ at: 1, actor: 'system', action: 'alert.open', subject: 'h1', detail: { x: 1 } });
  t.same((await store.listAudit('h1'))[0]?.detail, { x: 1 });
});

t.test('event ids de-duplicate per device and persist across reopen', async (t) => {
  const file = join(tempDir(t, 'mimamori-store-'), 'db.sqlite');
  let store = createSqliteStore(file);
  await store.createHome({ id: 'h1', name: 'Yamada', timezone: 'Asia/Tokyo' });
  await t.rejects(store.setRuleConfig('ghost', []), { code: 'SQLITE_CONSTRAINT_FOREIGNKEY' }, 'rules only for a known home');
  t.equal(await store.markEventSeen('h1', 'kettle', 'e1', day + 100), true);
  t.equal(await store.markEventSeen('h1', 'kettle', 'e1', day + 101), false, 'same device, same id: duplicate');
  t.equal(await store.markEventSeen('h1', 'door', 'e1', day + 101), true, 'another device may reuse the id');
  await store.saveHomeStates([{ homeId: 'h1', state: { lastSignOfLife: 42 } }], 1);
  await store.setRuleConfig('h1', [{ id: 'x' }]);
  t.equal(await store.schemaVersion(), migrations.at(-1)!.version);
  await store.close();
  store = createSqliteStore(file);
  t.teardown(() => store.close());
  t.equal(await store.markEventSeen('h1', 'kettle', 'e1', day + 200), false, 'still a duplicate after a restart');
  t.same((await store.loadHomeStates()).get('h1'), { lastSignOfLife: 42 });
  t.same(await store.getRuleConfig('h1'), [{ id: 'x' }]);
  t.equal(await store.getRuleConfig('none'), undefined);
  t.equal(await store.pruneSeenEvents(2 * day - 1), 0, 'an id is kept while its day may still hold events within the window');
  t.equal(await store.pruneSeenEvents(2 * day), 2, 'old ids are pruned by whole days');
});

t.test('ids recorded before migration 27 (by arrival) still catch a repeat until they are past the window', async (t) => {
  const file = join(tempDir(t, 'mimamori-store-'), 'db.sqlite');
  const store = createSqliteStore(file);
  t.teardown(() => store.close());
  // As an upgraded hub finds them: ids in the old table, kept by the time they arrived.
  const raw = new Database(file);
  const put = raw.prepare('INSERT INTO seen_events (home_id, device_id, event_id, seen_at) VALUES (?, ?, ?, ?)');
  put.run('h1', 'kettle', 'k-1', 10 * day + 5); put.run('h1', 'kettle', 'k-2', 10 * day + 6);
  raw.close();
  const batch = await store.commitIngestBatch([
    { homeId: 'h1', deviceId: 'kettle', eventId: 'k-1', eventAt: 10 * day - 3_600_000, outbox: 'resent' },
    { homeId: 'h1', deviceId: 'kettle', eventId: 'k-3', eventAt: 10 * day + 7, outbox: 'new' },
  ], 10 * day + 8);
  t.same(batch.fresh, [false, true], 'a resend of an id from before is a repeat, whatever its day');
  t.same((await store.listIngestOutbox()).map((o) => o.text), ['new']);
  t.equal(await store.markEventSeen('h1', 'kettle', 'k-2', 10 * day + 9), false);
  t.equal(await store.pruneSeenEvents(10 * day + 6, 10), 2, 'day 9 of the new table (the resent k-1), then the old table by arrival (k-1)');
  t.equal(await store.markEventSeen('h1', 'kettle', 'k-2', 11 * day), false, 'k-2 arrived at the cut: still known, on any day');
  t.equal(await store.pruneSeenEvents(12 * day, 10), 4, 'days 10 and 11 of the new table (k-2 twice, k-3), then k-2 from the old');
  t.equal(await store.markEventSeen('h1', 'kettle', 'k-2', 12 * day), true, 'forgotten with its day');
  const check = new Database(file, { readonly: true });
  t.equal(check.prepare('SELECT COUNT(*) FROM seen_events').pluck().get(), 0, 'the old table is empty');
  check.close();
});

t.test('records written in the same millisecond keep the order they were written in', async (t) => {
  const store = createSqliteStore(':memory:');
  t.teardown(() => store.close());
  const actions = Array.from({ length: 50 }, (_, i) => `step-${i}`);
  for (const action of actions) await store.audit({ at: 1000, actor: 'system', action, subject: 'a1' });
  t.same((await store.listAudit('a1')).map((a) => a.action), actions);
  await store.createHome({ id: 'h1', name: 'x', timezone: 'Asia/Tokyo' });
  const { alert } = await store.openAlert({ homeId: 'h1', rule: 'r', severity: 'warning', message: 'm', finding: {}, openedAt: 1 });
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) ids.push((await store.recordNotification({ alertId: alert.id, channel: 'sms', status: 'queued', createdAt: 5 })).id);
  t.same((await store.listNotifications(alert.id)).map((n) => n.id), ids);
});

t.test('refused device messages stay bounded across restarts more frequent than the prune batch', async (t) => {
  const file = join(tempDir(t, 'mimamori-store-'), 'db.sqlite');
  // Ten lives of a hub that refuses 4 messages of one home each, with a batch of 5: before, the
  // in-memory count started at 0 in every life and the home was never pruned (40 rows).
  for (let life = 0; life < 10; life++) {
    const store = createSqliteStore(file, { rejectedPerHome: 10, rejectedPruneEvery: 5 });
    for (let i = 0; i < 4; i++) await store.recordRejected({ at: life * 10 + i, topic: 'mimamori/h1/d/events', homeId: 'h1', reason: 'malformed_json', payload: `${life}.${i}` });
    await store.close();
  }
  const store = createSqliteStore(file);
  t.teardown(() => store.close());
  const kept = (await store.listRejected(1000)).map((r) => r.payload);
  t.equal(kept.length, 13, 'at most the newest 10 kept at each life\'s first refusal, plus that life\'s 3 more');
  t.same(kept.slice(0, 4), ['9.3', '9.2', '9.1', '9.0'], 'the newest are kept');
});
