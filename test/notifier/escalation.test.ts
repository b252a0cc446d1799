/**
 * Escalation in virtual time: SQLite, the real twilio client against the
 * local Twilio server for SMS. Voice is an in-test Channel (`fakeVoice`)
 * because the voice channel (notifier/channels/voice.ts) is being built by
 * another agent at the same time; it records calls and answers with
 * scripted outcomes, and its "voicemail" receipts use the same
 * DeliveryReceipt shape the real one reports.
 */
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { createSqliteStore, type Contact } from '../../core/store.js';
import type { Channel, ChannelMessage, SendResult } from '../../notifier/channel.js';
import { createSmsChannel } from '../../notifier/channels/sms.js';
import { createNotifier, type Notifier } from '../../notifier/index.js';
import type { LocalTwilio } from '../../notifier/local-twilio-server.js';
import { createTwilioClient } from '../../notifier/twilio-client.js';
import { parseEscalationPolicy } from '../../notifier/escalation-policy.js';
import { at1942, finding, homeId, seedHome, smsTiersPolicy, startLocal, tempDir, type SeededHome } from './helpers.js';

const min = 60_000;
const from = '+815000000000';

/** Voice stand-in: records every call; numbers in `outcomes` answer as scripted. */
function fakeVoice(outcomes: Record<string, SendResult['status']> = {}): Channel & { calls: ChannelMessage[] } {
  const calls: ChannelMessage[] = [];
  let n = 0;
  return {
    name: 'voice', spoken: true, calls,
    async send(msg) {
      calls.push(msg);
      const status = outcomes[msg.to.phone ?? ''] ?? 'queued';
      return status === 'failed' ? { status, error: 'busy' } : { status, providerId: `CA${String(++n).padStart(32, '0')}` };
    },
  };
}

const policy = smsTiersPolicy(2);

interface Rig extends SeededHome {
  clock: VirtualClock; local: LocalTwilio; notifier: Notifier; voice: ReturnType<typeof fakeVoice>; emergency: Contact; dbPath: string;
  /** Advances virtual time and waits for every step and send it started. */
  advance(ms: number): Promise<void>;
  to(phone: string | undefined): string[];
}

async function rig(t: Test, o: { policy?: unknown; start?: number; voice?: Record<string, SendResult['status']>; extra?: Partial<Parameters<typeof createNotifier>[0]> } = {}): Promise<Rig> {
  const dbPath = join(tempDir(t), 'hub.db');
  const seeded = await seedHome(createSqliteStore(dbPath));
  const emergency = await seeded.store.addContact({ homeId, name: '見守りセンター', role: 'emergency', phone: '+81311112222', language: 'ja', priority: 9 });
  const clock = new VirtualClock(o.start ?? at1942);
  const local = await startLocal(clock);
  const client = createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url });
  const sms = createSmsChannel({ client, from, logger: silentLogger() });
  const voice = fakeVoice(o.voice);
  await seeded.store.setEscalationPolicy(homeId, o.policy ?? policy, clock.now());
  const notifier = await createNotifier({ store: seeded.store, logger: silentLogger(), clock, sms, channels: [voice], ...o.extra });
  const r: Rig = {
    ...seeded, clock, local, notifier, voice, emergency, dbPath,
    async advance(ms) {
      const end = clock.now() + ms;
      // Step minute by minute so steps scheduled by earlier steps run on time.
      while (clock.now() < end) { clock.advanceTo(Math.min(end, clock.now() + min)); await r.notifier.idle(); }
    },
    to: (phone) => local.messages().filter((m) => m.to === phone).map((m) => m.body),
  };
  t.teardown(async () => { await r.notifier.close(); await local.close(); await seeded.store.close(); });
  return r;
}

