/**
 * LINE end to end with real parts: the real `@line/bot-sdk` MessagingApiClient
 * against the local LINE-compatible server, the hub's webhook on a real
 * fastify server, webhooks signed (or forged) like LINE's, SQLite, and the
 * real twilio client against the local Twilio server for the SMS that other
 * family members still get. Escalation runs in virtual time.
 */
import t, { type Test } from 'tap';
import { messagingApi } from '@line/bot-sdk';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { createSqliteStore } from '../../core/store.js';
import { createLineChannel, readLinePostback } from '../../notifier/channels/line.js';
import { createSmsChannel } from '../../notifier/channels/sms.js';
import { createNotifier, type Notifier } from '../../notifier/index.js';
import { issueLineLinkCode, lineLinkTexts, lineWebhook } from '../../notifier/line-webhook.js';
import { startLocalLine, specialLineUsers, type LocalLine, type LocalLineMessage } from '../../notifier/local-line-server.js';
import type { LocalTwilio } from '../../notifier/local-twilio-server.js';
import { createTwilioClient } from '../../notifier/twilio-client.js';
import { channelContract } from './channel-contract.js';
import { at1942, finding, homeId, listen, newApp, seedHome, startLocal, type SeededHome } from './helpers.js';

const min = 60_000;
const lineAddress = (address: string) => [{ id: 'a', contactId: 'c', kind: 'line' as const, address, verification: 'verified' as const, createdAt: 0 }];

channelContract(t, 'line', async () => {
  const line = await startLocalLine({ logger: silentLogger() });
  const client = new messagingApi.MessagingApiClient({ baseURL: line.url, channelAccessToken: line.channelAccessToken });
  return {
    channel: createLineChannel({ client, logger: silentLogger() }),
    reachable: { language: 'ja', addresses: lineAddress(line.newUserId()) },
    refused: { language: 'ja', addresses: lineAddress(specialLineUsers.refused) },
    noAddress: { language: 'ja', phone: '+819011112222' },
    accepted: () => line.messages.filter((m) => m.kind === 'push').length,
    close: () => line.close(),
  };
});

t.test('line channel: a pending (unproved) LINE address is never used; a wrong token is a failed send', async (t) => {
  const line = await startLocalLine({ logger: silentLogger() });
  t.teardown(() => line.close());
  const good = new messagingApi.MessagingApiClient({ baseURL: line.url, channelAccessToken: line.channelAccessToken });
  const user = line.newUserId();
  const pending = await createLineChannel({ client: good, logger: silentLogger() }).send({ to: { language: 'ja', addresses: [{ ...lineAddress(user)[0]!, verification: 'pending' }] }, text: 'x' });
  t.same(pending, { status: 'failed', error: 'no LINE account linked' });
  const bad = new messagingApi.MessagingApiClient({ baseURL: line.url, channelAccessToken: 'wrong' });
  const r = await createLineChannel({ client: bad, logger: silentLogger() }).send({ to: { language: 'ja', addresses: lineAddress(user) }, text: 'x' });
  t.equal(r.status, 'failed');
  t.match(r.error, /^line 401: Authentication failed/);
  t.equal(line.messages.length, 0);
});

interface Rig extends SeededHome {
  clock: VirtualClock; line: LocalLine; twilio: LocalTwilio; notifier: Notifier;
  advance(ms: number): Promise<void>;
  sms(phone: string | undefined): string[];
  pushes(userId: string): LocalLineMessage[];
  replies(userId: string): string[];
}

const policy = {
  tiers: [
    { name: 'family', recipients: [{ role: 'family' }], channels: ['sms'], waitMinutes: 10 },
    { name: 'caregiver', recipients: [{ role: 'caregiver' }], channels: ['sms'], waitMinutes: 10 },
  ],
  entry: { info: 'family', warning: 'family', critical: 'family' },
  renotifyMinutes: 120, renotifyMax: 1, graceMinutes: 10,
};

