import t, { type Test } from 'tap';
import { createServer, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import type { NotificationRecord } from '../../core/store.js';
import { createSmsChannel } from '../../notifier/channels/sms.js';
import { createNotifier, defaultFlapWindowMs, type Notifier, type NotifierHistory } from '../../notifier/index.js';
import { specialNumbers, type LocalTwilio } from '../../notifier/local-twilio-server.js';
import { statusCallbackRoute } from '../../notifier/status-callback-route.js';
import { smsSegments } from '../../notifier/sms-segments.js';
import { createTwilioClient } from '../../notifier/twilio-client.js';
import { signTwilioRequest } from '../../notifier/twilio-signature.js';
import { at1942, finding, homeId, listen, newApp, seedHome, startLocal, tempDir, until, type SeededHome } from './helpers.js';

const from = '+815000000000';
const operatorPhone = '+819099998888';

interface Rig extends SeededHome {
  clock: VirtualClock;
  local: LocalTwilio;
  notifier: Notifier;
  callbackUrl: string;
  recordFile: string;
  history: { alerts: Array<{ status: string; rule: string }>; notifications: Array<{ status: string }> };
}


/** Everything real: SQLite, the local Twilio server, twilio-node, and an HTTP route for status callbacks. */
async function rig(t: Test, opts: { operatorPhone?: string } = {}): Promise<Rig> {
  const seeded = await seedHome();
  const clock = new VirtualClock(at1942 - 60_000);
  const recordFile = join(tempDir(t), 'twilio-messages.ndjson');
  const local = await startLocal(clock, recordFile);
  const late: { notifier?: Notifier } = {}; // the route exists before the notifier does
  const app = newApp();
  await app.register(statusCallbackRoute, { notifier: { handleStatusCallback: (req) => late.notifier!.handleStatusCallback(req) }, path: '/twilio/status' });
  const base = await listen(app);
  const callbackUrl = `${base}/twilio/status`;
  const client = createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url });
  const sms = createSmsChannel({ client, from, logger: silentLogger(), statusCallbackUrl: callbackUrl });
  const history: Rig['history'] = { alerts: [], notifications: [] };
  const sink: NotifierHistory = { writeAlert: (a) => history.alerts.push(a), writeNotification: (n) => history.notifications.push(n) };
  const nOpts: Parameters<typeof createNotifier>[0] = { store: seeded.store, logger: silentLogger(), clock, sms, history: sink };
  if (opts.operatorPhone) nOpts.operatorPhone = opts.operatorPhone;
  const n = await createNotifier(nOpts);
  late.notifier = n;
  t.teardown(async () => { await n.close(); await local.settled(); await local.close(); await app.close(); await seeded.store.close(); });
  return { ...seeded, clock, local, notifier: n, callbackUrl, recordFile, history };
}

const sentTo = (local: LocalTwilio) => local.messages().map((m) => m.to);

/** Moves virtual time so the local server delivers, then waits for the callbacks to land. */
async function deliver(r: Rig, ids: string[], status = 'delivered'): Promise<NotificationRecord[]> {
  r.clock.advanceBy(1000);
  await r.local.settled();
  let recs: NotificationRecord[] = [];
  await until(async () => {
    recs = (await r.store.listNotifications()).filter((n) => ids.includes(n.id));
    return recs.length === ids.length && recs.every((n) => n.status === status);
  }, 5000, `notifications ${status}`);
  return recs;
}

