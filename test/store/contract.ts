/**
 * The store contract: one suite every implementation of the store ports
 * passes (SQLite: sqlite.test.ts; PostgreSQL: pg.test.ts). Each test opens a
 * fresh, empty store and checks exact results: ordering and its tie-breaks,
 * not-found, duplicates, and what a transaction does as a whole.
 */
import type { Test } from 'tap';
import { migrations } from '../../core/migrations.js';
import type { MonthlyReportRecord, NotificationRecord, Store, StoreOptions } from '../../core/store.js';

/** Opens a fresh, empty store; `opts` (besides `now`, which each implementation fixes) as the test asks. */
export type OpenStore = (t: Test, opts?: Omit<StoreOptions, 'now'>) => Promise<Store>;

export function storeContract(t: Test, open: OpenStore): void {
  const fresh = async (t: Test, opts?: Omit<StoreOptions, 'now'>): Promise<Store> => {
    const s = await open(t, opts);
    t.teardown(() => s.close());
    return s;
  };
  const home = (s: Store, id = 'h1') => s.createHome({ id, name: `Home ${id}`, timezone: 'Asia/Tokyo', createdAt: 1 });

  t.test('schema: every migration applied', async (t) => {
    const s = await fresh(t);
    t.equal(await s.schemaVersion(), Math.max(...migrations.map((m) => m.version)));
  });

  t.test('homes, residents, contacts: order, not-found, duplicates, the store clock', async (t) => {
    const s = await fresh(t);
    const h = await s.createHome({ id: 'h2', name: 'B', timezone: 'Asia/Tokyo', address: '1-2-3', entryNotes: 'key box' });
    t.equal(h.createdAt, 1_000, 'createdAt comes from the injected clock');
    await home(s, 'h1');
    await t.rejects(home(s, 'h1'), { code: 'MIMAMORI_ERR_CONFLICT' });
    t.same((await s.listHomes()).map((x) => x.id), ['h1', 'h2']);
    t.same(await s.getHome('h2'), { id: 'h2', name: 'B', timezone: 'Asia/Tokyo', address: '1-2-3', entryNotes: 'key box', createdAt: 1_000 });
    t.equal(await s.getHome('nope'), undefined);
    await s.addResident({ homeId: 'h1', name: 'Sato', language: 'ja' });
    await s.addResident({ homeId: 'h1', name: 'Abe', birthYear: 1940, language: 'en' });
    t.same((await s.listResidents('h1')).map((r) => [r.name, r.birthYear]), [['Abe', 1940], ['Sato', undefined]]);
    await s.addContact({ id: 'c2', homeId: 'h1', name: 'Ken', role: 'family', phone: '+819011112222', email: 'ken@example.jp', language: 'en', priority: 2 });
    await s.addContact({ id: 'c1', homeId: 'h1', name: 'Taro', role: 'family', language: 'ja', priority: 1 });
    await s.addContact({ id: 'c0', homeId: 'h1', name: 'Aki', role: 'caregiver', language: 'ja', priority: 2 });
    await t.rejects(s.addContact({ id: 'c1', homeId: 'h1', name: 'again', role: 'family', phone: '+819000000000', language: 'ja', priority: 9 }), { code: 'MIMAMORI_ERR_CONFLICT' });
    t.same((await s.listContacts('h1')).map((c) => c.id), ['c1', 'c0', 'c2'], 'priority, then name');
    t.same((await s.listContactAddresses('c2')).map((a) => [a.kind, a.address, a.verification, a.createdAt]),
      [['phone', '+819011112222', 'operator', 1_000], ['email', 'ken@example.jp', 'operator', 1_000]], 'phone and e-mail become addresses');
    t.same(await s.listContactAddresses('c1'), [], 'the refused duplicate left no address behind (one transaction)');
    t.same((await s.findContactsByPhone('+819011112222')).map((c) => c.id), ['c2']);
    t.equal((await s.getContact('c2'))?.email, 'ken@example.jp');
    t.equal(await s.getContact('nope'), undefined);
  });

  t.test('devices, services, event de-duplication and the ingest outbox', async (t) => {
    const s = await fresh(t);
    await home(s, 'h1'); await home(s, 'h0');
    await s.addDevice({ homeId: 'h1', deviceId: 'kettle', kind: 'kettle', label: 'Kitchen', secretHash: 'x' });
    await s.addDevice({ homeId: 'h1', deviceId: 'door', kind: 'door', secretHash: 'y', createdAt: 5 });
    await s.addDevice({ homeId: 'h0', deviceId: 'zz', kind: 'button', secretHash: 'z', createdAt: 5 });
    await t.rejects(s.addDevice({ homeId: 'h1', deviceId: 'kettle', kind: 'kettle', secretHash: 'q' }), { code: 'MIMAMORI_ERR_CONFLICT' });
    t.same(await s.getDevice('h1', 'kettle'), { homeId: 'h1', deviceId: 'kettle', kind: 'kettle', label: 'Kitchen', secretHash: 'x', disabled: false, createdAt: 1_000 });
    t.same((await s.listDevices()).map((d) => `${d.homeId}/${d.deviceId}`), ['h0/zz', 'h1/door', 'h1/kettle']);
    t.same((await s.listDevices('h1')).map((d) => d.deviceId), ['door', 'kettle']);
    await s.setDeviceSecretHash('h1', 'door', 'y2');
    t.equal((await s.getDevice('h1', 'door'))?.secretHash, 'y2');
    await t.rejects(s.setDeviceSecretHash('h1', 'nope', 'q'), { code: 'MIMAMORI_ERR_NOT_FOUND' });
    t.equal(await s.getServiceSecretHash('ingest'), undefined);
    await s.setService('ingest', 'a'); await s.setService('ingest', 'b');
    t.equal(await s.getServiceSecretHash('ingest'), 'b');

    // An event is its device, its id and the day of its ts (UTC): D is a day.
    const D = 86_400_000;
    t.equal(await s.markEventSeen('h1', 'kettle', 'e1', D + 100), true);
    t.equal(await s.markEventSeen('h1', 'kettle', 'e1', D + 101), false, 'the same event again');
    t.equal(await s.markEventSeen('h1', 'door', 'e1', D + 102), true, 'another device may use the same id');
    const batch = await s.commitIngestBatch([
      { homeId: 'h1', deviceId: 'kettle', eventId: 'e1', outbox: 'dup' },
      { homeId: 'h1', deviceId: 'kettle', eventId: 'e2', outbox: 'two' },
      { homeId: 'h1', deviceId: 'kettle' },
      { homeId: 'h1', deviceId: 'kettle', eventId: 'e2', outbox: 'dup in batch' },
      { homeId: 'h1', deviceId: 'kettle', eventId: 'e3', eventAt: D + 150, outbox: 'three' },
    ], D + 200);
    t.same(batch.fresh, [false, true, true, false, true], 'an item without eventAt is of the batch\'s time');
    t.same((await s.commitIngestBatch([{ homeId: 'h1', deviceId: 'kettle', eventId: 'e3', eventAt: Number.NaN }], D + 202)).fresh, [false],
      'an event time that is no time is taken as the batch\'s: the batch commits, and e3 of that day is a repeat');
    const outbox = await s.listIngestOutbox();
    t.same(outbox.map((o) => o.text), ['two', 'three']);
    t.equal(batch.outboxHead, outbox[1]!.seq);
    t.ok(outbox[0]!.seq < outbox[1]!.seq, 'outbox positions rise');
    t.same(await s.commitIngestBatch([{ homeId: 'h1', deviceId: 'kettle' }], D + 201), { fresh: [true], outboxHead: 0 });
    t.equal(await s.clearIngestOutbox(outbox[0]!.seq), 1);
    t.same((await s.listIngestOutbox()).map((o) => o.text), ['three']);
    t.equal(await s.markEventSeen('h1', 'kettle', 'e1', 2 * D - 1), false, 'the same id later that day: the same event');
    t.equal(await s.markEventSeen('h1', 'kettle', 'e1', 2 * D), true, 'the same id on another day: another event (a device counting again after a restart)');
    t.equal(await s.pruneSeenEvents(2 * D - 1), 0, 'a day is kept while an event of it may be within the window');
    t.equal(await s.pruneSeenEvents(2 * D), 4, 'the four of day 1');
    t.equal(await s.markEventSeen('h1', 'kettle', 'e1', D + 300), true, 'pruned ids are fresh again');
    // In short statements: at most `limit` at a time, the oldest day first, then in the key's order.
    t.equal(await s.markEventSeen('h2', 'door', 'z', 50), true);
    t.equal(await s.markEventSeen('h2', 'door', 'a', D + 400), true);
    t.equal(await s.pruneSeenEvents(3 * D, 2), 2, 'no more than the limit');
    t.equal(await s.markEventSeen('h2', 'door', 'a', D + 401), false, 'h2/door/a, after h1/kettle/e1 in day 1, is still remembered');
    t.equal(await s.markEventSeen('h1', 'kettle', 'e1', D + 402), true, 'day 0 went first, then h1/kettle/e1 of day 1');
    t.equal(await s.pruneSeenEvents(3 * D, 10), 3, 'then the rest before the cut: day 1 (e1 again, a) and day 2 (e1)');
    t.equal(await s.markEventSeen('h2', 'door', 'z', 50), true, 'day 0 is forgotten');
    await t.rejects(s.pruneSeenEvents(3 * D, 0), { code: 'MIMAMORI_ERR_CONFIG' });

    const r1 = await s.recordRejected({ at: 10, topic: 'a', reason: 'bad json', payload: '{' });
    const r2 = await s.recordRejected({ at: 10, topic: 'b', homeId: 'h1', deviceId: 'kettle', reason: 'unknown kind', detail: 'x' });
    await s.recordRejected({ at: 5, topic: 'c', reason: 'old' });
    t.same((await s.listRejected()).map((r) => r.topic), ['b', 'a', 'c'], 'newest first; same time: last recorded first');
    t.same((await s.listRejected(1))[0], r2);
    t.same((await s.listRejected()).find((r) => r.id === r1.id), { id: r1.id, at: 10, topic: 'a', reason: 'bad json', payload: '{' });
  });

  t.test('an ingest batch longer than one statement: one answer per item, repeats caught across statements, the outbox in order', async (t) => {
    const s = await fresh(t);
    await home(s);
    const big = Array.from({ length: 600 }, (_, k) => ({ homeId: 'h1', deviceId: 'pir', eventId: `b${k}`, outbox: `big ${k}` }));
    big.splice(300, 0, { homeId: 'h1', deviceId: 'pir', eventId: 'b10', outbox: 'repeat of b10' });
    big.push({ homeId: 'h1', deviceId: 'door', eventId: 'b10', outbox: 'another device, same id' });
    const batch = await s.commitIngestBatch(big, 202);
    t.same(batch.fresh.map((f, k) => (f ? -1 : k)).filter((k) => k >= 0), [300], 'only the repeat is not fresh');
    const rows = await s.listIngestOutbox();
    t.same(rows.map((o) => o.text), [...Array.from({ length: 600 }, (_, k) => `big ${k}`), 'another device, same id'], 'in the batch\'s order');
    t.ok(rows.every((o, k) => k === 0 || o.seq > rows[k - 1]!.seq), 'positions rise');
    t.equal(batch.outboxHead, rows.at(-1)!.seq);
    t.same((await s.commitIngestBatch(big.slice(0, 3), 203)).fresh, [false, false, false], 'a batch sent again is not fresh');
  });

  t.test('rule settings and rule state', async (t) => {
    const s = await fresh(t);
    await home(s);
    t.equal(await s.getRuleConfig('h1'), undefined);
    await s.setRuleConfig('h1', { kettle: { by: '09:00' } });
    await s.setRuleConfig('h1', { kettle: { by: '10:00' }, list: [1, 'two', null, true] }, 5);
    t.same(await s.getRuleConfig('h1'), { kettle: { by: '10:00' }, list: [1, 'two', null, true] });
    await s.saveHomeStates([{ homeId: 'h1', state: { n: 1 } }, { homeId: 'h2', state: [1, 2] }], 10);
    await s.saveHomeStates([{ homeId: 'h1', state: { n: 2 } }], 11);
    t.same([...(await s.loadHomeStates()).entries()], [['h1', { n: 2 }], ['h2', [1, 2]]]);
  });

  t.test('rule state in parts: one batch per save, the last of a repeated part wins, old whole rows dropped', async (t) => {
    const s = await fresh(t);
    await s.saveHomeStates([{ homeId: 'h1', state: { old: 1 } }, { homeId: 'h2', state: { old: 2 } }], 1);
    // More parts than one PostgreSQL statement carries (1,000 rows each): all written, in one transaction.
    const many = Array.from({ length: 1_500 }, (_, i) => ({ homeId: `home-${String(i).padStart(4, '0')}`, part: 'home', data: `{"n":${i}}` }));
    await s.saveHomeStateParts(many, 10);
    t.equal((await s.loadHomeStateParts()).length, 1_500);
    // The same (home, part) twice in one save: written as if one after the other, the last wins.
    await s.saveHomeStateParts([
      { homeId: 'h1', part: 'home', data: 'first' }, { homeId: 'h1', part: 'routine', data: 'r1' },
      { homeId: 'h1', part: 'home', data: 'second' }, { homeId: 'home-0000', part: 'home', data: 'again' },
    ], 11, ['h1']);
    const parts = await s.loadHomeStateParts();
    t.equal(parts.length, 1_502);
    t.same(parts.filter((p) => p.homeId === 'h1' || p.homeId === 'home-0000'), [
      { homeId: 'h1', part: 'home', data: 'second' }, { homeId: 'h1', part: 'routine', data: 'r1' },
      { homeId: 'home-0000', part: 'home', data: 'again' },
    ]);
    t.same([...(await s.loadHomeStates()).keys()], ['h2'], 'the whole row of h1 is dropped in the same save, h2 kept');
    t.same(await s.loadHomeStateParts('h1'), [{ homeId: 'h1', part: 'home', data: 'second' }, { homeId: 'h1', part: 'routine', data: 'r1' }], 'one home\'s parts alone');
    t.same([...(await s.loadHomeStates('h2')).entries()], [['h2', { old: 2 }]], 'one home\'s whole row alone');
    t.same([...(await s.loadHomeStates('h1')).entries()], [], 'none for a home without one');
    await s.saveHomeStateParts([], 12, []);
    t.equal((await s.loadHomeStateParts()).length, 1_502, 'an empty save changes nothing');
  });

  t.test('alerts: one open per home and rule, severity only rises, ordering, not-found', async (t) => {
    const s = await fresh(t);
    await home(s);
    const a = await s.openAlert({ homeId: 'h1', rule: 'help', severity: 'warning', message: 'm1', finding: { n: 1 }, openedAt: 100 });
    t.equal(a.created, true);
    t.same(a.alert, { id: a.alert.id, homeId: 'h1', rule: 'help', severity: 'warning', status: 'open', message: 'm1', finding: { n: 1 }, repeats: 0, openedAt: 100, updatedAt: 100 });
    const again = await s.openAlert({ homeId: 'h1', rule: 'help', severity: 'critical', message: 'm2', finding: { n: 2 }, openedAt: 200 });
    t.same([again.created, again.alert.id, again.alert.repeats, again.alert.severity, again.alert.updatedAt, again.alert.finding], [false, a.alert.id, 1, 'critical', 200, { n: 2 }]);
    t.equal((await s.openAlert({ homeId: 'h1', rule: 'help', severity: 'info', message: 'm3', finding: null, openedAt: 300 })).alert.severity, 'critical');
    const b = await s.openAlert({ homeId: 'h1', rule: 'kettle', severity: 'info', message: 'k', finding: [], openedAt: 100 });
    const c = await s.openAlert({ homeId: 'h1', rule: 'door', severity: 'info', message: 'd', finding: 'x', openedAt: 100 });
    t.same((await s.listAlerts()).map((x) => x.rule), ['door', 'kettle', 'help'], 'newest first; same time: last opened first');
    t.equal((await s.findOpenAlert('h1', 'help'))?.id, a.alert.id);
    t.equal(await s.findOpenAlert('h1', 'nope'), undefined);
    const resolved = await s.updateAlertStatus(a.alert.id, 'resolved', 400);
    t.same([resolved.status, resolved.closedAt, resolved.updatedAt], ['resolved', 400, 400]);
    await s.updateAlertStatus(b.alert.id, 'acknowledged', 401);
    t.equal((await s.getAlert(b.alert.id))?.closedAt, undefined);
    await t.rejects(s.updateAlertStatus('nope', 'resolved', 1), { code: 'MIMAMORI_ERR_NOT_FOUND' });
    t.equal(await s.findOpenAlert('h1', 'help'), undefined);
    const next = await s.openAlert({ homeId: 'h1', rule: 'help', severity: 'warning', message: 'n', finding: {}, openedAt: 500 });
    t.equal(next.created, true, 'after resolving, a new alert');
    t.same((await s.listAlerts({ status: 'open' })).map((x) => x.id), [next.alert.id, c.alert.id]);
    t.same((await s.listAlerts({ homeId: 'h1', status: 'acknowledged' })).map((x) => x.id), [b.alert.id]);
    t.same(await s.listAlerts({ homeId: 'other' }), []);

    const n1 = await s.recordNotification({ alertId: next.alert.id, contactId: 'c1', channel: 'sms', status: 'pending', createdAt: 600 });
    const n2 = await s.recordNotification({ id: 'n-given', alertId: next.alert.id, channel: 'email', status: 'sent', createdAt: 600 });
    await s.recordNotification({ alertId: c.alert.id, channel: 'sms', status: 'sent', createdAt: 550 });
    await s.updateNotification(n1.id, { status: 'sent', providerId: 'SM1' }, 610);
    await s.updateNotification(n1.id, { status: 'delivered' }, 620);
    t.same(await s.findNotificationByProviderId('SM1'), { id: n1.id, alertId: next.alert.id, contactId: 'c1', channel: 'sms', status: 'delivered', providerId: 'SM1', createdAt: 600, updatedAt: 620 });
    t.equal(await s.findNotificationByProviderId('nope'), undefined);
    t.same((await s.listNotifications(next.alert.id)).map((x) => x.id), [n1.id, n2.id].sort(), 'oldest first; same time: by id');
    t.equal((await s.listNotifications()).length, 3);

    // A compare-and-set on the status read (receipts): a writer that read an older status changes nothing.
    const n3 = await s.recordNotification({ alertId: next.alert.id, channel: 'sms', status: 'queued', createdAt: 700 });
    t.equal(await s.updateNotification(n3.id, { status: 'delivered', providerId: 'SM3' }, 710, { status: 'queued' }), true, 'delivered, moved from queued');
    t.equal(await s.updateNotification(n3.id, { status: 'sent', error: 'late' }, 720, { status: 'queued' }), false, 'sent, also read as queued, is refused');
    t.same(await s.findNotificationByProviderId('SM3'), { id: n3.id, alertId: next.alert.id, channel: 'sms', status: 'delivered', providerId: 'SM3', createdAt: 700, updatedAt: 710 }, 'nothing of the refused write');
    t.equal(await s.updateNotification(n3.id, { status: 'read' }, 730), true, 'without a condition: written');
    t.equal(await s.updateNotification('nope', { status: 'sent' }, 740), false, 'no such notification');
  });

  t.test('held delivery receipts: kept once per provider id and status, oldest first, dropped once', async (t) => {
    const s = await fresh(t);
    await s.holdReceipt({ providerId: 'SM2', status: 'delivered', receivedAt: 20 });
    await s.holdReceipt({ providerId: 'SM1', status: 'undelivered', error: 'twilio 30003', receivedAt: 10 });
    await s.holdReceipt({ providerId: 'SM1', status: 'sent', receivedAt: 10 });
    await s.holdReceipt({ providerId: 'SM1', status: 'sent', receivedAt: 15 });
    t.same(await s.listHeldReceipts({ limit: 10 }), [
      { providerId: 'SM1', status: 'sent', receivedAt: 10 },
      { providerId: 'SM1', status: 'undelivered', error: 'twilio 30003', receivedAt: 10 },
      { providerId: 'SM2', status: 'delivered', receivedAt: 20 },
    ], 'by time received, then provider id and status; the same receipt twice is kept once, as first received');
    t.same((await s.listHeldReceipts({ providerId: 'SM2', limit: 10 })).map((r) => r.status), ['delivered'], 'of one provider id');
    t.equal((await s.listHeldReceipts({ limit: 1 })).length, 1, 'limited');
    t.equal(await s.dropHeldReceipt('SM1', 'sent'), true);
    t.equal(await s.dropHeldReceipt('SM1', 'sent'), false, 'a second drop (another node applied it first) finds nothing');
    t.same((await s.listHeldReceipts({ limit: 10 })).map((r) => `${r.providerId}/${r.status}`), ['SM1/undelivered', 'SM2/delivered']);
  });

  t.test('the audit trail: written order, chain heads, sealed records', async (t) => {
    const s = await fresh(t);
    await s.audit({ at: 10, actor: 'op', action: 'b', subject: 'home:h1', detail: { why: 'x' } });
    await s.audit({ at: 10, actor: 'op', action: 'a', subject: 'home:h1' });
    await s.audit({ at: 5, actor: 'hub', action: 'c', subject: 'home:h2' });
    t.same((await s.listAudit()).map((r) => r.action), ['c', 'b', 'a'], 'by time, then as written');
    t.same((await s.listAudit('home:h1')).map((r) => [r.action, r.detail]), [['b', { why: 'x' }], ['a', undefined]]);
    t.same((await s.listAudit(undefined, { last: 2 })).map((r) => r.action), ['b', 'a'], 'the newest two, still in written order (a tie in time broken by the chain)');
    t.same((await s.listAudit('home:h1', { last: 1 })).map((r) => r.action), ['a'], 'the newest of one subject');
    t.same((await s.listAudit(undefined, { last: 10 })).map((r) => r.action), ['c', 'b', 'a'], 'fewer than asked: all');
    t.same(await s.listAudit(undefined, { last: 0 }), []);
    await t.rejects(s.listAudit(undefined, { last: -1 }), { code: 'MIMAMORI_ERR_INVALID_INPUT' });
    const trail = await s.readTrail('audit');
    t.same(trail.map((r) => r.seq), [1, 2, 3]);
    t.equal(trail[1]!.prevHash, trail[0]!.hash);
    t.same(trail[0]!.fields.at, 10, 'times read back as numbers (the hash covers them)');
    const heads = await s.trailHeads();
    t.same(heads.audit, { seq: 3, hash: trail[2]!.hash });
    t.same(heads.access, { seq: 0, hash: '0'.repeat(64) });
    await Promise.all([1, 2, 3, 4, 5].map((i) => s.audit({ at: 20, actor: 'op', action: `p${i}`, subject: 's' })));
    t.same((await s.readTrail('audit')).map((r) => r.seq), [1, 2, 3, 4, 5, 6, 7, 8], 'concurrent appends take distinct seqs, no gaps');
  });

  t.test('accounts, sign-in, sessions, links, consent and the access log', async (t) => {
    const s = await fresh(t);
    const a = await s.createAccount({ login: 'ken', name: 'Ken', role: 'family', language: 'en', passwordHash: 'p', createdAt: 1 });
    await s.createAccount({ id: 'op1', login: 'op', name: 'Op', role: 'operator', language: 'ja', passwordHash: 'p', createdAt: 1 });
    await t.rejects(s.createAccount({ login: 'ken', name: 'dup', role: 'family', language: 'en', passwordHash: 'p', createdAt: 2 }), { code: 'MIMAMORI_ERR_CONFLICT' });
    t.same((await s.listAccounts()).map((x) => x.login), ['ken', 'op'], 'by role, then login');
    t.equal((await s.findAccountByLogin('op'))?.id, 'op1');
    t.equal(await s.findAccountByLogin('nope'), undefined);
    await s.setAccountTotp(a.id, 'seed'); await s.setAccountLockedUntil(a.id, 99); await s.setAccountLanguage(a.id, 'ja');
    t.same(await s.getAccount(a.id), { ...a, language: 'ja', totpSecret: 'seed', lockedUntil: 99 });
    await s.setAccountTotp(a.id, null); await s.setAccountLockedUntil(a.id, null);
    t.same(await s.getAccount(a.id), { ...a, language: 'ja' });
    t.same([await s.acceptTotpStep(a.id, 5), await s.acceptTotpStep(a.id, 5), await s.acceptTotpStep(a.id, 4), await s.acceptTotpStep(a.id, 6)], [true, false, false, true]);
    t.equal(await s.acceptTotpStep('nope', 1), false);
    for (const at of [10, 20, 30]) await s.recordLoginFailure(a.id, at);
    t.equal(await s.countLoginFailures(a.id, 20), 2);
    await s.clearLoginFailures(a.id);
    t.equal(await s.countLoginFailures(a.id, 0), 0);

    await s.createSession({ id: 's2', accountId: a.id, csrf: 'c', mfaOk: false, createdAt: 5, lastSeenAt: 5 });
    await s.createSession({ id: 's1', accountId: a.id, csrf: 'c', mfaOk: true, createdAt: 5, lastSeenAt: 5, userAgent: 'UA' });
    await s.createSession({ id: 's0', accountId: a.id, csrf: 'c', mfaOk: false, createdAt: 9, lastSeenAt: 9 });
    await t.rejects(s.createSession({ id: 's0', accountId: a.id, csrf: 'c', mfaOk: false, createdAt: 9, lastSeenAt: 9 }));
    t.same((await s.listSessions(a.id)).map((x) => x.id), ['s1', 's2', 's0'], 'oldest first; same time: by id');
    await s.updateSession('s2', { lastSeenAt: 50, mfaOk: true });
    t.same(await s.getSession('s2'), { id: 's2', accountId: a.id, csrf: 'c', mfaOk: true, createdAt: 5, lastSeenAt: 50 });
    await s.deleteSession('s2');
    t.equal(await s.getSession('s2'), undefined);

    await s.linkAccount({ accountId: a.id, kind: 'home', targetId: 'h2' });
    await s.linkAccount({ accountId: a.id, kind: 'home', targetId: 'h1' });
    await s.linkAccount({ accountId: a.id, kind: 'home', targetId: 'h1' });
    await s.linkAccount({ accountId: a.id, kind: 'guardian', targetId: 'h1' });
    t.same((await s.listLinks(a.id)).map((l) => `${l.kind}:${l.targetId}`), ['guardian:h1', 'home:h1', 'home:h2'], 'a repeated link is kept once');
    t.same((await s.listLinked('home', 'h1')).map((l) => l.accountId), [a.id]);
    await s.enrollHome('f1', 'h2'); await s.enrollHome('f1', 'h1'); await s.enrollHome('f1', 'h1');
    t.same(await s.listEnrolledHomes('f1'), ['h1', 'h2']);
    t.equal(await s.getConsent('h1', a.id), undefined);
    await s.setConsent({ homeId: 'h1', viewerId: a.id, level: 'coarse', photos: false, updatedAt: 1, updatedBy: 'op1' });
    await s.setConsent({ homeId: 'h1', viewerId: a.id, level: 'detailed', photos: true, updatedAt: 2, updatedBy: 'op1' });
    t.same(await s.getConsent('h1', a.id), { homeId: 'h1', viewerId: a.id, level: 'detailed', photos: true, updatedAt: 2, updatedBy: 'op1' });

    await s.recordAccess({ at: 10, viewerId: a.id, homeId: 'h1', what: 'first' });
    await s.recordAccess({ at: 10, viewerId: a.id, homeId: 'h1', what: 'second' });
    await s.recordAccess({ at: 5, viewerId: a.id, homeId: 'h1', what: 'earlier' });
    await s.recordAccess({ at: 10, viewerId: a.id, homeId: 'h2', what: 'other home' });
    t.same((await s.listAccess('h1')).map((r) => r.what), ['second', 'first', 'earlier'], 'newest first; same time: last written first');
    t.same((await s.listAccess('h1', 1)).map((r) => r.what), ['second']);
    t.same((await s.readTrail('access')).map((r) => r.seq), [1, 2, 3, 4]);

    const r1 = await s.recordAlertResponse({ alertId: 'a1', homeId: 'h1', accountId: a.id, action: 'on-my-way', at: 7 });
    const r2 = await s.recordAlertResponse({ alertId: 'a1', homeId: 'h1', accountId: a.id, action: 'arrived', at: 7 });
    t.same(await s.listAlertResponses('a1'), [r1, r2], 'oldest first; same time: as recorded');
  });

  t.test('news, photos, questions, attendance', async (t) => {
    const s = await fresh(t);
    const n1 = await s.addNews({ homeId: 'h1', authorId: 'st', body: 'lunch', createdAt: 10 });
    const n2 = await s.addNews({ homeId: 'h1', authorId: 'st', body: 'walk', createdAt: 10 });
    await s.addNews({ id: 'old', homeId: 'h1', authorId: 'st', body: 'old', createdAt: 1 });
    await t.rejects(s.addNews({ id: 'old', homeId: 'h1', authorId: 'st', body: 'again', createdAt: 2 }), { code: 'MIMAMORI_ERR_CONFLICT' });
    t.same((await s.listNews('h1')).map((x) => x.body), ['walk', 'lunch', 'old']);
    t.same((await s.listNews('h1', 5)).map((x) => x.id), [n2.id, n1.id]);
    t.same(await s.getNews(n1.id), n1);
    t.equal(await s.getNews('nope'), undefined);
    await s.addNewsPhoto({ id: 'p1', newsId: n1.id, homeId: 'h1', width: 640, height: 480 });
    await s.addNewsPhoto({ id: 'p2', newsId: n1.id, homeId: 'h1', width: 10, height: 20 });
    await t.rejects(s.addNewsPhoto({ id: 'p1', newsId: n1.id, homeId: 'h1', width: 1, height: 1 }), { code: 'MIMAMORI_ERR_CONFLICT' });
    t.same((await s.listNewsPhotos(n1.id)).map((p) => p.id), ['p1', 'p2']);
    t.same(await s.getNewsPhoto('p2'), { id: 'p2', newsId: n1.id, homeId: 'h1', width: 10, height: 20 });
    const q1 = await s.addQuestion({ homeId: 'h1', askerId: 'ken', body: 'lunch?', askedAt: 3 });
    const q2 = await s.addQuestion({ homeId: 'h1', askerId: 'ken', body: 'walk?', askedAt: 3 });
    await s.answerQuestion(q1.id, 'yes', 'st', 4);
    t.same(await s.getQuestion(q1.id), { ...q1, answer: 'yes', answererId: 'st', answeredAt: 4 });
    t.same((await s.listQuestions('h1')).map((q) => q.id), [q2.id, q1.id]);
    await s.setAttendance({ homeId: 'h1', date: '2026-01-02', status: 'present', markedBy: 'st', at: 1 });
    await s.setAttendance({ homeId: 'h1', date: '2026-01-01', status: 'present', markedBy: 'st', at: 1 });
    await s.setAttendance({ homeId: 'h1', date: '2026-01-02', status: 'absent', markedBy: 'st2', at: 2 });
    t.same(await s.listAttendance('h1'), [
      { homeId: 'h1', date: '2026-01-02', status: 'absent', markedBy: 'st2', at: 2 },
      { homeId: 'h1', date: '2026-01-01', status: 'present', markedBy: 'st', at: 1 },
    ]);
    t.equal((await s.listAttendance('h1', 1)).length, 1);
  });

  t.test('escalation: policies, preferences, lifecycle, send keys', async (t) => {
    const s = await fresh(t);
    await home(s);
    await s.addContact({ id: 'c1', homeId: 'h1', name: 'Taro', role: 'family', phone: '+819011112222', language: 'ja', priority: 1 });
    t.equal(await s.getEscalationPolicy('h1'), undefined);
    await s.setEscalationPolicy('h1', { tiers: ['family'] }, 1);
    await s.setEscalationPolicy('h1', { tiers: ['family', 'caregiver'] }, 2);
    t.same(await s.getEscalationPolicy('h1'), { tiers: ['family', 'caregiver'] });
    await s.setContactPreferences('c2', { quiet: true }, 1);
    await s.setContactPreferences('c1', { digest: '20:00' }, 1);
    t.same(await s.getContactPreferences('c1'), { digest: '20:00' });
    t.same([...(await s.listContactPreferences()).entries()], [['c1', { digest: '20:00' }], ['c2', { quiet: true }]]);
    const { alert } = await s.openAlert({ homeId: 'h1', rule: 'help', severity: 'critical', message: 'm', finding: {}, openedAt: 10 });
    t.equal(await s.getAlertLifecycle(alert.id), undefined);
    await s.saveAlertLifecycle({ alertId: alert.id, homeId: 'h1', state: { tier: 0 }, policy: { tiers: ['family'] }, updatedAt: 11 });
    await s.saveAlertLifecycle({ alertId: alert.id, homeId: 'h1', acknowledgedBy: 'c1', acknowledgedVia: 'sms', acknowledgedAt: 12, state: { tier: 1 }, updatedAt: 12 });
    t.same(await s.getAlertLifecycle(alert.id), { alertId: alert.id, homeId: 'h1', acknowledgedBy: 'c1', acknowledgedVia: 'sms', acknowledgedAt: 12, state: { tier: 1 }, updatedAt: 12, version: 1 }, 'the second write is version 1');

    const claimed = await s.claimSendKeys([
      { key: 'k2', alertId: alert.id, contactId: 'c1', channel: 'sms', createdAt: 20, recipient: '+819011112222', body: 'help' },
      { key: 'k1', alertId: alert.id, channel: 'email', createdAt: 20 },
      { key: 'k2', alertId: alert.id, channel: 'sms', createdAt: 20 },
    ]);
    t.same(claimed, ['k2', 'k1'], 'a key repeated in one claim is taken once');
    t.same(await s.claimSendKeys([{ key: 'k1', alertId: alert.id, channel: 'email', createdAt: 21 }, { key: 'k3', alertId: alert.id, channel: 'voice', createdAt: 21, recipient: '+81', body: 'b' }]), ['k3']);
    t.same((await s.listSendKeys(alert.id)).map((k) => k.key), ['k1', 'k2', 'k3'], 'by time, then key');
    t.same((await s.listUnsettledSendKeys(0)).map((k) => k.key), ['k2', 'k3'], 'keys with a recipient and body and no outcome');
    const sent = await s.recordNotification({ alertId: alert.id, channel: 'sms', status: 'pending', createdAt: 22 });
    await s.attachSendKeys(['k2'], sent.id);
    t.same((await s.listUnsettledSendKeys(0)).map((k) => k.key), ['k2', 'k3'], 'pending without provider id: still unsettled');
    await s.updateNotification(sent.id, { status: 'sent', providerId: 'SM9' }, 23);
    t.same((await s.listUnsettledSendKeys(0)).map((k) => k.key), ['k3']);

    // An escalation step writes, sends and reopens only from the version it read (an answer on another node may have written the row since).
    const read = (await s.getAlertLifecycle(alert.id))!;
    t.equal(await s.saveAlertLifecycle({ ...read, state: { tier: 2 }, updatedAt: 30 }, undefined, { version: 1 }), true, 'saved from the version read');
    t.equal(await s.saveAlertLifecycle({ ...read, state: { tier: 9 }, updatedAt: 31 }, undefined, { version: 1 }), false, 'a save from an older version is refused');
    t.same(await s.getAlertLifecycle(alert.id), { ...read, state: { tier: 2 }, updatedAt: 30, version: 2 }, 'and changed nothing');
    await t.rejects(s.claimSendKeys([{ key: 'k4', alertId: alert.id, channel: 'sms', createdAt: 32 }], undefined, { alertId: alert.id, version: 1 }), { code: 'MIMAMORI_ERR_STALE' }, 'a claim from an older version is refused');
    t.same((await s.listSendKeys(alert.id)).map((k) => k.key), ['k1', 'k2', 'k3'], 'and records no key');
    t.same(await s.claimSendKeys([{ key: 'k4', alertId: alert.id, channel: 'sms', createdAt: 32 }], undefined, { alertId: alert.id, version: 2 }), ['k4'], 'from the version the row is at, the key is claimed');
    await t.rejects(s.updateAlertStatus(alert.id, 'open', 33, { alertId: alert.id, version: 1 }), { code: 'MIMAMORI_ERR_STALE' });
    t.equal((await s.getAlert(alert.id))?.updatedAt, 10, 'the refused status write changed nothing');
    t.equal((await s.updateAlertStatus(alert.id, 'acknowledged', 34, { alertId: alert.id, version: 2 })).status, 'acknowledged');
    t.equal(await s.saveAlertLifecycle({ ...read, state: { tier: 3 }, updatedAt: 35 }), true, 'an unconditional save (a person\'s answer) always writes');
    t.equal((await s.getAlertLifecycle(alert.id))?.version, 3, 'and counts (the claim\'s and the status write\'s checks wrote no version)');
    t.same((await s.listUnsettledSendKeys(21)).map((k) => k.key), ['k3']);
    t.same(await s.findSendKeysByNotification(sent.id), [{ key: 'k2', alertId: alert.id, contactId: 'c1', channel: 'sms', notificationId: sent.id, createdAt: 20, recipient: '+819011112222', body: 'help' }]);
  });

  t.test('unresolved alerts of a home: open and acknowledged, newest first, no resolved one', async (t) => {
    const s = await fresh(t);
    const open = async (home: string, rule: string, at: number) => (await s.openAlert({ homeId: home, rule, severity: 'warning', message: 'm', finding: {}, openedAt: at })).alert;
    const a = await open('h1', 'a', 10);
    const b = await open('h1', 'b', 20);
    const c = await open('h1', 'c', 30);
    await open('h2', 'a', 40);
    await s.updateAlertStatus(b.id, 'resolved', 21);
    await s.updateAlertStatus(c.id, 'acknowledged', 31);
    t.same((await s.listAlerts({ homeId: 'h1', unresolved: true })).map((x) => x.id), [c.id, a.id], 'acknowledged and open, newest first');
    t.same((await s.listAlerts({ unresolved: true })).map((x) => x.homeId), ['h2', 'h1', 'h1'], 'every home\'s');
    t.same((await s.listAlerts({ homeId: 'h1' })).map((x) => x.id), [c.id, b.id, a.id], 'without it, the history too');
  });

  t.test('the open alerts\' lifecycles: one read, resolved and unstarted alerts left out, oldest first', async (t) => {
    const s = await fresh(t);
    const open = async (home: string, rule: string, at: number, code?: string) => {
      const { alert } = await s.openAlert({ homeId: home, rule, severity: 'warning', message: 'm', finding: {}, openedAt: at });
      if (code !== undefined) await s.saveAlertLifecycle({ alertId: alert.id, homeId: home, state: { code }, policy: {}, updatedAt: at });
      return alert;
    };
    const later = await open('h1', 'a', 20, 'K27');
    const done = await open('h1', 'b', 5, 'A10');
    await s.updateAlertStatus(done.id, 'resolved', 6);
    const earlier = await open('h2', 'a', 10, 'B03');
    const acked = await open('h2', 'c', 30, 'C44');
    await s.updateAlertStatus(acked.id, 'acknowledged', 31);
    await open('h1', 'unstarted', 40);
    t.same((await s.listOpenAlertLifecycles()).map((l) => [l.alertId, (l.state as { code: string }).code]),
      [[earlier.id, 'B03'], [later.id, 'K27'], [acked.id, 'C44']], 'open and acknowledged, by when they opened; no resolved alert, no alert without a lifecycle');
  });

  t.test('unsettled sends: when each attempt began, and a take-over that only one reconciler wins', async (t) => {
    const s = await fresh(t);
    const { alert } = await s.openAlert({ homeId: 'h1', rule: 'help', severity: 'critical', message: 'm', finding: {}, openedAt: 10 });
    const key = (k: string, at: number) => ({ key: k, alertId: alert.id, contactId: 'c1', channel: 'sms', createdAt: at, recipient: '+819011112222', body: 'help' });
    await s.claimSendKeys([key('a1', 20), key('a2', 20)]);
    await s.claimSendKeys([key('b', 30)]);
    const nb = await s.recordNotification({ alertId: alert.id, contactId: 'c1', channel: 'sms', status: 'pending', createdAt: 30 });
    await s.attachSendKeys(['b'], nb.id);
    t.same((await s.listUnsettledSendKeys(0)).map((k) => [k.key, k.attemptAt]), [['a1', 20], ['a2', 20], ['b', 30]], 'no record: the key\'s time; a pending record: its updated_at');
    // Each with its alert's home; asked for one home, that home's alone.
    const other = (await s.openAlert({ homeId: 'h2', rule: 'help', severity: 'critical', message: 'm', finding: {}, openedAt: 10 })).alert;
    await s.claimSendKeys([{ ...key('c', 25), alertId: other.id }]);
    t.same((await s.listUnsettledSendKeys(0)).map((k) => [k.key, k.homeId]), [['a1', 'h1'], ['a2', 'h1'], ['c', 'h2'], ['b', 'h1']], 'every home\'s, each with its home');
    t.same((await s.listUnsettledSendKeys(0, 'h2')).map((k) => k.key), ['c'], 'one home\'s');
    t.same((await s.listUnsettledSendKeys(0, 'h1')).map((k) => k.key), ['a1', 'a2', 'b']);
    t.same(await s.listUnsettledSendKeys(0, 'nowhere'), []);
    await s.claimSendKeys([{ ...key('d', 26), alertId: 'gone' }]);
    t.equal((await s.listUnsettledSendKeys(0)).find((k) => k.key === 'd')?.homeId, undefined, 'a key whose alert is gone has no home');

    // A send that has its pending record: a compare-and-set on the attempt read.
    const record = { alertId: alert.id, contactId: 'c1', channel: 'sms', status: 'pending', createdAt: 30 };
    t.equal(await s.takeUnsettledSend({ keys: ['b'], attemptAt: 30, notificationId: nb.id, record }, 100), nb.id, 'taken from the attempt read');
    t.equal(await s.takeUnsettledSend({ keys: ['b'], attemptAt: 30, notificationId: nb.id, record }, 101), undefined, 'a second reconciler that read the same attempt is refused');
    t.same((await s.listUnsettledSendKeys(0)).find((k) => k.key === 'b')?.attemptAt, 100, 'the take began a new attempt');
    t.equal(await s.updateNotification(nb.id, { status: 'queued', providerId: 'SM-first' }, 102, { status: 'pending', updatedAt: 30 }), false, 'the first attempt\'s late answer is not recorded over the take');
    t.equal(await s.updateNotification(nb.id, { status: 'queued', providerId: 'SM-again' }, 103, { status: 'pending', updatedAt: 100 }), true, 'the taken attempt\'s answer is');
    t.equal((await s.findNotificationByProviderId('SM-again'))?.id, nb.id);
    t.equal(await s.takeUnsettledSend({ keys: ['b'], attemptAt: 100, notificationId: nb.id, record }, 200), undefined, 'a settled send is not taken');
    await t.rejects(s.takeUnsettledSend({ keys: ['b'], attemptAt: 100, notificationId: nb.id, record }, 100), { code: 'MIMAMORI_ERR_INVALID_INPUT' }, 'a take must be later than the attempt it read');

    // A send that died before its record: the record is written and the keys attached, only while still unattached.
    const group = { keys: ['a1', 'a2'], attemptAt: 20, record: { ...record, createdAt: 20 } };
    const na = await s.takeUnsettledSend(group, 110);
    t.ok(na, 'taken: a record written for the keys');
    t.same((await s.listSendKeys(alert.id)).filter((k) => k.key.startsWith('a')).map((k) => k.notificationId), [na, na]);
    t.same((await s.listNotifications(alert.id)).find((n) => n.id === na), { id: na, alertId: alert.id, contactId: 'c1', channel: 'sms', status: 'pending', createdAt: 20, updatedAt: 110 });
    const before = (await s.listNotifications(alert.id)).length;
    t.equal(await s.takeUnsettledSend(group, 111), undefined, 'a second reconciler that read them unattached is refused');
    t.equal((await s.listNotifications(alert.id)).length, before, 'and leaves no record behind');

    // With a fence: refused unless it holds.
    await s.fenceHome({ home: 'h1', owner: 'A', token: 1 }, 1);
    await s.fenceHome({ home: 'h1', owner: 'B', token: 2 }, 2);
    await t.rejects(s.takeUnsettledSend({ keys: ['a1', 'a2'], attemptAt: 110, notificationId: na!, record }, 300, { home: 'h1', owner: 'A', token: 1 }), { code: 'MIMAMORI_ERR_FENCED' }, 'a former owner takes nothing');
    t.equal(await s.takeUnsettledSend({ keys: ['a1', 'a2'], attemptAt: 110, notificationId: na!, record }, 300, { home: 'h1', owner: 'B', token: 2 }), na, 'the owner does');
  });

  t.test('jobs: one per key, claims with leases, complete, fail and retry, a dead owner\'s job taken after its lease', async (t) => {
    const s = await fresh(t);
    await s.scheduleJob({ key: 'j2', kind: 'step', homeId: 'h1', dueAt: 100, payload: { tier: 1 } }, 10);
    await s.scheduleJob({ key: 'j1', kind: 'step', homeId: 'h1', dueAt: 100 }, 10);
    await s.scheduleJob({ key: 'j0', kind: 'digest', homeId: 'h2', dueAt: 200 }, 10);
    const again = await s.scheduleJob({ key: 'j0', kind: 'digest', homeId: 'h2', dueAt: 50 }, 20);
    t.same(again, { key: 'j0', kind: 'digest', homeId: 'h2', dueAt: 50, version: 2, attempts: 0, createdAt: 10, updatedAt: 20 }, 're-scheduling a key replaces its job: a new version');
    t.same((await s.listJobs()).map((j) => j.key), ['j0', 'j1', 'j2'], 'by due time, then key');
    t.same((await s.listJobs(['step'])).map((j) => j.key), ['j1', 'j2'], 'of the kinds asked for');
    t.same(await s.listJobs([]), []);
    t.same(await s.getJob('j2'), { key: 'j2', kind: 'step', homeId: 'h1', dueAt: 100, payload: { tier: 1 }, version: 1, attempts: 0, createdAt: 10, updatedAt: 10 });
    t.equal(await s.getJob('nope'), undefined);
    t.equal(await s.nextJobAt(['step']), 100);
    t.equal(await s.nextJobAt(['step', 'digest']), 50);
    t.equal(await s.nextJobAt(['other']), undefined);
    t.equal(await s.nextJobAt([]), undefined);

    const both = ['step', 'digest'];
    t.same(await s.claimJobs({ kinds: both, owner: 'A', now: 49, leaseUntil: 109, limit: 10 }), [], 'nothing due yet');
    const a = await s.claimJobs({ kinds: both, owner: 'A', now: 100, leaseUntil: 160, limit: 2 });
    t.same(a.map((j) => [j.key, j.owner, j.leaseUntil]), [['j0', 'A', 160], ['j1', 'A', 160]], 'the batch limit, by due time then key; owner and lease set');
    const b = await s.claimJobs({ kinds: both, owner: 'B', now: 100, leaseUntil: 200, limit: 10 });
    t.same(b.map((j) => j.key), ['j2'], 'a leased job is not taken by another node');
    t.same(await s.claimJobs({ kinds: both, owner: 'B', now: 159, leaseUntil: 259, limit: 10 }), [], 'not before the leases run out');
    t.equal(await s.nextJobAt(both), 160, 'a leased job is next claimable when its lease runs out');
    t.same(await s.claimJobs({ kinds: ['other'], owner: 'B', now: 1000, leaseUntil: 1100, limit: 10 }), [], 'only the kinds asked for');

    t.equal(await s.completeJob('j0', 'B', 2, 120), 'lost', 'only the owner completes');
    t.equal(await s.completeJob('j0', 'A', 2, 120), 'done');
    t.equal(await s.getJob('j0'), undefined);

    const re = await s.scheduleJob({ key: 'j1', kind: 'step', homeId: 'h1', dueAt: 300 }, 130);
    t.same([re.version, re.owner, re.leaseUntil], [2, 'A', 160], 're-scheduled while running: a new version, the lease stays (one run at a time)');
    t.equal(await s.completeJob('j1', 'A', 1, 140), 'rescheduled', 'the run completes only its own version');
    const kept = await s.getJob('j1');
    t.same([kept?.dueAt, kept?.version, kept?.owner, kept?.leaseUntil], [300, 2, undefined, undefined], 'the next one stays, its lease let go');

    t.equal(await s.failJob('j2', 'B', 1, 'boom', 500, 150), 'done');
    const failed = await s.getJob('j2');
    t.same([failed?.dueAt, failed?.attempts, failed?.lastError, failed?.owner], [500, 1, 'boom', undefined], 'due again at the retry time, the attempt and error kept');
    t.same(await s.claimJobs({ kinds: both, owner: 'A', now: 499, leaseUntil: 599, limit: 10 }).then((js) => js.map((j) => j.key)), ['j1'], 'not before its retry time');
    const retried = await s.claimJobs({ kinds: both, owner: 'A', now: 500, leaseUntil: 560, limit: 10 });
    t.same(retried.map((j) => [j.key, j.attempts]), [['j2', 1]]);

    t.equal(await s.extendJobLease('j2', 'B', 900), false, 'only the owner extends');
    t.equal(await s.extendJobLease('j2', 'A', 900), true);
    t.same((await s.claimJobs({ kinds: both, owner: 'B', now: 600, leaseUntil: 700, limit: 10 })).map((j) => j.key), ['j1'], 'j1\'s lease ran out (599), the extended one of j2 holds');
    t.equal(await s.releaseJobLeases('A'), 1, 'a restarted node lets go of its leases (j2)');
    t.same((await s.claimJobs({ kinds: both, owner: 'B', now: 600, leaseUntil: 700, limit: 10 })).map((j) => j.key), ['j2']);

    // B dies holding the leases: A takes them once they run out, and B's late finish changes nothing.
    t.same((await s.claimJobs({ kinds: both, owner: 'A', now: 700, leaseUntil: 800, limit: 10 })).map((j) => [j.key, j.owner]), [['j1', 'A'], ['j2', 'A']]);
    t.equal(await s.completeJob('j2', 'B', 1, 710), 'lost');
    t.equal(await s.failJob('j1', 'B', 2, 'late', 2000, 710), 'lost');
    t.same((await s.getJob('j1'))?.owner, 'A');
    t.equal(await s.cancelJob('j1'), true);
    t.equal(await s.cancelJob('j1'), false);
  });

  t.test('jobs: ensure keeps a planned job and grows its version; a finish or cancel of an older version deletes nothing', async (t) => {
    const s = await fresh(t);
    const first = await s.ensureJob({ key: 'd1', kind: 'digest', homeId: 'h1', dueAt: 100, payload: { time: '08:00' } }, 10);
    t.same(first, { key: 'd1', kind: 'digest', homeId: 'h1', dueAt: 100, payload: { time: '08:00' }, version: 1, attempts: 0, createdAt: 10, updatedAt: 10 }, 'none yet: inserted');
    t.same((await s.claimJobs({ kinds: ['digest'], owner: 'A', now: 100, leaseUntil: 160, limit: 1 })).map((j) => [j.key, j.version]), [['d1', 1]]);
    const kept = await s.ensureJob({ key: 'd1', kind: 'digest', homeId: 'h1', dueAt: 900, payload: { time: 'other' } }, 20);
    t.same(kept, { key: 'd1', kind: 'digest', homeId: 'h1', dueAt: 100, payload: { time: '08:00' }, version: 2, owner: 'A', leaseUntil: 160, attempts: 0, createdAt: 10, updatedAt: 20 },
      'planned already: kept as it is (due time, payload, lease), a new version');
    t.equal(await s.completeJob('d1', 'A', 1, 30), 'rescheduled', 'the run that read version 1 (say, its time dropped) does not delete it');
    t.same(await s.getJob('d1').then((j) => [j?.dueAt, j?.version, j?.owner]), [100, 2, undefined], 'it stays, due as before, its lease let go');
    t.equal(await s.cancelJob('d1', 1), false, 'a cancel decided on version 1 deletes nothing');
    t.equal((await s.getJob('d1'))?.version, 2);
    t.equal(await s.cancelJob('d1', 2), true, 'the version read: deleted');
    t.equal(await s.getJob('d1'), undefined);
    t.equal(await s.cancelJob('d1', 2), false);

    // A stale plan's cancel and a fresh plan's ensure of the same keys at once (on a pool: on several connections).
    const keys = Array.from({ length: 8 }, (_, i) => `k${i}`);
    for (const key of keys) await s.ensureJob({ key, kind: 'digest', homeId: 'h1', dueAt: 100 }, 40);
    const cancelled = await Promise.all(keys.flatMap((key) => [s.cancelJob(key, 1), s.ensureJob({ key, kind: 'digest', homeId: 'h1', dueAt: 200 }, 50).then(() => undefined)]));
    for (const [i, key] of keys.entries()) {
      const j = await s.getJob(key);
      t.ok(j, `${key}: still planned after the ensure, whichever came first`);
      t.same([j?.version, j?.dueAt], cancelled[2 * i] ? [1, 200] : [2, 100], `${key}: cancelled first and planned anew, or ensured first and the cancel refused`);
    }
  });

  t.test('jobs: two nodes claiming at once never take the same job', async (t) => {
    const s = await fresh(t);
    for (let i = 0; i < 20; i++) await s.scheduleJob({ key: `k${String(i).padStart(2, '0')}`, kind: 'step', homeId: 'h1', dueAt: 100 + (i % 3) }, 1);
    const claims = await Promise.all(['A', 'B', 'C', 'A', 'B', 'C'].map((owner) => s.claimJobs({ kinds: ['step'], owner, now: 200, leaseUntil: 300, limit: 5 })));
    const keys = claims.flat().map((j) => j.key);
    t.equal(keys.length, 20, 'every job taken');
    t.equal(new Set(keys).size, 20, 'none taken twice');
    for (const j of claims.flat()) t.equal((await s.getJob(j.key))?.owner, j.owner, `${j.key} is held by the node it was given to`);
  });

  t.test('rule state saves fenced for a node: a home another node (or nobody) holds is refused, a never-fenced home is written', async (t) => {
    const s = await fresh(t);
    for (const h of ['h1', 'h2', 'h3']) await home(s, h);
    await s.fenceHome({ home: 'h1', owner: 'A', token: 1 }, 1);
    await s.fenceHome({ home: 'h2', owner: 'B', token: 1 }, 1);
    const part = (h: string, data: string) => ({ homeId: h, part: 'home', data });
    t.same(await s.saveHomeStateParts([part('h1', 'a1'), part('h2', 'a2'), part('h3', 'a3')], 5, [], 'A'), ['h2'], 'A may not write B\'s home');
    t.same((await s.loadHomeStateParts()).map((p) => `${p.homeId}=${p.data}`), ['h1=a1', 'h3=a3'], 'its own and a never-fenced home are written');
    await s.unfenceHome({ home: 'h1', owner: 'A', token: 1 }, 6);
    t.same(await s.saveHomeStateParts([part('h1', 'late')], 7, ['h1'], 'A'), ['h1'], 'after letting a home go, A\'s late save is refused');
    t.same(await s.saveHomeStateParts([part('h2', 'b2')], 8, [], 'B'), []);
    t.same(await s.saveHomeStateParts([part('h2', 'unfenced')], 9), [], 'a save without a node (a single hub) is never refused');
    t.same((await s.loadHomeStateParts()).map((p) => `${p.homeId}=${p.data}`), ['h1=a1', 'h2=unfenced', 'h3=a3']);
  });

  t.test('the cluster inbox: rows wait for the fenced owner, taken once, put back, taken over from a former owner, cleared', async (t) => {
    const s = await fresh(t);
    await home(s);
    await home(s, 'h2');
    const item = (h: string, id: string) => ({ homeId: h, deviceId: 'door', eventId: id, outbox: `${h}:${id}` });
    // A single hub's own row ('' taken) and the inbox's rows never mix.
    await s.commitIngestBatch([item('h1', 'own')], 1);
    const r = await s.commitIngestBatch([item('h1', 'a'), item('h2', 'b'), item('h1', 'a'), item('h1', 'c')], 2, { forOwner: true });
    t.same(r.fresh, [true, true, false, true], 'de-duplicated as ever');
    t.same((await s.listIngestOutbox()).map((o) => o.text), ['h1:own'], 'the single hub\'s outbox does not list inbox rows');
    t.same(await s.takeInbox('A', 10), [], 'no fence, no rows');
    await s.fenceHome({ home: 'h1', owner: 'A', token: 1 }, 10);
    await s.fenceHome({ home: 'h2', owner: 'B', token: 1 }, 10);
    const a = await s.takeInbox('A', 10);
    t.same(a.map((x) => [x.homeId, x.text]), [['h1', 'h1:a'], ['h1', 'h1:c']], 'A takes h1\'s rows, oldest first');
    t.same(await s.takeInbox('A', 10), [], 'taken once');
    t.same((await s.takeInbox('B', 1)).map((x) => x.text), ['h2:b'], 'B takes h2\'s, up to the limit');
    t.equal(await s.returnInbox('B', [a[0]!.seq]), 0, 'a node puts back only rows it took');
    t.equal(await s.returnInbox('A', [a[1]!.seq]), 1);
    t.same((await s.takeInbox('A', 10)).map((x) => x.text), ['h1:c'], 'a row put back is taken again');
    t.equal(await s.clearIngestOutbox(1_000_000), 1, 'the single hub clears only its own rows');
    t.equal((await s.takeInbox('B', 10)).length, 0);
    // A dies; B gains h1 with a higher token: what A took and never cleared is B's to write to history again.
    await s.commitIngestBatch([item('h1', 'd')], 3, { forOwner: true });
    t.same(await s.retakeInbox('B', 'h1'), [], 'not before B holds h1\'s fence');
    await s.fenceHome({ home: 'h1', owner: 'B', token: 2 }, 20);
    t.same(await s.takeInbox('A', 10), [], 'the former owner takes nothing once fenced out');
    const again = await s.retakeInbox('B', 'h1');
    t.same(again.map((x) => x.text), ['h1:a', 'h1:c'], 'the rows A took, oldest first');
    t.same((await s.takeInbox('B', 10)).map((x) => x.text), ['h1:d'], 'and the row waiting since');
    t.equal(await s.clearInbox([...again.map((x) => x.seq), ...a.map((x) => x.seq)]), 2, 'cleared by position, once');
    t.same(await s.retakeInbox('B', 'h1'), [], 'nothing left of A\'s');
  });

  t.test('fences: jobs follow a home\'s fence; a lower token, or a node that let go, claims and writes nothing', async (t) => {
    const s = await fresh(t);
    await home(s);
    await home(s, 'h2');
    for (const [key, h] of [['a1', 'h1'], ['a2', 'h1'], ['b1', 'h2']] as const) await s.scheduleJob({ key, kind: 'step', homeId: h, dueAt: 100 }, 1);
    const claim = (node: string, owner: string, now: number) => s.claimJobs({ kinds: ['step'], owner, now, leaseUntil: now + 1000, limit: 10, fencedFor: node });
    t.same(await claim('A', 'A/1', 100), [], 'a fenced claim takes nothing of a home never fenced');
    t.equal(await s.getHomeFence('h1'), undefined);
    t.equal(await s.fenceHome({ home: 'h1', owner: 'A', token: 1 }, 50), true);
    t.equal(await s.fenceHome({ home: 'h2', owner: 'B', token: 4 }, 50), true);
    t.equal(await s.fenceHome({ home: 'h1', owner: 'A', token: 1 }, 51), true, 'the holder fencing again with its token: still its');
    t.same(await s.getHomeFence('h1'), { token: 1, owner: 'A' });
    t.equal(await s.nextJobAt(['step'], 'A'), 100, 'the next job of the homes A holds');
    t.equal(await s.nextJobAt(['step'], 'C'), undefined, 'none for a node holding no home');
    t.same((await claim('A', 'A/1', 100)).map((j) => [j.key, j.owner]), [['a1', 'A/1'], ['a2', 'A/1']], 'node A claims only the jobs of the home it holds');
    t.same((await claim('B', 'B/1', 100)).map((j) => j.key), ['b1']);
    t.same((await s.claimJobs({ kinds: ['step'], owner: 'X', now: 5000, leaseUntil: 6000, limit: 10 })).map((j) => j.key), ['a1', 'a2', 'b1'], 'an unfenced claim (a single hub) takes any home\'s jobs');
    await s.releaseJobLeases('X');
    t.same((await claim('A', 'A/1', 100)).map((j) => j.key), ['a1', 'a2']);

    // Node B takes h1 over with token 2: A's claims end, A's lower token is refused from now on.
    t.equal(await s.fenceHome({ home: 'h1', owner: 'B', token: 2 }, 200), true);
    t.same((await s.getJob('a1'))?.owner, undefined, 'the former owner\'s lease is let go at once');
    t.equal(await s.completeJob('a1', 'A/1', 1, 210), 'lost', 'the former owner\'s run finishes as lost');
    t.equal(await s.fenceHome({ home: 'h1', owner: 'A', token: 1 }, 220), false, 'a lower token is refused');
    t.equal(await s.fenceHome({ home: 'h1', owner: 'A', token: 2 }, 220), false, 'the same token of another node is refused');
    t.same(await claim('A', 'A/1', 300), [], 'node A claims nothing of h1 any more');
    t.same((await claim('B', 'B/1', 300)).map((j) => j.key), ['a1', 'a2', 'b1'], 'the new owner claims them at once (with its own h2\'s), though A\'s leases would have held until 1100');

    const { alert } = await s.openAlert({ homeId: 'h1', rule: 'help', severity: 'critical', message: 'm', finding: {}, openedAt: 10 });
    const key = (k: string) => ({ key: k, alertId: alert.id, channel: 'sms', createdAt: 400 });
    await t.rejects(s.claimSendKeys([key('old')], { home: 'h1', owner: 'A', token: 1 }), { code: 'MIMAMORI_ERR_FENCED' }, 'a stalled former owner records no send');
    await t.rejects(s.saveAlertLifecycle({ alertId: alert.id, homeId: 'h1', state: { tier: 9 }, updatedAt: 400 }, { home: 'h1', owner: 'A', token: 1 }), { code: 'MIMAMORI_ERR_FENCED' });
    t.same(await s.listSendKeys(alert.id), [], 'nothing written by the refused claim');
    t.equal(await s.getAlertLifecycle(alert.id), undefined, 'nor by the refused save');
    t.same(await s.claimSendKeys([key('new')], { home: 'h1', owner: 'B', token: 2 }), ['new'], 'the holder\'s send is recorded');
    await s.saveAlertLifecycle({ alertId: alert.id, homeId: 'h1', state: { tier: 1 }, updatedAt: 401 }, { home: 'h1', owner: 'B', token: 2 });
    t.same((await s.getAlertLifecycle(alert.id))?.state, { tier: 1 });
    await t.rejects(s.claimSendKeys([key('x')], { home: 'h3', owner: 'B', token: 1 }), { code: 'MIMAMORI_ERR_FENCED' }, 'a home never fenced refuses a fenced write');

    // B lets go: the token stays, nobody holds it, nobody's fenced write or claim passes; the next owner's higher token does.
    t.equal(await s.unfenceHome({ home: 'h1', owner: 'A', token: 1 }, 500), false, 'only the holder lets go');
    t.equal(await s.unfenceHome({ home: 'h1', owner: 'B', token: 2 }, 500), true);
    t.same(await s.getHomeFence('h1'), { token: 2 });
    await t.rejects(s.claimSendKeys([key('late')], { home: 'h1', owner: 'B', token: 2 }), { code: 'MIMAMORI_ERR_FENCED' });
    await s.releaseJobLeases('B/1');
    t.same((await claim('B', 'B/1', 600)).map((j) => j.key), ['b1'], 'the node that let go of h1 claims nothing of it');
    t.equal(await s.fenceHome({ home: 'h1', owner: 'B', token: 1 }, 600), false, 'an older token stays refused after a let-go');
    t.equal(await s.fenceHome({ home: 'h1', owner: 'C', token: 3 }, 600), true);
    t.same((await claim('C', 'C/1', 600)).map((j) => j.key), ['a1', 'a2']);
  });

  t.test('video check-ins: a change from the status read is a compare-and-set; of changes made at once, one wins', async (t) => {
    const s = await fresh(t);
    const c = await s.addCheckin({ homeId: 'h1', dueAt: 100, callerId: 'cg', createdBy: 'cg', createdAt: 1 });
    t.equal(await s.updateCheckin(c.id, { declines: 1 }, { status: 'scheduled', declines: 0 }), true, 'from the status and count read');
    t.equal(await s.updateCheckin(c.id, { declines: 1 }, { status: 'scheduled', declines: 0 }), false, 'a decline counted on a stale count is refused');
    t.equal(await s.updateCheckin(c.id, { status: 'missed', missedReason: 'not-called' }, { status: 'done' }), false, 'not in the status expected: refused');
    t.same(await s.getCheckin(c.id), { ...c, declines: 1 }, 'and nothing of a refused patch is written');
    // The family's cancel, the deadline and a connected call, all having read "scheduled", write at once (on a pool: on several connections).
    const tries = [
      { status: 'cancelled' as const }, { status: 'missed' as const, missedReason: 'not-called' as const }, { status: 'done' as const, callId: 'call9' },
      { status: 'cancelled' as const }, { status: 'missed' as const, missedReason: 'not-called' as const }, { status: 'done' as const, callId: 'call9' },
    ];
    const won = await Promise.all(tries.map((p) => s.updateCheckin(c.id, p, { status: 'scheduled' })));
    t.equal(won.filter(Boolean).length, 1, 'exactly one of them changed the check-in');
    const winner = tries[won.indexOf(true)]!;
    t.same(await s.getCheckin(c.id), { ...c, declines: 1, ...winner }, 'the check-in is what the winner wrote, none of the others');
  });

  t.test('video: check-ins, permissions, calls, notes', async (t) => {
    const s = await fresh(t);
    const c2 = await s.addCheckin({ homeId: 'h1', dueAt: 100, callerId: 'cg', createdBy: 'cg', createdAt: 1 });
    const c1 = await s.addCheckin({ homeId: 'h1', dueAt: 100, callerId: 'cg', createdBy: 'cg', createdAt: 1 });
    const c0 = await s.addCheckin({ homeId: 'h1', dueAt: 50, callerId: 'cg', createdBy: 'cg', createdAt: 1 });
    t.same((await s.listCheckins('h1')).map((c) => c.id), [c0.id, c2.id, c1.id], 'by due time, then as added');
    t.same((await s.listCheckins('h1', 60)).map((c) => c.id), [c2.id, c1.id]);
    await s.updateCheckin(c0.id, { status: 'missed', declines: 2, missedReason: 'declined', callId: 'call1' });
    t.same(await s.getCheckin(c0.id), { ...c0, status: 'missed', declines: 2, missedReason: 'declined', callId: 'call1' });
    t.same((await s.listScheduledCheckins()).map((c) => c.id), [c2.id, c1.id]);
    t.equal(await s.getCheckin('nope'), undefined);
    t.equal(await s.updateCheckin('nope', { status: 'done' }), false, 'no such check-in: nothing changed');
    await s.setVideoPermission({ homeId: 'h1', accountId: 'b', trusted: true, maySchedule: false, lookIn: true, updatedAt: 1, updatedBy: 'g' });
    await s.setVideoPermission({ homeId: 'h1', accountId: 'a', trusted: false, maySchedule: true, lookIn: false, updatedAt: 1, updatedBy: 'g' });
    await s.setVideoPermission({ homeId: 'h1', accountId: 'b', trusted: false, maySchedule: false, lookIn: false, updatedAt: 2, updatedBy: 'g2' });
    t.same((await s.listVideoPermissions('h1')).map((p) => [p.accountId, p.trusted, p.maySchedule, p.updatedBy]), [['a', false, true, 'g'], ['b', false, false, 'g2']]);
    t.equal(await s.getVideoPermission('h1', 'nope'), undefined);
    await s.saveCall({ id: 'call2', homeId: 'h1', callerId: 'cg', kind: 'call', startedAt: 10 });
    await s.saveCall({ id: 'call1', homeId: 'h1', callerId: 'cg', kind: 'look-in', alertId: 'a1', startedAt: 10 });
    await s.saveCall({ id: 'call1', homeId: 'h1', callerId: 'cg', kind: 'look-in', alertId: 'a1', startedAt: 10, answeredAt: 11, answeredBy: 'auto', endedAt: 20, outcome: 'ended' });
    t.same(await s.getCall('call1'), { id: 'call1', homeId: 'h1', callerId: 'cg', kind: 'look-in', alertId: 'a1', startedAt: 10, answeredAt: 11, answeredBy: 'auto', endedAt: 20, outcome: 'ended' });
    // A save that commits after a later one (the answer's, after the hang-up's; the ringing insert, after the cancel): nothing undone.
    await s.saveCall({ id: 'call1', homeId: 'h1', callerId: 'cg', kind: 'look-in', alertId: 'a1', startedAt: 10, answeredAt: 11, answeredBy: 'auto' });
    await s.saveCall({ id: 'call1', homeId: 'h1', callerId: 'cg', kind: 'look-in', alertId: 'a1', startedAt: 10 });
    t.same(await s.getCall('call1'), { id: 'call1', homeId: 'h1', callerId: 'cg', kind: 'look-in', alertId: 'a1', startedAt: 10, answeredAt: 11, answeredBy: 'auto', endedAt: 20, outcome: 'ended' }, 'answered and ended stay');
    t.same((await s.listCalls('h1')).map((c) => c.id), ['call2', 'call1'], 'newest first; same time: by id, last first');
    t.equal((await s.listCalls('h1', 1)).length, 1);
    const v1 = await s.addVideoNote({ homeId: 'h1', callId: 'call1', authorId: 'cg', mood: 'good', eating: 'ok', followUp: '', at: 30 });
    const v2 = await s.addVideoNote({ homeId: 'h1', authorId: 'cg', mood: 'tired', eating: 'little', followUp: 'call', at: 30 });
    t.same((await s.listVideoNotes('h1')).map((x) => x.id), [v2.id, v1.id]);
    t.same(await s.getVideoNote(v1.id), v1);
  });

  t.test('backups: newest first, JSON read back and checked', async (t) => {
    const s = await fresh(t);
    const heads = await s.trailHeads();
    await s.saveBackup({ id: 'b1', startedAt: 10, status: 'running', targets: [{ dir: '/a', ok: false }], verified: false });
    await s.saveBackup({ id: 'b1', startedAt: 10, finishedAt: 12, status: 'ok', file: 'x.tar', size: 5_000_000_000, sha256: 'ab', targets: [{ dir: '/a', ok: true }, { dir: '/b', ok: false, error: 'full' }], contents: { rows: { homes: 1 } }, verified: true, verifyNote: 'fine', heads });
    await s.saveBackup({ id: 'b0', startedAt: 5, status: 'failed', targets: [], verified: false, error: 'disk' });
    const list = await s.listBackups();
    t.same(list.map((b) => b.id), ['b1', 'b0']);
    t.same(list[0], { id: 'b1', startedAt: 10, finishedAt: 12, status: 'ok', file: 'x.tar', size: 5_000_000_000, sha256: 'ab', targets: [{ dir: '/a', ok: true }, { dir: '/b', ok: false, error: 'full' }], contents: { rows: { homes: 1 } }, verified: true, verifyNote: 'fine', heads });
    t.same((await s.listBackups(1)).map((b) => b.id), ['b1']);
  });

  t.test('contact addresses and link codes', async (t) => {
    const s = await fresh(t);
    await home(s);
    await s.addContact({ id: 'c1', homeId: 'h1', name: 'Taro', role: 'family', phone: '+819011112222', language: 'ja', priority: 1 });
    await s.addContact({ id: 'c2', homeId: 'h1', name: 'Hana', role: 'family', language: 'ja', priority: 2 });
    const push = await s.saveContactAddress({ contactId: 'c1', kind: 'push', address: '{"e":1}', verification: 'verified', verifiedAt: 3, createdAt: 3 });
    await s.saveContactAddress({ contactId: 'c1', kind: 'line', address: 'U1', verification: 'pending', createdAt: 4 });
    const again = await s.saveContactAddress({ contactId: 'c1', kind: 'push', address: '{"e":1}', label: 'iPad', verification: 'verified', verifiedAt: 5, createdAt: 9 });
    t.equal(again.id, push.id, 'the same address is updated, not added');
    t.same([again.label, again.verifiedAt, again.createdAt], ['iPad', 5, 3]);
    t.same((await s.listContactAddresses('c1')).map((a) => a.kind), ['phone', 'line', 'push'], 'by kind, then as added');
    await s.saveContactAddress({ contactId: 'c2', kind: 'line', address: 'U1', verification: 'verified', createdAt: 6 });
    t.same((await s.findContactsByAddress('line', 'U1')).map((c) => c.id), ['c1', 'c2'], 'by priority');
    t.equal(await s.removeContactAddress({ kind: 'line', address: 'U1' }), 2);
    t.equal(await s.removeContactAddress({ id: push.id }), 1);
    t.equal(await s.removeContactAddress({ id: push.id }), 0);
    t.same((await s.listContactAddresses('c1')).map((a) => a.kind), ['phone']);

    await s.createLinkCode({ code: '111111', kind: 'line', contactId: 'c1', expiresAt: 100, createdAt: 1 });
    await s.createLinkCode({ code: '222222', kind: 'line', contactId: 'c1', expiresAt: 100, createdAt: 2 });
    t.equal(await s.takeLinkCode('line', '111111', 50), undefined, 'a newer code replaced it');
    t.equal(await s.takeLinkCode('push', '222222', 50), undefined, 'a code is for one kind');
    t.equal(await s.takeLinkCode('line', '222222', 50), 'c1');
    t.equal(await s.takeLinkCode('line', '222222', 50), undefined, 'used once');
    await s.createLinkCode({ code: '333333', kind: 'line', contactId: 'c2', expiresAt: 100, createdAt: 2 });
    t.equal(await s.takeLinkCode('line', '333333', 100), undefined, 'expired');
    const both = await Promise.all([1, 2].map(async () => { await s.createLinkCode({ code: '444444', kind: 'line', contactId: 'c2', expiresAt: 100, createdAt: 3 }); }));
    t.equal(both.length, 2);
    t.same((await Promise.all([s.takeLinkCode('line', '444444', 1), s.takeLinkCode('line', '444444', 1)])).filter(Boolean), ['c2'], 'two racing uses: one wins');

    await s.setContactAccount('c2', 'acc');
    await s.setContactAccount('c1', 'acc');
    t.same((await s.listContactsOfAccount('acc')).map((c) => c.id), ['c1', 'c2']);
    t.equal((await s.getContact('c1'))?.accountId, 'acc');
    await s.setContactAccount('c1', null);
    t.same((await s.listContactsOfAccount('acc')).map((c) => c.id), ['c2']);
  });

  // ── Methods s4-integ added after the contract was first written: contact language, push subscriptions, fleet, reports ──

  t.test('a contact\'s own language: set on that contact only, read back everywhere the contact is', async (t) => {
    const s = await fresh(t);
    await home(s);
    await s.addContact({ id: 'c1', homeId: 'h1', name: 'Taro', role: 'family', phone: '+819011112222', language: 'ja', priority: 1 });
    await s.addContact({ id: 'c2', homeId: 'h1', name: 'Hana', role: 'family', phone: '+819033334444', language: 'ja', priority: 2 });
    await s.setContactAccount('c1', 'acc');
    await s.setContactLanguage('c1', 'en');
    t.equal((await s.getContact('c1'))?.language, 'en');
    t.same((await s.listContacts('h1')).map((c) => [c.id, c.language]), [['c1', 'en'], ['c2', 'ja']], 'the other contact keeps hers');
    t.same((await s.findContactsByPhone('+819011112222')).map((c) => c.language), ['en']);
    t.same((await s.listContactsOfAccount('acc')).map((c) => c.language), ['en']);
    await s.setContactLanguage('c1', 'ja');
    t.equal((await s.getContact('c1'))?.language, 'ja', 'and back');
    await s.setContactLanguage('nope', 'en');
    t.same((await s.listContacts('h1')).map((c) => c.language), ['ja', 'ja'], 'an unknown contact changes no one');
  });

  t.test('push subscriptions: a browser\'s subscription JSON kept as an address, shared, relabelled and removed when gone', async (t) => {
    const s = await fresh(t);
    await home(s);
    await s.addContact({ id: 'c1', homeId: 'h1', name: 'Taro', role: 'family', language: 'ja', priority: 1 });
    await s.addContact({ id: 'c2', homeId: 'h1', name: 'Hana', role: 'family', language: 'ja', priority: 2 });
    // What notifier/push-subscription.ts stores: the endpoint and keys as JSON, long and full of URL characters.
    const sub = (n: number) => JSON.stringify({ endpoint: `https://push.example.net/wpush/v2/${'gAAAAABk'.repeat(20)}${n}?x=1&y=%20`, keys: { p256dh: `B${'Q'.repeat(86)}${n}`, auth: `a${n}_-${'z'.repeat(19)}` } });
    const newer = await s.saveContactAddress({ contactId: 'c1', kind: 'push', address: sub(1), label: '台所の iPad', verification: 'verified', verifiedAt: 20, createdAt: 20 });
    const older = await s.saveContactAddress({ contactId: 'c1', kind: 'push', address: sub(2), verification: 'verified', verifiedAt: 10, createdAt: 10 });
    await s.saveContactAddress({ contactId: 'c2', kind: 'push', address: sub(1), label: 'shared tablet', verification: 'verified', verifiedAt: 30, createdAt: 30 });
    t.same(newer, { id: newer.id, contactId: 'c1', kind: 'push', address: sub(1), label: '台所の iPad', verification: 'verified', verifiedAt: 20, createdAt: 20 }, 'read back exactly');
    t.same((await s.listContactAddresses('c1')).map((a) => a.id), [older.id, newer.id], 'oldest first');
    t.same((await s.findContactsByAddress('push', sub(1))).map((c) => c.id), ['c1', 'c2'], 'one browser, two people');
    t.same(await s.findContactsByAddress('push', sub(3)), []);
    const relabelled = await s.saveContactAddress({ contactId: 'c1', kind: 'push', address: sub(2), label: 'phone', verification: 'verified', verifiedAt: 40, createdAt: 40 });
    t.same([relabelled.id, relabelled.label, relabelled.verifiedAt, relabelled.createdAt], [older.id, 'phone', 40, 10], 'subscribing again updates the one row');
    t.equal((await s.listContactAddresses('c1')).length, 2);
    // The push service says the subscription is gone (HTTP 410): every contact's copy goes at once.
    t.equal(await s.removeContactAddress({ kind: 'push', address: sub(1) }), 2);
    t.same((await s.listContactAddresses('c1')).map((a) => a.address), [sub(2)]);
    t.same(await s.listContactAddresses('c2'), []);
    t.equal(await s.removeContactAddress({ kind: 'push', address: sub(1) }), 0, 'gone twice: nothing more');
    t.equal(await s.removeContactAddress({ kind: 'line', address: sub(2) }), 0, 'the kind must match too');
  });

  t.test('fleet: every home by id with residents, device count and unresolved alerts, oldest first', async (t) => {
    const s = await fresh(t);
    t.same(await s.listFleet(), [], 'no homes, no rows');
    await home(s, 'h2'); await home(s, 'h1'); await home(s, 'h3');
    await s.addResident({ homeId: 'h1', name: 'Sato', language: 'ja' });
    await s.addResident({ homeId: 'h1', name: 'Abe', language: 'ja' });
    await s.addResident({ homeId: 'h2', name: 'Ito', language: 'en' });
    for (const d of ['kettle', 'door']) await s.addDevice({ homeId: 'h1', deviceId: d, kind: d, secretHash: 'x' });
    await s.addDevice({ homeId: 'h2', deviceId: 'button', kind: 'button', secretHash: 'x' });
    const help = (await s.openAlert({ homeId: 'h1', rule: 'help', severity: 'critical', message: 'm', finding: { audience: 'family' }, openedAt: 100 })).alert;
    const kettle = (await s.openAlert({ homeId: 'h1', rule: 'kettle', severity: 'warning', message: 'k', finding: {}, openedAt: 50 })).alert;
    const door = (await s.openAlert({ homeId: 'h1', rule: 'door', severity: 'info', message: 'd', finding: {}, openedAt: 100 })).alert;
    const acked = await s.updateAlertStatus(kettle.id, 'acknowledged', 60);
    const gone = (await s.openAlert({ homeId: 'h2', rule: 'help', severity: 'critical', message: 'm', finding: {}, openedAt: 10 })).alert;
    await s.updateAlertStatus(gone.id, 'resolved', 20);
    const fleet = await s.listFleet();
    t.same(fleet.map((f) => [f.home.id, f.residents, f.devices, f.alerts.map((a) => a.rule)]), [
      ['h1', ['Abe', 'Sato'], 2, ['kettle', 'help', 'door']],
      ['h2', ['Ito'], 1, []],
      ['h3', [], 0, []],
    ], 'by home id; residents by name; acknowledged alerts count, resolved ones do not; same time: as opened');
    t.same(fleet[0]!.home, { id: 'h1', name: 'Home h1', timezone: 'Asia/Tokyo', createdAt: 1 });
    t.same(fleet[0]!.alerts, [acked, help, door], 'whole alerts, read back as the alert methods give them');
  });

  t.test('facilities: created once, listed by id; enrolments listed, ended once', async (t) => {
    const s = await fresh(t);
    t.same(await s.listFacilities(), []);
    const dc2 = await s.createFacility({ id: 'dc2', name: 'デイサービスさくら' });
    t.same(dc2, { id: 'dc2', name: 'デイサービスさくら', createdAt: 1_000 }, 'createdAt from the store clock');
    await s.createFacility({ id: 'dc1', name: 'Day care 1', createdAt: 5 });
    await t.rejects(s.createFacility({ id: 'dc1', name: 'again' }), { code: 'MIMAMORI_ERR_CONFLICT' });
    t.same((await s.listFacilities()).map((f) => [f.id, f.name, f.createdAt]), [['dc1', 'Day care 1', 5], ['dc2', 'デイサービスさくら', 1_000]], 'by id; the first name kept');
    t.same(await s.getFacility('dc1'), { id: 'dc1', name: 'Day care 1', createdAt: 5 });
    t.equal(await s.getFacility('nope'), undefined);
    await home(s, 'h1'); await home(s, 'h2');
    await s.enrollHome('dc2', 'h1'); await s.enrollHome('dc1', 'h2'); await s.enrollHome('dc1', 'h1'); await s.enrollHome('dc1', 'h1');
    t.same(await s.listEnrollments(), [{ facilityId: 'dc1', homeId: 'h1' }, { facilityId: 'dc1', homeId: 'h2' }, { facilityId: 'dc2', homeId: 'h1' }], 'by facility, then home; once each');
    t.same(await s.listEnrollments({ homeId: 'h1' }), [{ facilityId: 'dc1', homeId: 'h1' }, { facilityId: 'dc2', homeId: 'h1' }]);
    t.equal(await s.leaveFacility('dc1', 'h1'), true);
    t.equal(await s.leaveFacility('dc1', 'h1'), false, 'ended twice: nothing more');
    t.equal(await s.leaveFacility('dc9', 'h2'), false, 'the facility must match');
    t.same(await s.listEnrolledHomes('dc1'), ['h2']);
    t.same(await s.listEnrollments({ homeId: 'h1' }), [{ facilityId: 'dc2', homeId: 'h1' }]);
  });

  t.test('notifications by status: one person\'s, oldest first; the unreached ones, newest first and paged', async (t) => {
    const s = await fresh(t);
    await home(s, 'h1');
    const alerts: string[] = [];
    for (const rule of ['a', 'b', 'c', 'd']) alerts.push((await s.openAlert({ homeId: 'h1', rule, severity: 'warning', message: rule, finding: {}, openedAt: 1 })).alert.id);
    const [a1, a2, a3, a4] = alerts as [string, string, string, string];
    const rec = (alertId: string, contactId: string | undefined, status: string, at: number) =>
      s.recordNotification({ alertId, ...(contactId ? { contactId } : {}), channel: 'sms', status, createdAt: at });
    const notReached = ['failed', 'undelivered', 'canceled', 'voicemail', 'machine', 'no-answer', 'busy', 'suppressed'];
    const all: NotificationRecord[] = [
      await rec(a1, 'c1', 'failed', 10), await rec(a1, 'c1', 'busy', 20), // every try failed, but one more is held below: not unreached
      await rec(a1, 'c2', 'failed', 30), await rec(a1, 'c2', 'delivered', 40), // reached on the second try
      await rec(a2, 'c1', 'undelivered', 20), // another alert: unreached (same time as one above: by id)
      await rec(a2, 'c3', 'queued', 60), // on its way
      await rec(a3, undefined, 'failed', 70), await rec(a3, undefined, 'no-answer', 80), // the operator's: unreached
      await rec(a4, undefined, 'failed', 90), await rec(a4, 'c1', 'delivered', 95), // a person reached does not count for the operator's
      await rec(a4, 'c1', 'held', 96), await rec(a4, 'c1', 'held', 96), await rec(a1, 'c1', 'held', 97), await rec(a2, 'c2', 'held', 98),
    ];
    // The reference: every notification grouped by (alert, person), a pair whose every status is not-reached.
    const pairs = new Map<string, NotificationRecord[]>();
    for (const x of all) pairs.set(`${x.alertId}|${x.contactId ?? ''}`, [...(pairs.get(`${x.alertId}|${x.contactId ?? ''}`) ?? []), x]);
    const expected = [...pairs.values()].filter((xs) => xs.every((x) => notReached.includes(x.status))).flat()
      .sort((x, y) => y.updatedAt - x.updatedAt || (x.id < y.id ? 1 : -1)).map((x) => x.id);
    t.equal(expected.length, 4, 'the reference finds four (a2/c1, a3\'s operator twice, a4\'s operator)');
    const first = await s.listUnreachedNotifications(notReached, { offset: 0, limit: 3 });
    const rest = await s.listUnreachedNotifications(notReached, { offset: 3, limit: 3 });
    t.equal(first.total, 4);
    t.equal(rest.total, 4);
    t.same([...first.notifications, ...rest.notifications].map((x) => x.id), expected, 'the same notifications, newest first; same time: larger id first');
    t.equal(first.notifications.length, 3, 'a page of three');
    t.same(first.notifications[0], all[8], 'whole records');
    t.same(await s.listUnreachedNotifications([], { offset: 0, limit: 10 }), { total: 0, notifications: [] });

    const held = await s.findNotifications({ statuses: ['held'], contactId: 'c1' });
    t.same(held.map((x) => x.id), [all[10]!.id, all[11]!.id, all[12]!.id], 'c1\'s held ones only, oldest first; same time: by id');
    t.equal((await s.findNotifications({ statuses: ['held'] })).length, 4, 'everyone\'s');
    t.same((await s.findNotifications({ statuses: ['failed', 'busy'], contactId: 'c1' })).map((x) => x.status), ['failed', 'busy']);
    t.same(await s.findNotifications({ statuses: [] }), []);
  });

  t.test('refused device messages: the newest N per home kept, pruned in batches', async (t) => {
    const s = await fresh(t, { rejectedPerHome: 10, rejectedPruneEvery: 5 });
    const count = async (homeId: string | undefined) => (await s.listRejected(1000)).filter((r) => r.homeId === homeId).length;
    // A flood from one home: 23 messages, some sharing a time (ties broken by id). Prunes at its 1st
    // message (the first since the store opened), then every 5th after: the 6th, 11th, 16th, 21st.
    for (let i = 0; i < 23; i++) await s.recordRejected({ at: 100 + Math.floor(i / 2), topic: 'mimamori/h1/d/events', homeId: 'h1', deviceId: 'd', reason: 'malformed_json', payload: `#${i}` });
    for (let i = 0; i < 3; i++) await s.recordRejected({ at: 50 + i, topic: 'mimamori/h2/d/events', homeId: 'h2', deviceId: 'd', reason: 'malformed_json' });
    for (let i = 0; i < 17; i++) await s.recordRejected({ at: 60 + i, topic: 'junk', reason: 'bad_topic' });
    t.equal(await count('h1'), 12, 'pruned to 10 at the 21st message, 2 more since');
    t.equal(await count('h2'), 3, 'another home keeps its own');
    t.same((await s.listRejected(1000)).filter((r) => r.homeId === undefined).map((r) => r.at), [76, 75, 74, 73, 72, 71, 70, 69, 68, 67, 66],
      'messages without a home are one more home: 10 kept at the 16th, 1 more since');
    for (const p of ['#23', '#24', '#25']) await s.recordRejected({ at: 200, topic: 'x', homeId: 'h1', reason: 'malformed_json', payload: p });
    t.equal(await count('h1'), 10, 'the 26th message pruned h1 to exactly 10');
    t.same((await s.listRejected(1000)).filter((r) => r.homeId === 'h1').map((r) => r.payload),
      ['#25', '#24', '#23', '#22', '#21', '#20', '#19', '#18', '#17', '#16'], 'the newest ten, newest first (same time: by id)');
    t.equal(await count('h2'), 3, 'untouched');
  });

  t.test('monthly reports: one per home, month and language; newest month first; filters and limit', async (t) => {
    const s = await fresh(t);
    await home(s, 'h1'); await home(s, 'h2');
    const report = (id: string, homeId: string, month: string, language: 'ja' | 'en', more: Partial<MonthlyReportRecord> = {}): MonthlyReportRecord => ({
      id, homeId, month, language, createdAt: 10, createdBy: 'account:op', complete: true, file: `${homeId}/${month}-${language}.pdf`, size: 120_000, sha256: 'a'.repeat(64), pages: 3, ...more,
    });
    const r1 = report('r1', 'h1', '2026-01', 'ja', { size: 5_000_000_000 });
    const r2 = report('r2', 'h1', '2026-02', 'ja', { complete: false, createdBy: 'cli:root' });
    await s.saveReport(r2); await s.saveReport(r1);
    await s.saveReport(report('r3', 'h1', '2026-02', 'en'));
    await s.saveReport(report('r4', 'h2', '2026-01', 'ja'));
    t.same(await s.getReport('r1'), r1, 'read back exactly (a size past 32 bits too)');
    t.same(await s.getReport('r2'), r2, 'an unfinished month stays unfinished');
    t.equal(await s.getReport('nope'), undefined);
    t.equal((await s.findReport('h1', '2026-02', 'en'))?.id, 'r3');
    t.equal(await s.findReport('h1', '2026-02', 'fr' as 'en'), undefined);
    t.equal(await s.findReport('h2', '2026-02', 'ja'), undefined);
    t.same((await s.listReports()).map((r) => r.id), ['r3', 'r2', 'r1', 'r4'], 'newest month first, then home, then language');
    t.same((await s.listReports({ homeIds: ['h2'] })).map((r) => r.id), ['r4']);
    t.same((await s.listReports({ homeIds: ['h2', 'h1'], month: '2026-01' })).map((r) => r.id), ['r1', 'r4']);
    t.same(await s.listReports({ homeIds: [] }), [], 'no homes: no reports (not every report)');
    t.same(await s.listReports({ month: '2025-12' }), []);
    t.same((await s.listReports({ limit: 3 })).map((r) => r.id), ['r3', 'r2', 'r1']);
    // Made again (a partial month once it ended): the new one replaces the old under its new id.
    const again = report('r2b', 'h1', '2026-02', 'ja', { createdAt: 20, createdBy: 'account:fam', file: 'h1/2026-02-ja-2.pdf', size: 99, sha256: 'b'.repeat(64), pages: 4 });
    await s.saveReport(again);
    t.equal(await s.getReport('r2'), undefined, 'the old record is gone');
    t.same(await s.findReport('h1', '2026-02', 'ja'), again);
    t.same((await s.listReports()).map((r) => r.id), ['r3', 'r2b', 'r1', 'r4'], 'still one per home, month and language');
    await t.rejects(s.saveReport(report('r9', 'no-such-home', '2026-01', 'ja')), 'a report belongs to a home that exists');
    t.equal((await s.listReports()).length, 4);
  });

  t.test('a transaction is all or nothing', async (t) => {
    const s = await fresh(t);
    await home(s);
    // The second statement of addContact's transaction (its phone address) fails: the contact row goes too.
    await s.addContact({ id: 'c1', homeId: 'h1', name: 'Taro', role: 'family', language: 'ja', priority: 1 });
    await t.rejects(s.addContact({ id: 'c2', homeId: 'no-such-home', name: 'X', role: 'family', phone: '+8190', language: 'ja', priority: 1 }));
    t.equal(await s.getContact('c2'), undefined);
    t.same((await s.findContactsByAddress('phone', '+8190')), []);
    // Work outside a transaction still runs while one is open, and lands after it.
    const [batch] = await Promise.all([
      s.commitIngestBatch([{ homeId: 'h1', deviceId: 'd', eventId: 'e1', outbox: 'one' }, { homeId: 'h1', deviceId: 'd', eventId: 'e2', outbox: 'two' }], 1),
      s.markEventSeen('h1', 'd', 'e3', 1),
    ]);
    t.same(batch.fresh, [true, true]);
    t.same((await s.listIngestOutbox()).map((o) => o.text), ['one', 'two']);
  });

  t.test('a damaged JSON column is reported with where it is, not passed on', async (t) => {
    const s = await fresh(t);
    await home(s);
    await s.setRuleConfig('h1', { ok: true });
    // Nothing in the ports writes bad JSON; write it around the store, as a damaged file or a hand edit would.
    await rawRun(t, s, "UPDATE rule_configs SET rules = '{not json' WHERE home_id = 'h1'");
    await t.rejects(s.getRuleConfig('h1'), { code: 'MIMAMORI_ERR_STORED_DATA', message: /rule_configs\.rules of h1/ });
    await s.saveBackup({ id: 'b1', startedAt: 1, status: 'ok', targets: [], verified: true });
    await rawRun(t, s, `UPDATE backups SET targets = '[{"dir":1}]' WHERE id = 'b1'`);
    await t.rejects(s.listBackups(), { code: 'MIMAMORI_ERR_STORED_DATA', message: /backups\.targets of b1/ });
  });
}

/** Runs one statement on the store's database around the ports (for the damaged-data test). */
export const rawRunners = new WeakMap<Store, (sql: string) => Promise<void>>();
async function rawRun(t: Test, s: Store, sql: string): Promise<void> {
  const run = rawRunners.get(s);
  if (!run) { t.fail('the contract run gave no raw runner for this store'); return; }
  await run(sql);
}