t.test('no acknowledgement: family, then caregiver, then emergency with address and key box', async (t) => {
  const r = await rig(t);
  const res = await r.notifier.handleFinding(finding());
  t.equal(res.notified, 2, 'family first');
  t.equal(r.to(r.carer.phone).length, 0);
  await r.advance(9 * min);
  t.equal(r.to(r.carer.phone).length, 0, 'caregiver waits the family tier out');
  await r.advance(1 * min);
  t.equal(r.to(r.carer.phone).length, 1, 'caregiver after 10 minutes');
  t.equal(r.to(r.emergency.phone).length, 0);
  await r.advance(10 * min);
  const em = r.to(r.emergency.phone);
  t.equal(em.length, 1, 'emergency tier after another 10 minutes');
  t.match(em[0], /東京都港区1-2-3/);
  t.match(em[0], /キーボックス暗証番号 4321/);
  t.match(em[0], /山田花子/);
  t.match(em[0], /山田太郎（家族/);
  t.match(em[0], /19:42から/);
  await r.advance(60 * min);
  t.equal(r.local.messages().length, 4, 'exhausted: nothing more, nothing twice');
  const actions = (await r.store.listAudit(res.alertId)).map((a) => a.action);
  t.same(actions.filter((a) => a === 'escalation.tier').length, 3);
  t.ok(actions.includes('escalation.exhausted'));
  // Family SMS never carry the address.
  for (const b of r.to(r.taro.phone)) t.notMatch(b, /港区|4321/);
});

t.test('a warning never reaches the emergency tier', async (t) => {
  const r = await rig(t);
  await r.notifier.handleFinding(finding({ severity: 'warning' }));
  await r.advance(60 * min);
  t.equal(r.to(r.carer.phone).length, 1);
  t.equal(r.to(r.emergency.phone).length, 0);
});

t.test('acknowledged at the family tier: escalation stops, the others hear who is handling it', async (t) => {
  const r = await rig(t);
  const res = await r.notifier.handleFinding(finding());
  await r.advance(3 * min);
  const ack = await r.notifier.responder.acknowledge({ alertId: res.alertId!, contactId: r.taro.id, via: 'sms' });
  t.equal(ack.ok, true);
  t.equal(ack.ok && ack.alert.status, 'acknowledged');
  await r.notifier.idle();
  const kenMsgs = r.to(r.ken.phone);
  t.equal(kenMsgs.length, 2);
  t.match(kenMsgs[1], /山田太郎 is handling it\./, 'in Ken\'s language (English)');
  t.equal(r.to(r.taro.phone).length, 1, 'the acknowledger is not told about themselves');
  await r.advance(25 * min);
  t.equal(r.to(r.carer.phone).length, 0, 'no caregiver page after an acknowledgement');
  const life = await r.store.getAlertLifecycle(res.alertId!);
  t.equal(life?.acknowledgedBy, r.taro.id);
  t.equal(life?.acknowledgedVia, 'sms');
  t.equal(life?.acknowledgedAt, at1942 + 3 * min);
  t.same((await r.notifier.responder.acknowledge({ alertId: 'nope', via: 'sms' })), { ok: false, reason: 'not_found', message: 'no alert nope' });
});

t.test('acknowledged at the caregiver tier: no emergency; family and caregiver were told', async (t) => {
  const r = await rig(t);
  const res = await r.notifier.handleFinding(finding());
  await r.advance(12 * min);
  t.equal(r.to(r.carer.phone).length, 1);
  await r.notifier.responder.acknowledge({ alertId: res.alertId!, contactId: r.carer.id, via: 'voice' });
  await r.notifier.idle();
  t.match(r.to(r.taro.phone)[1], /佐藤ケアマネさんが対応しています。/);
  await r.advance(30 * min);
  t.equal(r.to(r.emergency.phone).length, 0);
});

t.test('acknowledged at the emergency tier', async (t) => {
  const r = await rig(t);
  const res = await r.notifier.handleFinding(finding());
  await r.advance(21 * min);
  t.equal(r.to(r.emergency.phone).length, 1);
  const ack = await r.notifier.responder.acknowledge({ alertId: res.alertId!, contactId: r.emergency.id, via: 'voice' });
  t.equal(ack.ok, true);
  await r.notifier.idle();
  t.match(r.to(r.ken.phone).at(-1), /見守りセンター is handling it/);
});