t.test('a new family alert is sent by SMS to each family contact, in their language, and delivered', async (t) => {
  const r = await rig(t);
  const res = await r.notifier.handleFinding(finding());
  t.equal(res.created, true);
  t.equal(res.notified, 2, 'two family contacts; the caregiver is not paged in this version');
  t.type(res.alertId, 'string');

  const msgs = r.local.messages();
  t.same(msgs.map((m) => m.to).sort(), [r.ken.phone, r.taro.phone].sort());
  const ja = msgs.find((m) => m.to === r.taro.phone)!;
  const en = msgs.find((m) => m.to === r.ken.phone)!;
  const code = (await r.store.getAlertLifecycle(res.alertId!))?.state as { code?: string } | undefined;
  t.match(code?.code, /^[A-HJ-NPR-Z]\d\d$/, 'the alert has a reply code');
  t.equal(ja.body, `【見守り・緊急】山田花子さん: 60分以上、浴室の水が流れたままで動きがありません（19:42）。返信「1 ${code?.code}」で確認、「2 ${code?.code}」で向かいます`);
  // The Japanese name makes the English text UCS-2 too: its summary is shortened to stay within two segments.
  t.equal(en.body, `[Mimamori URGENT] 山田花子: Bath water has been running for 60 minutes and nobody… (19:42). Reply "1 ${code?.code}" if seen, "2 ${code?.code}" if on your way.`);
  t.equal(smsSegments(en.body), 2);
  for (const m of msgs) {
    t.notMatch(m.body, /港区|4321|キーボックス/, 'no address or key-box secret in the SMS');
    t.equal(m.from, from);
  }

  const alert = (await r.store.getAlert(res.alertId!))!;
  t.equal(alert.status, 'open');
  t.equal(alert.severity, 'critical');
  const recs = await r.store.listNotifications(alert.id);
  t.equal(recs.length, 2);
  t.same(recs.map((n) => n.contactId).sort(), [r.ken.id, r.taro.id].sort());
  for (const n of recs) {
    t.equal(n.channel, 'sms');
    t.equal(n.status, 'queued', 'status from the channel');
    t.match(n.providerId, /^SM[0-9a-f]{32}$/);
  }
  const audit = await r.store.listAudit(alert.id);
  t.same(audit.filter((a) => a.action.startsWith('alert.')).map((a) => a.action), ['alert.open']);
  t.match(audit.find((a) => a.action === 'alert.open')?.detail, { rule: 'bath-flow' });
  t.match(audit.find((a) => a.action === 'escalation.tier')?.detail, { tier: 'family', recipients: 2 });

  // Status callbacks (signed by the local server, checked by the notifier) move the records on.
  const delivered = await deliver(r, recs.map((n) => n.id));
  t.equal(delivered.length, 2);
  t.ok(r.history.notifications.some((n) => n.status === 'delivered'), 'history mirrors notification statuses');
  t.same(r.history.alerts.map((a) => a.status), ['open']);
});

t.test('one alert per home and rule: a repeat updates it and does not send again', async (t) => {
  const r = await rig(t);
  const first = await r.notifier.handleFinding(finding());
  const again = await r.notifier.handleFinding(finding({ at: at1942 + 60_000 }));
  t.equal(again.created, false);
  t.equal(again.notified, 0);
  t.equal(again.alertId, first.alertId);
  t.equal(r.local.messages().length, 2, 'still only the first two messages');
  t.equal((await r.store.getAlert(first.alertId!))?.repeats, 1);
  t.same((await r.store.listAudit(first.alertId!)).map((a) => a.action).filter((a) => a.startsWith('alert.')), ['alert.open', 'alert.repeat']);
  t.equal((await r.store.listAlerts({ homeId })).length, 1);

  // A different rule in the same home is its own alert; arriving within the grouping window, it waits for the window's end.
  const warning = await r.notifier.handleFinding(finding({ rule: 'night', type: 'nightDoor', severity: 'warning' }));
  t.equal(warning.created, true);
  t.equal(r.local.messages().length, 4, 'a critical alert opens no group window: the first warning goes at once');
  const other = await r.notifier.handleFinding(finding({ rule: 'kettle', type: 'routineMissed', severity: 'warning' }));
  t.equal(other.created, true);
  t.not(other.alertId, first.alertId);
  t.equal(r.local.messages().length, 4, 'the next one waits for the window the warning opened');
  r.clock.advanceBy(60_000);
  await r.notifier.idle();
  t.equal(r.local.messages().length, 6);
});

t.test('concurrent identical findings still give one alert and one round of messages', async (t) => {
  const r = await rig(t);
  const results = await Promise.all([finding(), finding(), finding()].map((f) => r.notifier.handleFinding(f)));
  t.equal(results.filter((x) => x.created).length, 1);
  t.equal(r.local.messages().length, 2);
});