async function rig(t: Test, start = at1942, extra: Partial<Parameters<typeof createNotifier>[0]> = {}): Promise<Rig> {
  const seeded = await seedHome(createSqliteStore(':memory:'));
  const clock = new VirtualClock(start);
  const twilio = await startLocal(clock);
  const line = await startLocalLine({ logger: silentLogger(), clock });
  const sms = createSmsChannel({ client: createTwilioClient({ accountSid: twilio.accountSid, authToken: twilio.authToken, baseUrl: twilio.url }), from: '+815000000000', logger: silentLogger() });
  const client = new messagingApi.MessagingApiClient({ baseURL: line.url, channelAccessToken: line.channelAccessToken });
  await seeded.store.setEscalationPolicy(homeId, policy, clock.now());
  const notifier = await createNotifier({ store: seeded.store, logger: silentLogger(), clock, sms, channels: [createLineChannel({ client, logger: silentLogger() })], ...extra });
  const app = newApp();
  await app.register(lineWebhook, { channelSecret: line.channelSecret, client, store: seeded.store, responder: notifier.responder, logger: silentLogger(), clock });
  const base = await listen(app);
  // As the hub does on start: tell LINE where the webhook is, through the SDK.
  await client.setWebhookEndpoint({ endpoint: `${base}/line/webhook` });
  const r: Rig = {
    ...seeded, clock, line, twilio, notifier,
    async advance(ms) {
      const end = clock.now() + ms;
      while (clock.now() < end) { clock.advanceTo(Math.min(end, clock.now() + min)); await notifier.idle(); }
    },
    sms: (phone) => twilio.messages().filter((m) => m.to === phone).map((m) => m.body),
    pushes: (userId) => line.sentTo(userId).filter((m) => m.kind === 'push'),
    replies: (userId) => line.sentTo(userId).filter((m) => m.kind === 'reply').map((m) => (m.messages[0] as { text: string }).text),
  };
  t.teardown(async () => { await notifier.close(); await app.close(); await line.close(); await twilio.close(); await seeded.store.close(); });
  return r;
}

/** Taro adds the bot, types the code from his /account page, and chooses LINE first. */
async function linkTaro(r: Rig): Promise<string> {
  const user = r.line.newUserId();
  const { code } = await issueLineLinkCode(r.store, r.taro.id, r.clock.now());
  await r.line.follow(user);
  await r.line.say(user, code);
  await r.notifier.setContactPreferences(r.taro.id, { channels: ['line', 'sms'] }, 'account:taro');
  return user;
}

t.test('linking: friend-add asks for the code; the code binds the LINE user to the contact once', async (t) => {
  const r = await rig(t);
  const user = r.line.newUserId();
  t.equal(await r.line.follow(user), 200);
  t.same(r.replies(user), [`${lineLinkTexts.ja.welcome}\n${lineLinkTexts.en.welcome}`], 'the bot asks for the link code in both languages');
  t.equal(await r.line.say(user, '123456'), 200);
  t.match(r.replies(user)[1], /連携コードが違う/, 'an unknown code is refused');
  const { code } = await issueLineLinkCode(r.store, r.taro.id, r.clock.now());
  t.match(code, /^\d{6}$/);
  // Typed with full-width digits and spaces, as a phone keyboard may.
  await r.line.say(user, ` ${code.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d)))} `);
  t.equal(r.replies(user)[2], lineLinkTexts.ja.linked, 'linked, in Taro\'s language');
  const addresses = (await r.store.listContactAddresses(r.taro.id)).filter((a) => a.kind === 'line');
  t.same(addresses.map((a) => [a.address, a.verification]), [[user, 'verified']]);
  t.equal((await r.store.listAudit(r.taro.id)).filter((a) => a.action === 'contact.address.link').length, 1);
  // The same code again, from someone else: used once.
  const other = r.line.newUserId();
  await r.line.say(other, code);
  t.match(r.replies(other)[0], /連携コードが違う/);
  t.same(await r.store.findContactsByAddress('line', other), []);
  // Blocking the bot removes the address.
  await r.line.unfollow(user);
  t.same((await r.store.listContactAddresses(r.taro.id)).filter((a) => a.kind === 'line'), []);
});