t.test('quiet hours hold a warning until morning; a critical alert breaks through', async (t) => {
  const night = Date.parse('2026-11-21T23:30:00+09:00');
  const r = await rig(t, { start: night, policy: { ...policy, quietHours: { from: '22:00', to: '07:00' } } });
  const warn = await r.notifier.handleFinding(finding({ rule: 'quiet', type: 'noSignOfLife', severity: 'warning', at: night }));
  t.equal(warn.notified, 0, 'held');
  await r.advance(60 * min);
  t.equal(r.local.messages().length, 0, 'nobody woken, caregivers not paged either');
  await r.advance(Date.parse('2026-11-22T07:00:00+09:00') - r.clock.now());
  t.equal(r.to(r.taro.phone).length, 1, 'sent when the quiet period ends');
  t.equal(r.to(r.carer.phone).length, 0, 'the wait starts when the family is actually told');
  await r.advance(10 * min);
  t.equal(r.to(r.carer.phone).length, 1);

  const r2 = await rig(t, { start: night, policy: { ...policy, quietHours: { from: '22:00', to: '07:00' } } });
  const crit = await r2.notifier.handleFinding(finding({ at: night }));
  t.equal(crit.notified, 2, 'critical goes at once');
  // A contact's own quiet hours hold non-critical messages too.
  const r3 = await rig(t, { start: Date.parse('2026-11-21T13:00:00+09:00') });
  await r3.notifier.setContactPreferences(r3.ken.id, { quietHours: { from: '12:00', to: '14:00' } });
  await r3.notifier.handleFinding(finding({ severity: 'warning', at: r3.clock.now() }));
  t.equal(r3.to(r3.ken.phone).length, 0);
  t.equal(r3.to(r3.taro.phone).length, 1);
  await r3.advance(60 * min);
  t.equal(r3.to(r3.ken.phone).length, 1, 'Ken hears at 14:00');
});

t.test('a failed channel falls back to the next one for that person; voicemail does not count', async (t) => {
  const voicePolicy = { ...policy, tiers: [{ name: 'family', recipients: [{ role: 'family' }], channels: ['voice', 'sms'], waitMinutes: 10 }, policy.tiers[1]] };
  const r = await rig(t, { policy: voicePolicy, voice: { '+819011112222': 'failed' } });
  const res = await r.notifier.handleFinding(finding());
  t.equal(r.voice.calls.length, 2, 'both called first');
  t.equal(r.to(r.taro.phone).length, 1, 'Taro\'s call failed at once: SMS instead');
  t.equal(r.to(r.ken.phone).length, 0, 'Ken\'s call was placed: no SMS yet');
  // Ken's call went to voicemail: that is not reaching him.
  const kenCall = (await r.store.listNotifications(res.alertId)).find((n) => n.contactId === r.ken.id && n.channel === 'voice')!;
  const rec = await r.notifier.handleReceipt({ providerId: kenCall.providerId!, status: 'voicemail' });
  t.equal(rec.status, 'voicemail');
  await r.notifier.idle();
  t.equal(r.to(r.ken.phone).length, 1, 'SMS after voicemail');
  await r.advance(30 * min);
  t.equal(r.voice.calls.length, 2, 'no call repeated');
  t.equal(r.to(r.ken.phone).length, 1);
  t.ok((await r.store.listAudit(res.alertId)).some((a) => a.action === 'send.not-reached'));
  // The tried list marks who was not reached.
});