t.test('operator findings never reach the family', async (t) => {
  const silent = finding({ rule: 'kitchen-silent', type: 'deviceSilent', audience: 'operator', severity: 'warning', device: 'kitchen-motion', message: { ja: 'センサーから2時間応答がありません', en: 'Sensor silent for 2 hours' } });

  t.test('without an operator phone: alert opened, nobody messaged', async (t) => {
    const r = await rig(t);
    const res = await r.notifier.handleFinding(silent);
    t.equal(res.created, true);
    t.equal(res.notified, 0);
    t.same(r.local.messages(), []);
    t.match((await r.store.listAudit(res.alertId!)).find((a) => a.action === 'alert.notify-operator')?.detail, { audience: 'operator', recipients: 0 });
  });

  t.test('with an operator phone: only the operator', async (t) => {
    const r = await rig(t, { operatorPhone });
    const res = await r.notifier.handleFinding(silent);
    t.equal(res.notified, 1);
    t.same(sentTo(r.local), [operatorPhone]);
    t.match(r.local.messages()[0]?.body, /^【見守り運用】home-1\/kitchen-motion: センサーから2時間応答がありません/);
    t.notMatch(r.local.messages()[0]?.body, /山田花子/);
    const recs = await r.store.listNotifications(res.alertId);
    t.equal(recs[0]?.contactId, undefined, 'operator is not a family contact');

    // Cleared: resolved, and only the operator hears it.
    const cleared = await r.notifier.handleFinding({ ...silent, state: 'cleared', at: at1942 + 3600_000 });
    t.equal(cleared.notified, 0, 'held for the flap window');
    t.same(sentTo(r.local), [operatorPhone]);
    r.clock.advanceBy(defaultFlapWindowMs);
    await r.notifier.idle();
    t.same(sentTo(r.local), [operatorPhone, operatorPhone]);
    t.match(r.local.messages()[1]?.body, /^【見守り運用・復旧】/);
    t.equal((await r.store.getAlert(res.alertId!))?.status, 'resolved');
  });
});

t.test('a cleared finding resolves the alert with a calm follow-up to those who were told', async (t) => {
  const r = await rig(t);
  // One family member's number is refused by the network: they were never told, so no follow-up.
  await r.store.addContact({ homeId, name: '山田次郎', role: 'family', phone: specialNumbers.unsubscribed, language: 'ja', priority: 5 });
  const raised = finding({ rule: 'no-sign-of-life', type: 'noSignOfLife', severity: 'warning', message: { ja: '3時間以上動きがありません', en: 'No sign of life for 3 hours' } });
  const res = await r.notifier.handleFinding(raised);
  t.equal(res.notified, 3);
  t.equal(r.local.messages().length, 2, 'the refused number never became a message');

  const clearedAt = Date.parse('2026-11-21T20:05:00+09:00');
  const cleared = await r.notifier.handleFinding({ ...raised, state: 'cleared', at: clearedAt, message: { ja: '動きがありました', en: 'Sign of life' } });
  t.equal(cleared.alertId, res.alertId);
  t.equal(cleared.created, false);
  t.equal(cleared.notified, 0, 'not yet: a finding that comes back within the flap window is the same incident');
  t.equal((await r.store.getAlert(res.alertId!))?.status, 'open');
  r.clock.advanceBy(defaultFlapWindowMs);
  await r.notifier.idle();
  const alert = (await r.store.getAlert(res.alertId!))!;
  t.equal(alert.status, 'resolved');
  t.equal(alert.closedAt, clearedAt);
  const followUps = r.local.messages().slice(2);
  t.same(followUps.map((m) => m.to).sort(), [r.ken.phone, r.taro.phone].sort());
  t.equal(followUps.find((m) => m.to === r.taro.phone)?.body, '【見守り】山田花子さん: 動きがありました。ご安心ください。 20:05');
  t.equal(followUps.find((m) => m.to === r.ken.phone)?.body, '[Mimamori] 山田花子: There is movement again. All is well now. 20:05');
  t.same((await r.store.listAudit(alert.id)).map((a) => a.action).filter((a) => a.startsWith('alert.')), ['alert.open', 'alert.condition-cleared', 'alert.resolve']);
  t.same(r.history.alerts.map((a) => a.status), ['open', 'resolved']);

  // A second clear finds no open alert and does nothing; a new raise opens a fresh alert.
  t.same(await r.notifier.handleFinding({ ...raised, state: 'cleared', at: clearedAt + 1 }), { created: false, notified: 0 });
  const reopened = await r.notifier.handleFinding({ ...raised, at: clearedAt + 3600_000 });
  t.equal(reopened.created, true);
  t.not(reopened.alertId, res.alertId);
});

t.test('a cleared finding of a rule type not in resolveOnClear leaves the alert open', async (t) => {
  const r = await rig(t);
  const f = finding({ rule: 'odd', type: 'customRule' });
  const res = await r.notifier.handleFinding(f);
  const cleared = await r.notifier.handleFinding({ ...f, state: 'cleared' });
  t.equal(cleared.notified, 0);
  t.equal((await r.store.getAlert(res.alertId!))?.status, 'open');
  t.same((await r.store.listAudit(res.alertId!)).map((a) => a.action).filter((a) => a.startsWith('alert.')), ['alert.open', 'alert.condition-cleared']);
});

