/**
 * Dead letters (/operator/dead-letters, issue 14): notifications that reached
 * nobody (every notification of that alert to that person failed) and device
 * messages the ingest refused, newest first, paged; payload secrets masked;
 * "retry now" sends through the real notifier (SMS via the twilio client to
 * the local Twilio server), is audited, and takes the letter off the list.
 */
import t from 'tap';
import { notReachedStatuses, redactPayload } from '../../dashboards/routes-operator-dead-letters.js';
import { isNotReached } from '../../notifier/index.js';
import { messages } from '../../dashboards/i18n.js';
import { signIn } from './helpers.js';
import { operatorRig } from './operator-rig.js';

const rows = (body: string, attr: string) => [...body.matchAll(new RegExp(`<tr ${attr}="([^"]+)"`, 'g'))].map((m) => m[1]!);

t.test('which statuses are dead: the store searches exactly the notifier\'s not-reached ones', async (t) => {
  // Every status word the channels, receipts and the notifier use.
  const known = ['pending', 'accepted', 'scheduled', 'queued', 'sending', 'sent', 'delivered', 'read', 'undelivered', 'failed', 'canceled',
    'initiated', 'ringing', 'in-progress', 'completed', 'busy', 'no-answer', 'voicemail', 'machine', 'suppressed', 'held', 'summarized', 'answered'];
  t.same(known.filter(isNotReached), [...notReachedStatuses].sort((a, b) => known.indexOf(a) - known.indexOf(b)), 'the list is the notifier\'s rule');
  t.ok(notReachedStatuses.every(isNotReached), 'and nothing more');
});

t.test('payloads: secrets masked, long ones shortened', async (t) => {
  t.equal(redactPayload('{"kind":"kettle","password":"hunter2","nested":{"apiKey":"k","ok":1}}'), '{"kind":"kettle","password":"***","nested":{"apiKey":"***","ok":1}}');
  t.equal(redactPayload('not json token=abc123 secret: "x y" rest'), 'not json token=*** secret: *** rest');
  t.equal(redactPayload('x'.repeat(400)), `${'x'.repeat(300)}…`);
});