t.test('a voicemail receipt that comes before the call is recorded is kept across a restart, and moves the person on once it is', async (t) => {
  // Twilio can call back before the hub has recorded the call's answer (a slow store, the call's
  // node restarting, or another cluster node taking the webhook). Before: the receipt waited in the
  // receiving process's memory for 2 s and was then dropped, so Ken's call "reached" nobody and he
  // got no SMS until the family tier's wait was over.
  const voicePolicy = { ...policy, tiers: [{ name: 'family', recipients: [{ role: 'family' }], channels: ['voice', 'sms'], waitMinutes: 10 }, policy.tiers[1]] };
  const r = await rig(t, { policy: voicePolicy, voice: { '+819011112222': 'failed' } });
  const kenCallId = `CA${'1'.padStart(32, '0')}`; // the fake voice numbers its calls; Taro's fails, so Ken's is the first id
  t.same(await r.notifier.handleReceipt({ providerId: kenCallId, status: 'voicemail' }), { accepted: true }, 'accepted: no call has that id yet');
  t.same((await r.store.listHeldReceipts({ limit: 10 })).map((h) => h.status), ['voicemail'], 'kept in the store before it is acknowledged');

  // The hub restarts; the new process places the calls and records them.
  await r.notifier.close();
  const sms = createSmsChannel({ client: createTwilioClient({ accountSid: r.local.accountSid, authToken: r.local.authToken, baseUrl: r.local.url }), from, logger: silentLogger() });
  r.notifier = await createNotifier({ store: r.store, logger: silentLogger(), clock: r.clock, sms, channels: [r.voice] });
  const res = await r.notifier.handleFinding(finding({ at: r.clock.now() }));
  const kenCall = (await r.store.listNotifications(res.alertId)).find((n) => n.contactId === r.ken.id && n.channel === 'voice')!;
  t.equal(kenCall.providerId, kenCallId);
  t.equal(r.to(r.ken.phone).length, 0, 'no SMS to Ken yet: his call was placed');
  await r.advance(1 * min);
  t.equal((await r.store.findNotificationByProviderId(kenCallId))?.status, 'voicemail', 'the held receipt is applied within a minute');
  t.equal(r.to(r.ken.phone).length, 1, 'and Ken gets the SMS, as if it had come after the call');
  t.same(await r.store.listHeldReceipts({ limit: 10 }), [], 'applied, then deleted');
  t.ok((await r.store.listAudit(res.alertId)).some((a) => a.action === 'send.not-reached'));

  // A receipt no send here ever claims (another system's message) is dropped after a day, not kept for ever.
  await r.notifier.handleReceipt({ providerId: 'SMnot-ours', status: 'delivered' });
  await r.advance(23 * 60 * min);
  t.equal((await r.store.listHeldReceipts({ limit: 10 })).length, 1, 'kept for a day');
  await r.advance(61 * min);
  t.same(await r.store.listHeldReceipts({ limit: 10 }), [], 'dropped after a day');
});

t.test('on my way without arrival resumes escalation; the door confirms an arrival', async (t) => {
  const r = await rig(t);
  const res = await r.notifier.handleFinding(finding());
  await r.notifier.responder.onMyWay({ alertId: res.alertId!, contactId: r.taro.id, via: 'sms', etaMinutes: 20 });
  await r.notifier.idle();
  t.match(r.to(r.ken.phone)[1], /山田太郎 is on the way \(expected by 20:02\)/);
  await r.advance(29 * min);
  t.equal(r.to(r.carer.phone).length, 0, 'waiting for ETA + grace');
  await r.advance(1 * min);
  t.equal(r.to(r.carer.phone).length, 1, 'nobody arrived: the caregiver is paged');
  t.equal((await r.store.getAlert(res.alertId!))?.status, 'open');

  const r2 = await rig(t);
  const res2 = await r2.notifier.handleFinding(finding());
  await r2.notifier.responder.onMyWay({ alertId: res2.alertId!, contactId: r2.taro.id, via: 'sms', etaMinutes: 20 });
  await r2.advance(15 * min);
  await r2.notifier.handleReading({ kind: 'door', open: true, id: 'e1', ts: new Date(r2.clock.now()).toISOString(), home: homeId, device: 'front-door', at: r2.clock.now() });
  await r2.advance(20 * min);
  t.equal(r2.to(r2.carer.phone).length, 0, 'the door opened: arrived, no resumption');
  t.ok((await r2.store.listAudit(res2.alertId)).some((a) => a.action === 'alert.arrived'));
});