t.test('forged or unsigned LINE webhooks get 403 and change nothing', async (t) => {
  const r = await rig(t);
  const user = r.line.newUserId();
  const { code } = await issueLineLinkCode(r.store, r.taro.id, r.clock.now());
  t.equal(await r.line.say(user, code, { forge: true }), 403);
  t.equal(await r.line.follow(user, { forge: true }), 403);
  const res = await fetch(r.line.webhookUrl!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events: [{ type: 'follow', source: { type: 'user', userId: user } }] }) });
  t.equal(res.status, 403, 'no signature at all');
  t.same(await r.store.findContactsByAddress('line', user), [], 'nothing linked');
  t.equal(r.line.messages.length, 0, 'no reply sent');
  t.equal(await r.line.say(user, code), 200, 'the code still works when LINE itself sends it');
});

t.test('an alert reaches a linked LINE account with buttons; the postback acknowledges it and stops escalation', async (t) => {
  const r = await rig(t);
  const user = await linkTaro(r);
  const res = await r.notifier.handleFinding(finding());
  await r.notifier.idle();
  t.equal(res.notified, 2, 'Taro and Ken');
  t.equal(r.sms(r.taro.phone).length, 0, 'Taro chose LINE: no SMS');
  t.equal(r.sms(r.ken.phone).length, 1, 'Ken still gets his SMS');
  const pushed = r.pushes(user);
  t.equal(pushed.length, 1);
  const [text, buttons] = pushed[0]!.messages as [{ type: string; text: string }, { type: string; template: { actions: Array<{ label: string; data: string }> } }];
  t.equal(text.type, 'text');
  t.match(text.text, /山田花子さん/);
  t.equal(buttons.type, 'template');
  t.same(buttons.template.actions.map((a) => a.label), ['確認しました', '向かっています']);
  const ack = readLinePostback(buttons.template.actions[0]!.data);
  t.equal(ack?.alertId, res.alertId, 'the button names the alert');
  t.match(ack?.code, /^[A-Z]\d\d$/, 'and carries its reply code');
  const notes = (await r.store.listNotifications(res.alertId)).filter((n) => n.channel === 'line');
  t.same(notes.map((n) => [n.contactId, n.status, n.providerId]), [[r.taro.id, 'sent', pushed[0]!.id]], 'delivery state recorded with LINE\'s message id');

  t.equal(await r.line.postback(user, buttons.template.actions[0]!.data), 200);
  await r.notifier.idle();
  const alert = await r.store.getAlert(res.alertId!);
  t.equal(alert?.status, 'acknowledged');
  const life = await r.store.getAlertLifecycle(res.alertId!);
  t.equal(life?.acknowledgedBy, r.taro.id);
  t.equal(life?.acknowledgedVia, 'line');
  t.match(r.replies(user).at(-1), /確認を受け付けました/);
  const pushesAfterAck = r.pushes(user).length;
  const smsAfterAck = r.twilio.messages().length;
  t.equal(smsAfterAck, 2, 'Ken heard who is handling it');
  t.match(r.sms(r.ken.phone)[1], /Taro|太郎/);
  await r.advance(60 * min);
  t.equal(r.sms(r.carer.phone).length, 0, 'the caregiver is never paged');
  t.equal(r.pushes(user).length - pushesAfterAck, 0, 'no later LINE message');
  t.equal(r.twilio.messages().length - smsAfterAck, 0, 'no later SMS');
  // The second button, pressed late: the alert is already handled by Taro — "on my way" is recorded, nothing re-pages.
  await r.line.postback(user, buttons.template.actions[1]!.data);
  await r.notifier.idle();
  t.match(r.replies(user).at(-1), /向かっていただける/);
});