t.test('the page lists both kinds, newest first and paged; retry now goes through the notifier', async (t) => {
  const { f, twilio, contacts } = await operatorRig(t);
  const at = f.clock.now();
  // The ledger as the escalation left it: SMS then voice to the family contact both failed; the carer was reached.
  const smsFailed = await f.store.recordNotification({ alertId: f.ids.alert1, contactId: contacts.family.id, channel: 'sms', status: 'undelivered', error: '30003 Unreachable destination handset', createdAt: at });
  await f.store.claimSendKeys([{ key: `${f.ids.alert1}:0:0:0:${contacts.family.id}:sms`, alertId: f.ids.alert1, contactId: contacts.family.id, channel: 'sms', createdAt: at, recipient: '+819012345678', body: '【見守り・緊急】山田 花子さん: 緊急ボタン' }]);
  await f.store.attachSendKeys([`${f.ids.alert1}:0:0:0:${contacts.family.id}:sms`], smsFailed.id);
  const voiceFailed = await f.store.recordNotification({ alertId: f.ids.alert1, contactId: contacts.family.id, channel: 'voice', status: 'no-answer', createdAt: at + 1000 });
  await f.store.recordNotification({ alertId: f.ids.alert1, contactId: contacts.carer.id, channel: 'sms', status: 'failed', createdAt: at + 2000 });
  await f.store.recordNotification({ alertId: f.ids.alert1, contactId: contacts.carer.id, channel: 'voice', status: 'completed', createdAt: at + 3000 });
  // 55 refused device messages, one with a secret in it.
  for (let i = 0; i < 55; i++) {
    await f.store.recordRejected({ at: at + i * 1000, topic: `mimamori/h1/d${i}/events`, homeId: 'h1', deviceId: `d${i}`, reason: i % 2 ? 'malformed_json' : 'invalid_fields', detail: 'bad', payload: i === 54 ? '{"kind":"door","token":"SECRET-TOKEN"}' : `{"n":${i}` });
  }
  const op = await signIn(f, 'op');
  const page = await f.web.app.inject({ method: 'GET', url: '/operator/dead-letters', headers: { cookie: op.cookie, accept: 'text/html' } });
  t.equal(page.statusCode, 200);
  t.same(rows(page.body, 'data-notification'), [voiceFailed.id, smsFailed.id], 'the family contact\'s two failed tries; the carer was reached');
  t.match(page.body, /id="dl-notifications-count" role="status">2 件（1 \/ 1 ページ）/);
  const devices = rows(page.body, 'data-rejected');
  t.equal(devices.length, 50, 'a page of 50');
  t.match(page.body, /id="dl-devices-count" role="status">新しい順に 1〜50 件目/);
  t.notMatch(page.body, /SECRET-TOKEN/, 'the secret is masked');
  t.match(page.body, /&quot;token&quot;:&quot;\*\*\*&quot;/);
  t.match(page.body, messages.reject_malformed_json.ja);
  t.match(page.body, /<tr data-rejected="[^"]+"><td>[^<]+<\/td><td>h1<\/td><td>d54<\/td>/, 'newest first');
  const next = await f.web.app.inject({ method: 'GET', url: '/operator/dead-letters?npage=1&dpage=2', headers: { cookie: op.cookie, accept: 'text/html' } });
  t.equal(rows(next.body, 'data-rejected').length, 5, 'the other 5');
  t.match(next.body, /新しい順に 51〜55 件目/);
  t.notMatch(next.body, /rel="next"/);

  // Retry now: the SMS again, with the text first handed over, through the twilio client.
  const before = twilio.messages().length;
  const retry = await f.web.app.inject({ method: 'POST', url: `/operator/dead-letters/alerts/${f.ids.alert1}/notifications/${smsFailed.id}/retry`, headers: { cookie: op.cookie }, payload: { _csrf: op.csrf } });
  t.equal(retry.statusCode, 303);
  t.match(decodeURIComponent(String(retry.headers.location)), /再送しました: /);
  const sent = twilio.messages().slice(before);
  t.same(sent.map((m) => [m.to, m.body]), [['+819012345678', '【見守り・緊急】山田 花子さん: 緊急ボタン']], 'one SMS, the same text, to the same person');
  const ledger = (await f.store.listNotifications(f.ids.alert1)).filter((n) => n.contactId === contacts.family.id);
  t.equal(ledger.length, 3, 'the retry is a new notification of the alert');
  const retried = ledger.find((n) => n.id !== smsFailed.id && n.id !== voiceFailed.id)!;
  t.equal(retried.channel, 'sms');
  t.equal(retried.providerId, sent[0]!.sid, 'with the provider\'s id, so receipts update it');
  const audit = (await f.store.listAudit(f.ids.alert1)).filter((a) => a.action === 'send.retry');
  t.same(audit.map((a) => [a.actor, (a.detail as { notificationId: string }).notificationId, (a.detail as { retryId: string }).retryId]), [['op', smsFailed.id, retried.id]], 'audited with who, what and when');
  const after = await f.web.app.inject({ method: 'GET', url: '/operator/dead-letters', headers: { cookie: op.cookie, accept: 'text/html' } });
  t.same(rows(after.body, 'data-notification'), [], 'reached on the retry: no longer a dead letter');

  // Only failed notifications are retried; only by operators.
  const again = await f.web.app.inject({ method: 'POST', url: `/operator/dead-letters/alerts/${f.ids.alert1}/notifications/${retried.id}/retry`, headers: { cookie: op.cookie, accept: 'application/json' }, payload: { _csrf: op.csrf } });
  t.equal(again.statusCode, 409);
  const fam = await signIn(f, 'family1');
  const refused = await f.web.app.inject({ method: 'POST', url: `/operator/dead-letters/alerts/${f.ids.alert1}/notifications/${voiceFailed.id}/retry`, headers: { cookie: fam.cookie }, payload: { _csrf: fam.csrf } });
  t.equal(refused.statusCode, 403);
  t.equal(twilio.messages().length, before + 1, 'nothing else was sent');
});

t.test('the notifications list: exact counts and pages from the store\'s targeted query, past the last page the last one', async (t) => {
  const { f, contacts } = await operatorRig(t);
  const at = f.clock.now();
  // 52 failed tries to the family contact (nobody reached), and 300 delivered ones to the carer that must not count.
  for (let i = 0; i < 52; i++) await f.store.recordNotification({ alertId: f.ids.alert1, contactId: contacts.family.id, channel: 'sms', status: i % 2 ? 'failed' : 'busy', createdAt: at + i * 1000 });
  for (let i = 0; i < 300; i++) await f.store.recordNotification({ alertId: f.ids.alert1, contactId: contacts.carer.id, channel: 'sms', status: 'delivered', createdAt: at + i });
  const op = await signIn(f, 'op');
  const get = async (q: string) => (await f.web.app.inject({ method: 'GET', url: `/operator/dead-letters${q}`, headers: { cookie: op.cookie, accept: 'text/html' } })).body;
  const first = await get('');
  t.match(first, /id="dl-notifications-count" role="status">52 件（1 \/ 2 ページ）/);
  t.equal(rows(first, 'data-notification').length, 50);
  const second = await get('?npage=2');
  t.equal(rows(second, 'data-notification').length, 2, 'the other two: the oldest');
  const beyond = await get('?npage=9');
  t.match(beyond, /52 件（2 \/ 2 ページ）/, 'a page past the end shows the last');
  t.same(rows(beyond, 'data-notification'), rows(second, 'data-notification'));
  const oldest = (await f.store.listNotifications(f.ids.alert1)).filter((n) => n.contactId === contacts.family.id).slice(0, 2).map((n) => n.id).reverse();
  t.same(rows(second, 'data-notification'), oldest, 'newest first across pages');
});