t.test('acknowledged but not resolved: the acknowledger is reminded, up to renotifyMax', async (t) => {
  const r = await rig(t);
  const res = await r.notifier.handleFinding(finding());
  await r.notifier.responder.acknowledge({ alertId: res.alertId!, contactId: r.ken.id, via: 'dashboard' });
  await r.advance(30 * min);
  t.match(r.to(r.ken.phone).at(-1), /^\[Mimamori reminder\]/);
  await r.advance(120 * min);
  t.equal(r.to(r.ken.phone).filter((b) => b.startsWith('[Mimamori reminder]')).length, 2);
  const done = await r.notifier.responder.resolve({ alertId: res.alertId!, contactId: r.ken.id, via: 'dashboard', note: 'fell asleep in the bath; fine' });
  t.equal(done.ok && done.alert.status, 'resolved');
  await r.notifier.idle();
  t.match(r.to(r.taro.phone).at(-1), /Ken Yamadaさんが対応を完了しました。（メモ: fell asleep/);
  const life = await r.store.getAlertLifecycle(res.alertId!);
  t.equal(life?.resolvedBy, r.ken.id);
  t.equal(life?.resolutionNote, 'fell asleep in the bath; fine');
  t.same(await r.notifier.responder.resolve({ alertId: res.alertId!, via: 'dashboard' }), { ok: false, reason: 'already_resolved', message: 'this alert is already resolved' });
});

t.test('a sign of life auto-resolves: calm follow-up, and escalation stops', async (t) => {
  const r = await rig(t);
  const raised = finding({ rule: 'nsol', type: 'noSignOfLife', severity: 'warning' });
  const res = await r.notifier.handleFinding(raised);
  await r.advance(5 * min);
  const cleared = await r.notifier.handleFinding({ ...raised, state: 'cleared', at: r.clock.now() });
  t.equal(cleared.notified, 0, 'not yet: it may come back within the flap window');
  t.equal(r.to(r.taro.phone).length, 1);
  await r.advance(5 * min);
  t.equal(r.to(r.taro.phone).length, 2, 'stayed clear for the flap window: one calm follow-up');
  t.match(r.to(r.taro.phone)[1], /動きがありました。ご安心ください。/);
  await r.advance(30 * min);
  t.equal(r.to(r.carer.phone).length, 0);
  t.equal((await r.store.getAlertLifecycle(res.alertId!))?.resolvedVia, 'system');
});

t.test('alerts of one home that arrive together go out as one message per person; a critical one never waits', async (t) => {
  const r = await rig(t);
  await r.notifier.handleFinding(finding({ severity: 'warning' }));
  await r.notifier.handleFinding(finding({ rule: 'night', type: 'nightDoor', severity: 'warning', message: { ja: '夜間に玄関が開きました', en: 'Front door opened at night' } }));
  await r.notifier.handleFinding(finding({ rule: 'kettle', type: 'routineMissed', severity: 'warning', message: { ja: 'ポットがまだ使われていません', en: 'Kettle not used yet' } }));
  t.equal(r.to(r.taro.phone).length, 1, 'the first at once; the next two wait for the window');
  await r.notifier.handleFinding(finding({ rule: 'help', type: 'helpButton', message: { ja: '19:42 に緊急ボタンが押されました', en: 'Help button pressed at 19:42' } }));
  t.equal(r.to(r.taro.phone).length, 2, 'a critical alert inside the window goes at once, alone');
  t.match(r.to(r.taro.phone)[1], /^【見守り・緊急】山田花子さん: 19:42 に緊急ボタンが押されました。返信「1 [A-Z]\d\d」で確認/);
  await r.advance(1 * min);
  const taro = r.to(r.taro.phone);
  t.equal(taro.length, 3, 'the two that waited, together');
  t.match(taro[2], /2件 ①夜間に玄関が開きました／②ポットがまだ使われていません/);
  // Three escalations are open for Ken: a bare reply is ambiguous; the grouped message's code names two alerts at once.
  const bare = await r.notifier.responder.bindReply(r.ken.phone!);
  t.equal(bare.kind, 'ambiguous');
  t.equal(bare.kind === 'ambiguous' ? bare.choices.length : 0, 3);
  const code = /"1 ([A-Z]\d\d)"/.exec(r.to(r.ken.phone).at(-1)!)?.[1];
  t.ok(code, 'the grouped message carries its code');
  const bound = await r.notifier.responder.bindReply(r.ken.phone!, code);
  t.equal(bound.kind, 'one');
  if (bound.kind !== 'one') return;
  await r.notifier.responder.acknowledge({ alertId: bound.alertId, contactId: bound.contactId, via: 'sms' });
  t.equal((await r.store.listAlerts({ homeId, status: 'open' })).length, 2, 'the grouped two are acknowledged together; the others stay open');
  t.equal((await r.store.listAlerts({ homeId, status: 'acknowledged' })).length, 2);
});