t.test('an invalid or failing number is a failed notification, not a crash', async (t) => {
  const r = await rig(t);
  const bad = await r.store.addContact({ homeId, name: 'Typo', role: 'family', phone: '090-1234', language: 'ja', priority: 0 });
  const lost = await r.store.addContact({ homeId, name: 'Lost', role: 'family', phone: specialNumbers.undelivered, language: 'en', priority: 9 });
  const res = await r.notifier.handleFinding(finding());
  t.equal(res.notified, 4);
  const recs = await r.store.listNotifications(res.alertId);
  const badRec = recs.find((n) => n.contactId === bad.id)!;
  t.equal(badRec.status, 'failed');
  t.match(badRec.error, /E\.164/);
  t.notMatch(badRec.error, /090-1234/);

  // The undeliverable number is accepted, then its status callback says undelivered.
  const lostRec = recs.find((n) => n.contactId === lost.id)!;
  t.equal(lostRec.status, 'queued');
  r.clock.advanceBy(1000);
  await r.local.settled();
  await until(async () => (await r.store.findNotificationByProviderId(lostRec.providerId!))?.status === 'undelivered', 5000, 'undelivered receipt');
  t.equal((await r.store.findNotificationByProviderId(lostRec.providerId!))?.error, 'twilio 30003');
  await until(async () => (await r.store.listNotifications(res.alertId)).filter((n) => n.status === 'delivered').length === 2, 5000, 'others delivered');
});

t.test('forged status callbacks are refused and change nothing', async (t) => {
  const r = await rig(t);
  const res = await r.notifier.handleFinding(finding());
  const rec = (await r.store.listNotifications(res.alertId))[0]!;
  const params = { MessageSid: rec.providerId!, MessageStatus: 'failed', AccountSid: r.local.accountSid };
  const post = (signature?: string) => fetch(r.callbackUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature ? { 'x-twilio-signature': signature } : {}) },
    body: new URLSearchParams(params).toString(),
  });
  t.equal((await post()).status, 403, 'unsigned');
  t.equal((await post(signTwilioRequest('0'.repeat(32), r.callbackUrl, params))).status, 403, 'signed with the wrong token');
  t.equal((await post(signTwilioRequest(r.local.authToken, `${r.callbackUrl}?x=1`, params))).status, 403, 'signed for another URL');
  t.equal((await r.store.findNotificationByProviderId(rec.providerId!))?.status, 'queued', 'unchanged');

  // The genuine article is accepted.
  const good = await post(signTwilioRequest(r.local.authToken, r.callbackUrl, { ...params, MessageStatus: 'sent' }).toString());
  t.equal(good.status, 403, 'the signature covers the parameters: changing MessageStatus after signing is refused');
  const ok = await fetch(r.callbackUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signTwilioRequest(r.local.authToken, r.callbackUrl, { ...params, MessageStatus: 'sent' }) },
    body: new URLSearchParams({ ...params, MessageStatus: 'sent' }).toString(),
  });
  t.equal(ok.status, 204);
  t.equal((await r.store.findNotificationByProviderId(rec.providerId!))?.status, 'sent');
});

t.test('statuses only move forward, and a receipt that beats the send answer is kept', async (t) => {
  const r = await rig(t);
  const res = await r.notifier.handleFinding(finding());
  const rec = (await r.store.listNotifications(res.alertId))[0]!;
  const call = (status: string, sid = rec.providerId!) => {
    const params = { MessageSid: sid, MessageStatus: status };
    return r.notifier.handleStatusCallback({ url: r.callbackUrl, signature: signTwilioRequest(r.local.authToken, r.callbackUrl, params), params });
  };
  t.match(await call('delivered'), { accepted: true, status: 'delivered' });
  t.match(await call('sent'), { accepted: true, status: 'delivered' }, 'a late "sent" does not undo "delivered"');
  t.match(await call('failed'), { accepted: true, status: 'delivered' }, 'final is final');
  t.same(await call('delivered', 'SMunknown'), { accepted: true }, 'unknown sid: accepted, kept for later');
});