t.test('a typed LINE reply works like an SMS reply; an unlinked user cannot answer', async (t) => {
  const r = await rig(t);
  const user = await linkTaro(r);
  const res = await r.notifier.handleFinding(finding());
  await r.notifier.idle();
  const stranger = r.line.newUserId();
  const data = ((r.pushes(user)[0]!.messages[1] as { template: { actions: Array<{ data: string }> } }).template.actions[0]!.data);
  await r.line.postback(stranger, data);
  t.match(r.replies(stranger)[0], /まだ連携されていません/);
  t.equal((await r.store.getAlert(res.alertId!))?.status, 'open', 'a stranger acknowledges nothing');
  await r.line.say(user, '2 20');
  await r.notifier.idle();
  t.equal((await r.store.getAlertLifecycle(res.alertId!))?.acknowledgedVia, 'line');
  t.match(r.replies(user).at(-1), /約20分/);
});

t.test("a person's new quiet hours hold back a warning and let a critical through, without a restart", async (t) => {
  // 23:10 in Tokyo; the home has no quiet hours of its own.
  const r = await rig(t, Date.parse('2026-11-21T23:10:00+09:00'));
  const user = await linkTaro(r);
  // Set after the notifier started: read at the next decision.
  await r.notifier.setContactPreferences(r.taro.id, { channels: ['line', 'sms'], quietHours: { from: '22:00', to: '07:00' } }, 'account:taro');
  const warning = await r.notifier.handleFinding(finding({ severity: 'warning', rule: 'night-door', type: 'nightDoor' }));
  await r.advance(2 * min); // past the grouping window a warning waits for
  t.equal(r.pushes(user).length, 0, 'the warning is held for Taro');
  t.equal(r.sms(r.taro.phone).length, 0);
  t.equal(r.sms(r.ken.phone).length, 1, 'Ken has no quiet hours');
  const critical = await r.notifier.handleFinding(finding({ severity: 'critical' }));
  await r.notifier.idle();
  t.not(critical.alertId, warning.alertId);
  t.equal(r.pushes(user).length, 1, 'the critical alert reaches Taro at once, by LINE');
  t.match((r.pushes(user)[0]!.messages[0] as { text: string }).text, /緊急/);
  t.equal(r.sms(r.taro.phone).length, 0);
  const audit = (await r.store.listAudit(r.taro.id)).filter((a) => a.action === 'contact.preferences');
  t.equal(audit.length, 2, 'each change is audited');
  t.equal(audit[1]?.actor, 'account:taro');
});

t.test('digests by LINE: the digest channel a person picks, falling back to their own order', async (t) => {
  const summarizeDay = () => Promise.resolve({ firstKettleAt: Date.parse('2026-11-21T07:12:00+09:00'), outings: [], noticed: [] });
  const r = await rig(t, Date.parse('2026-11-21T18:00:00+09:00'), { summarizeDay });
  const user = await linkTaro(r);
  await r.notifier.setContactPreferences(r.taro.id, { channels: ['line', 'sms'], digest: { times: ['19:00'], channel: 'line' } }, 'account:taro');
  // Ken picked e-mail, which this hub does not have and he has no address for: his own order (none) → the follow-up order → SMS.
  await r.notifier.setContactPreferences(r.ken.id, { digest: { times: ['19:00'], channel: 'email' } });
  await r.advance(61 * min);
  const pushed = r.pushes(user);
  t.equal(pushed.length, 1, 'one digest by LINE');
  t.match((pushed[0]!.messages[0] as { text: string }).text, /^【見守り・今日の様子】山田花子さん: ポット 7:12/);
  t.equal(pushed[0]!.messages.length, 1, 'a digest has no answer buttons');
  t.equal(r.sms(r.taro.phone).length, 0);
  t.equal(r.sms(r.ken.phone).length, 1);
  const sent = (await r.store.listAudit(homeId)).filter((a) => a.action === 'digest.send').map((a) => (a.detail as { channel: string }).channel).sort();
  t.same(sent, ['line', 'sms']);
});