t.test('a backlog after an outage becomes one summary, not a storm', async (t) => {
  const r = await rig(t);
  const old = at1942 - 3 * 3600_000;
  for (let i = 0; i < 6; i++) {
    await r.notifier.handleFinding(finding({ rule: `r${i}`, type: 'noSignOfLife', severity: 'warning', at: old + i * min, message: { ja: `出来事${i}`, en: `event ${i}` } }));
  }
  // Two of them cleared in the same backlog: they are not mentioned at all.
  await r.notifier.handleFinding(finding({ rule: 'r0', type: 'noSignOfLife', state: 'cleared', at: old + 30 * min }));
  await r.notifier.handleFinding(finding({ rule: 'r1', type: 'noSignOfLife', state: 'cleared', at: old + 31 * min }));
  t.equal(r.local.messages().length, 0);
  await r.advance(3 * min);
  const taro = r.to(r.taro.phone);
  t.equal(taro.length, 1, 'one message per person');
  t.match(taro[0], /通信が途絶えていた間に4件/);
  t.notMatch(taro[0], /出来事0|出来事1/);
});

t.test('the per-person budget holds messages past it and sends one summary; a critical alert\'s first page always goes', async (t) => {
  const r = await rig(t, { extra: { budget: { max: 1, windowMs: 10 * min }, groupWindowMs: 0 } });
  await r.notifier.handleFinding(finding({ rule: 'a', severity: 'warning' }));
  await r.notifier.handleFinding(finding({ rule: 'b', severity: 'warning', message: { ja: '夜間に玄関が開きました', en: 'Front door opened at night' } }));
  t.equal(r.to(r.taro.phone).length, 1, 'second warning held back');
  const held = (await r.store.listNotifications()).filter((n) => n.status === 'held');
  t.equal(held.length, 2, 'held (not dropped) for both family members');
  await r.notifier.handleFinding(finding({ rule: 'c', severity: 'critical' }));
  t.equal(r.to(r.taro.phone).length, 2, 'the first page of a critical alert always goes, over the budget');
  await r.advance(9 * min);
  t.equal(r.to(r.taro.phone).length, 2, 'nothing more while the window is full');
  await r.advance(1 * min);
  const taro = r.to(r.taro.phone);
  t.equal(taro.length, 3, 'one summary when the window allows');
  t.match(taro[2], /^【見守り】山田花子さん: 送りすぎを防ぐため1件のお知らせを控えました。対応が必要: [A-Z]\d\d 夜間に玄関が開きました。返信「1 [A-Z]\d\d」で確認$/);
  t.match(r.to(r.ken.phone)[2], /to avoid too many texts, 1 messages were held\. Still open: [A-Z]\d\d Front door opened at night\./);
  const family = [r.taro.id, r.ken.id];
  t.equal((await r.store.listNotifications()).filter((n) => n.status === 'held' && family.includes(n.contactId!)).length, 0, 'the family\'s held ones are summarized');
  t.equal((await r.store.listNotifications()).filter((n) => n.status === 'summarized').length, 2);
  await r.advance(30 * min);
  t.equal(r.to(r.taro.phone).length, 3, 'and nothing twice');
});