t.test('the alert path stays fast when Twilio hangs', async (t) => {
  const seeded = await seedHome();
  t.teardown(() => seeded.store.close());
  const sockets = new Set<Socket>();
  const hang = createServer((s) => { sockets.add(s); });
  await new Promise<void>((res) => hang.listen(0, '127.0.0.1', res));
  const port = (hang.address() as { port: number }).port;
  const client = createTwilioClient({ accountSid: `AC${'a'.repeat(32)}`, authToken: 'x'.repeat(32), baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 1500 });
  const sms = createSmsChannel({ client, from, logger: silentLogger() });
  const notifier = await createNotifier({ store: seeded.store, logger: silentLogger(), clock: new VirtualClock(at1942), sms, sendWaitMs: 100 });

  const started = Date.now();
  const res = await notifier.handleFinding(finding());
  const took = Date.now() - started;
  t.ok(took < 1000, `handleFinding returned after ${took} ms while Twilio hangs`);
  t.equal(res.notified, 2);
  t.same((await seeded.store.listNotifications(res.alertId)).map((n) => n.status), ['pending', 'pending'], 'recorded before sending');

  await notifier.idle();
  t.same((await seeded.store.listNotifications(res.alertId)).map((n) => n.status), ['failed', 'failed'], 'the timeout is recorded as a failure');
  await notifier.close();
  for (const s of sockets) s.destroy();
  await new Promise<void>((res) => hang.close(() => res()));
  await t.rejects(notifier.handleFinding(finding()), { code: 'MIMAMORI_ERR_UNAVAILABLE' });
});

t.test('the local Twilio server\'s record file shows what was sent', async (t) => {
  const r = await rig(t);
  await r.notifier.handleFinding(finding());
  await r.local.settled();
  const lines = readFileSync(r.recordFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; to: string; body?: string });
  const sent = lines.filter((l) => l.kind === 'message');
  t.same(sent.map((l) => l.to).sort(), [r.ken.phone, r.taro.phone].sort());
  t.ok(sent.every((l) => l.body?.includes('山田花子')));
});

t.test('options are validated', async (t) => {
  const seeded = await seedHome();
  t.teardown(() => seeded.store.close());
  const local = await startLocal();
  t.teardown(() => local.close());
  const sms = createSmsChannel({ client: createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url }), from, logger: silentLogger() });
  await t.rejects(createNotifier({ store: seeded.store, logger: silentLogger(), clock: new VirtualClock(0), sms, operatorPhone: '090' }), { code: 'MIMAMORI_ERR_CONFIG' });
  await t.rejects(createNotifier({ store: seeded.store, logger: silentLogger(), clock: new VirtualClock(0) } as never), { code: 'MIMAMORI_ERR_CONFIG' });
});

t.test('a new alert\'s reply code is one no open alert uses — a resolved alert\'s code is free again — found without reading the alert history', async (t) => {
  const r = await rig(t);
  const letters = 'ABCDEFGHJKLMNPRSTUVWXYZ';
  // Every code but the Z ones held by open alerts of other homes; every Z code by resolved ones.
  let n = 0;
  for (const letter of letters) {
    for (let d = 0; d < 100; d++) {
      const code = `${letter}${String(d).padStart(2, '0')}`;
      const { alert } = await r.store.openAlert({ homeId: `other-${n % 50}`, rule: `r${n++}`, severity: 'warning', message: 'm', finding: {}, openedAt: at1942 - 3_600_000 });
      await r.store.saveAlertLifecycle({ alertId: alert.id, homeId: alert.homeId, state: { code }, policy: {}, updatedAt: alert.openedAt });
      if (letter === 'Z') await r.store.updateAlertStatus(alert.id, 'resolved', at1942 - 60_000);
    }
  }
  const lists: Array<string | undefined> = [];
  const listAlerts = r.store.listAlerts.bind(r.store);
  r.store.listAlerts = async (filter) => { lists.push(filter?.homeId); return listAlerts(filter); };
  const res = await r.notifier.handleFinding(finding());
  const code = ((await r.store.getAlertLifecycle(res.alertId!))?.state as { code?: string }).code;
  t.match(code, /^Z\d\d$/, 'the only free codes: those of resolved alerts');
  t.ok(r.local.messages().every((m) => m.body.includes(`1 ${code}`)), 'and the SMS asks for it');
  t.same(lists.filter((h) => h === undefined), [], 'no read of every home\'s alerts on the way to the first page (was: the whole history, every time)');
});