t.test('a rise from warning to critical continues at the critical entry tier', async (t) => {
  const p = { ...policy, entry: { info: 'family', warning: 'family', critical: 'caregiver' } };
  const r = await rig(t, { policy: p });
  const w = await r.notifier.handleFinding(finding({ severity: 'warning' }));
  t.equal(r.to(r.carer.phone).length, 0);
  const same = await r.notifier.handleFinding(finding({ severity: 'warning', at: at1942 + min }));
  t.equal(same.notified, 0, 'a plain repeat does not page again');
  const up = await r.notifier.handleFinding(finding({ severity: 'critical', at: at1942 + 2 * min }));
  t.equal(up.alertId, w.alertId);
  t.equal(r.to(r.carer.phone).length, 1, 'caregiver (critical entry) paged at once');
  await r.advance(10 * min);
  t.equal(r.to(r.emergency.phone).length, 1, 'and on to emergency, as a critical alert');
});

t.test('a restart mid-escalation resumes with no missed tier and no duplicate', async (t) => {
  const r = await rig(t);
  const res = await r.notifier.handleFinding(finding());
  await r.advance(3 * min);
  await r.notifier.close();
  // Down for 15 minutes: the caregiver step fell due while the hub was off.
  r.clock.advanceBy(15 * min);
  const client = createTwilioClient({ accountSid: r.local.accountSid, authToken: r.local.authToken, baseUrl: r.local.url });
  const store = createSqliteStore(r.dbPath);
  t.teardown(() => store.close());
  const again = await createNotifier({ store, logger: silentLogger(), clock: r.clock, sms: createSmsChannel({ client, from, logger: silentLogger() }) });
  r.notifier = again;
  await r.advance(1 * min);
  t.equal(r.to(r.carer.phone).length, 1, 'caregiver paged on start');
  t.equal(r.to(r.taro.phone).length, 1, 'family not paged twice');
  await r.advance(10 * min);
  t.equal(r.to(r.emergency.phone).length, 1);
  t.equal(r.local.messages().length, 4);
  t.equal((await store.listSendKeys(res.alertId!)).length, 4);
});

t.test('policies are validated with readable errors; bindReply finds the one alert told to that phone', async (t) => {
  const bad = parseEscalationPolicy({ tiers: [{ name: 'family', recipients: [], waitMinutes: -1 }], entry: { info: 'family', warning: 'emergency', critical: 'pager' } });
  t.equal(bad.ok, false);
  const errors = bad.ok ? [] : bad.errors;
  t.ok(errors.some((e) => e.startsWith('tiers.0.recipients: a tier needs at least one recipient')), errors.join('\n'));
  t.ok(errors.some((e) => e.startsWith('tiers.0.waitMinutes')));
  t.ok(errors.some((e) => e.startsWith('entry.critical')));
  const r = await rig(t);
  await t.rejects(r.notifier.setEscalationPolicy(homeId, { tiers: [] }), { code: 'MIMAMORI_ERR_INVALID_INPUT' });
  t.same(await r.notifier.responder.bindReply('+819011112222'), { kind: 'none' }, 'nothing sent yet');
  const res = await r.notifier.handleFinding(finding());
  t.same(await r.notifier.responder.bindReply('+81 90-1111-2222'), { kind: 'one', alertId: res.alertId, contactId: r.taro.id });
  t.same(await r.notifier.responder.bindReply(r.carer.phone!), { kind: 'none' }, 'the caregiver was not told yet');
  const other = await r.notifier.responder.bindReply(r.taro.phone!, 'Q00');
  t.equal(other.kind, 'unknown-code', 'a code that is not one of his alerts (Q is never used) binds to nothing');
});

t.test('info findings are notices: one SMS to their own audience, no call, no escalation', async (t) => {
  const { defaultEscalationPolicy } = await import('../../notifier/escalation-policy.js');
  const noon = Date.parse('2026-11-21T12:00:00+09:00');
  const r = await rig(t, { policy: defaultEscalationPolicy, start: noon });
  const gentle = finding({ rule: 'routine-missed', type: 'routineMissed', severity: 'info', audience: 'family', at: noon, message: { ja: 'いつもは7:40までにポットを使います。今日はまだです', en: 'Usually uses the kettle by 7:40; not yet today' } });
  await r.notifier.handleFinding(gentle);
  await r.advance(3 * 60 * min);
  t.equal(r.voice.calls.length, 0, 'no voice call for a notice, although the family tier calls first');
  t.equal(r.to(r.taro.phone).length, 1, 'Taro gets one SMS');
  t.equal(r.to(r.ken.phone).length, 1, 'Ken gets one SMS');
  t.equal(r.to(r.carer.phone).length, 0, 'caregivers are not paged for a family notice');
  t.equal(r.to(r.emergency.phone).length, 0);

  const trend = finding({ rule: 'routine-trend', type: 'routineTrend', severity: 'info', audience: 'caregiver', at: r.clock.now(), message: { ja: '夜間のトイレが増えています（4週間）', en: 'More night-time toilet visits over 4 weeks' } });
  await r.notifier.handleFinding(trend);
  await r.advance(3 * 60 * min);
  t.equal(r.to(r.carer.phone).length, 1, 'the caregiver gets the observation');
  t.equal(r.to(r.taro.phone).length, 1, 'the family is not told about a caregiver observation');
});

t.test('a notice held by quiet hours goes out in the morning; a rise to warning escalates by the home policy', async (t) => {
  const { defaultEscalationPolicy } = await import('../../notifier/escalation-policy.js');
  const night = Date.parse('2026-11-21T23:30:00+09:00');
  const r = await rig(t, { policy: { ...defaultEscalationPolicy, tiers: defaultEscalationPolicy.tiers.map((x) => ({ ...x, channels: ['sms'] })) }, start: night });
  await r.notifier.handleFinding(finding({ rule: 'night-activity', type: 'unusualNightActivity', severity: 'info', at: night }));
  await r.advance(60 * min);
  t.equal(r.to(r.taro.phone).length, 0, 'held during quiet hours');
  await r.advance(7 * 60 * min + 30 * min); // to 07:00
  t.equal(r.to(r.taro.phone).length, 1, 'sent when quiet hours end');
  await r.notifier.handleFinding(finding({ rule: 'night-activity', type: 'unusualNightActivity', severity: 'warning', at: r.clock.now() }));
  await r.advance(60 * min);
  t.ok(r.to(r.carer.phone).length >= 1, 'once it is a warning, the home policy escalates to the caregiver');
});

t.test('a held critical that re-alerts (`again`: quiet after someone came in) pages the family anew after an acknowledgement; a plain repeat does not', async (t) => {
  const r = await rig(t);
  const silent = { rule: 'no-sign-of-life', type: 'noSignOfLife', message: { ja: '起きている時間帯に6時間0分、生活反応がありません', en: 'No sign of life for 6 h 0 min of waking time' } };
  const res = await r.notifier.handleFinding(finding(silent));
  await r.advance(3 * min);
  const ack = await r.notifier.responder.acknowledge({ alertId: res.alertId!, contactId: r.taro.id, via: 'sms' });
  t.equal(ack.ok && ack.alert.status, 'acknowledged');
  await r.advance(60 * min);
  const before = r.to(r.taro.phone).length;
  const plain = await r.notifier.handleFinding(finding({ ...silent, at: r.clock.now() }));
  t.equal(plain.notified, 0, 'a plain repeat of the acknowledged critical pages nobody');
  const again = await r.notifier.handleFinding(finding({
    ...silent, at: r.clock.now(), data: { again: true },
    message: { ja: '玄関から誰かが入った後、3時間0分動きがありません — 帰宅後に動けなくなっている可能性があります', en: 'Nothing has moved for 3 h 0 min since someone came in through the front door — she may have come home and be unable to move' },
  }));
  t.equal(again.alertId, res.alertId, 'the same alert goes on');
  t.ok(again.notified > 0, 'the family is paged again');
  const taro = r.to(r.taro.phone);
  t.equal(taro.length, before + 1, 'Taro (who had acknowledged) gets the new page');
  t.match(taro.at(-1), /玄関から誰かが入った後/);
  t.equal((await r.store.getAlert(res.alertId!))?.status, 'open', 'open again: escalation runs until someone acknowledges');
});
