/**
 * Reconciliation of sends a crash left without an outcome (issue 3
 * durability): the store is put in the state a SIGKILL inside the send
 * window leaves (a send key with its address and text; maybe a pending
 * notification without a provider id; maybe the message already at the
 * provider), then a notifier starts on it. The provider is the local Twilio
 * server, asked through the real twilio client (messages.list / calls.list).
 */
import t, { type Test } from 'tap';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import type { Alert, SendKey } from '../../core/store.js';
import type { Channel } from '../../notifier/channel.js';
import { createSmsChannel } from '../../notifier/channels/sms.js';
import { createVoiceChannel } from '../../notifier/channels/voice.js';
import { defaultReconcile } from '../../notifier/escalation-engine.js';
import { createReconciler } from '../../notifier/send-reconcile.js';
import { createSqliteStore } from '../../core/store.js';
import { createNotifier, type Notifier } from '../../notifier/index.js';
import { specialCallNumbers, startLocalTwilio, type LocalTwilio } from '../../notifier/local-twilio-server.js';
import { createTwilioClient, type TwilioClient } from '../../notifier/twilio-client.js';
import { at1942, finding, homeId, seedHome, startLocal, type SeededHome } from './helpers.js';
import { ownershipOf } from '../support/ownership.js';

const from = '+815000000000';
const text = '【見守り】山田花子さん: 浴室の水が流れたままです';
/** A send younger than this may still be in flight: reconciliation looks at it once it is this old. */
const settleMs = defaultReconcile.settleAfterMs;

interface Rig extends SeededHome {
  clock: VirtualClock; local: LocalTwilio; client: TwilioClient; sms: Channel; voice: Channel; alert: Alert;
  /** A key as sendOnce writes it, plus (optionally) the pending notification written right after. */
  crashState(o: { channel: 'sms' | 'voice'; to: string; contactId: string; stage: string; at: number; notification?: boolean; body?: string }): Promise<{ key: SendKey; notificationId?: string }>;
  start(channels?: { sms?: Channel; voice?: Channel }, extra?: Partial<Parameters<typeof createNotifier>[0]>): Promise<Notifier>;
  audits(): Promise<Array<Record<string, unknown>>>;
}

async function rig(t: Test, o: { delays?: { sentMs: number; finalMs: number } } = {}): Promise<Rig> {
  const seeded = await seedHome();
  const clock = new VirtualClock(at1942);
  const local = o.delays ? await startLocalTwilio({ logger: silentLogger(), clock, delays: o.delays }) : await startLocal(clock);
  const client = createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url });
  const sms = createSmsChannel({ client, from, logger: silentLogger() });
  const voice = createVoiceChannel({ client, from, logger: silentLogger(), gatherActionUrl: 'http://127.0.0.1:9/twilio/voice/gather' });
  const f = finding();
  const { alert } = await seeded.store.openAlert({ homeId, rule: f.rule, severity: f.severity, message: f.message.en, finding: f, openedAt: f.at });
  const started: Notifier[] = [];
  t.teardown(async () => { for (const n of started) await n.close(); await local.close(); await seeded.store.close(); });
  return {
    ...seeded, clock, local, client, sms, voice, alert,
    async crashState(o) {
      const key: SendKey = { key: `${alert.id}:${o.stage}:${o.contactId}:${o.channel}`, alertId: alert.id, contactId: o.contactId, channel: o.channel, createdAt: o.at, recipient: o.to, body: o.body ?? text };
      await seeded.store.claimSendKeys([key]);
      if (!o.notification) return { key };
      const n = await seeded.store.recordNotification({ alertId: alert.id, contactId: o.contactId, channel: o.channel, status: 'pending', createdAt: o.at });
      await seeded.store.attachSendKeys([key.key], n.id);
      return { key, notificationId: n.id };
    },
    async start(channels = {}, extra = {}) {
      const n = await createNotifier({ store: seeded.store, logger: silentLogger(), clock, sms: channels.sms ?? sms, channels: [channels.voice ?? voice], ...extra });
      started.push(n);
      return n;
    },
    async audits() {
      return (await seeded.store.listAudit(alert.id)).filter((a) => a.action === 'send.reconcile').map((a) => a.detail as Record<string, unknown>);
    },
  };
}

t.test('SMS the provider got before the crash: recorded with its sid, not sent again', async (t) => {
  const r = await rig(t);
  const { notificationId } = await r.crashState({ channel: 'sms', to: r.taro.phone!, contactId: r.taro.id, stage: '0:0:0', at: r.clock.now(), notification: true });
  // The provider accepted it; the hub died before recording the answer.
  const handed = await r.sms.send({ to: { language: 'ja', phone: r.taro.phone! }, text });
  r.clock.advanceBy(60_000);
  await r.local.settled();
  t.equal(r.local.messages()[0]?.status, 'delivered', 'sent and delivered at the provider (DateSent is set)');

  await r.start();
  t.equal(r.local.messages().length, 1, 'not sent again');
  const n = (await r.store.listNotifications(r.alert.id)).find((x) => x.id === notificationId);
  t.equal(n?.providerId, handed.providerId, 'the provider id is recorded');
  t.equal(n?.status, 'delivered', 'with the status the provider has now');
  t.same((await r.audits()).map((a) => a.outcome), ['found']);
});

t.test('SMS still queued at the provider (no DateSent yet) is found too', async (t) => {
  // The provider keeps it queued past the settle window.
  const r = await rig(t, { delays: { sentMs: 10 * settleMs, finalMs: 20 * settleMs } });
  await r.crashState({ channel: 'sms', to: r.ken.phone!, contactId: r.ken.id, stage: '0:0:0', at: r.clock.now() });
  const handed = await r.sms.send({ to: { language: 'en', phone: r.ken.phone! }, text });
  t.equal(r.local.messages()[0]?.status, 'queued');
  r.clock.advanceBy(settleMs); // the restart: the send is older than the settle window
  await r.start();
  t.equal(r.local.messages().length, 1, 'not sent again');
  const keys = await r.store.listSendKeys(r.alert.id);
  const n = (await r.store.listNotifications(r.alert.id)).find((x) => x.id === keys[0]?.notificationId);
  t.ok(n, 'a notification is written for a key that had none, and attached to it');
  t.equal(n?.providerId, handed.providerId);
  t.equal(n?.status, 'queued');
});

t.test('SMS the provider never got: sent now, once — and a second restart sends nothing more', async (t) => {
  const r = await rig(t);
  const keyAt = r.clock.now();
  await r.crashState({ channel: 'sms', to: r.taro.phone!, contactId: r.taro.id, stage: '0:0:0', at: keyAt });
  r.clock.advanceBy(2 * 60_000);
  const first = await r.start();
  const sent = r.local.messages();
  t.equal(sent.length, 1, 'sent once');
  t.equal(sent[0]?.to, r.taro.phone);
  t.equal(sent[0]?.body, text, 'the text written with the key');
  const n = (await r.store.listNotifications(r.alert.id))[0];
  t.equal(n?.providerId, sent[0]?.sid);
  t.same((await r.audits()).map((a) => a.outcome), ['resent']);
  await first.close();

  await r.start();
  t.equal(r.local.messages().length, 1, 'nothing unsettled is left: no second send');
  t.equal((await r.audits()).length, 1);
});

t.test("the resend's answer lost (channel error after the provider accepted): recorded as failed, never sent a third time", async (t) => {
  const r = await rig(t);
  await r.crashState({ channel: 'sms', to: r.taro.phone!, contactId: r.taro.id, stage: '0:0:0', at: r.clock.now() });
  // The resend reaches the provider, but its answer is lost (the channel throws after the provider accepted).
  const lossy: Channel = { ...r.sms, async send(msg) { await r.sms.send(msg); throw new Error('socket hang up'); } };
  r.clock.advanceBy(settleMs); // the restart: the send is older than the settle window
  await r.start({ sms: lossy });
  t.equal(r.local.messages().length, 1);
  t.equal((await r.store.listNotifications(r.alert.id))[0]?.status, 'failed', 'its outcome is unknown to the hub');
  // A failed send is final: it is not looked up again (the engine falls back to the next channel).
  await r.start();
  t.equal(r.local.messages().length, 1);
});

t.test('an identical earlier message already attributed to another notification is never the match', async (t) => {
  const r = await rig(t);
  // The same text to the same person just before, already recorded (e.g. a previous repeat).
  const earlier = await r.sms.send({ to: { language: 'ja', phone: r.taro.phone! }, text });
  const old = await r.store.recordNotification({ alertId: r.alert.id, contactId: r.taro.id, channel: 'sms', status: 'queued', createdAt: r.clock.now() });
  await r.store.updateNotification(old.id, { status: 'queued', providerId: earlier.providerId! }, r.clock.now());
  await r.crashState({ channel: 'sms', to: r.taro.phone!, contactId: r.taro.id, stage: '0:0:1', at: r.clock.now() });
  r.clock.advanceBy(settleMs); // the restart: the send is older than the settle window
  await r.start();
  t.equal(r.local.messages().length, 2, 'the unsettled send is sent: the earlier one was someone else\'s');
  t.same((await r.audits()).map((a) => a.outcome), ['resent']);
});

t.test('a different text to the same number is not the match (SMS matches on To and Body)', async (t) => {
  const r = await rig(t);
  await r.crashState({ channel: 'sms', to: r.taro.phone!, contactId: r.taro.id, stage: '0:0:0', at: r.clock.now() });
  await r.sms.send({ to: { language: 'ja', phone: r.taro.phone! }, text: '別の知らせ' });
  r.clock.advanceBy(settleMs); // the restart: the send is older than the settle window
  await r.start();
  t.same(r.local.messages().map((m) => m.body), ['別の知らせ', text]);
});

t.test('voice: a call placed before the crash is found, with its outcome read now (voicemail is not reaching someone)', async (t) => {
  const r = await rig(t);
  const { notificationId } = await r.crashState({ channel: 'voice', to: specialCallNumbers.voicemail, contactId: r.taro.id, stage: '0:0:0', at: r.clock.now(), notification: true });
  const handed = await r.voice.send({ to: { language: 'ja', phone: specialCallNumbers.voicemail, id: r.taro.id }, text: '浴室の水が流れたままです', alertId: r.alert.id });
  // The call ran its course while the hub was down: its status callbacks were lost.
  r.clock.advanceBy(5 * 60_000);
  await r.local.settled();
  await r.start();
  t.equal(r.local.calls().length, 1, 'not called again');
  const n = (await r.store.listNotifications(r.alert.id)).find((x) => x.id === notificationId);
  t.equal(n?.providerId, handed.providerId);
  t.equal(n?.status, 'undelivered', 'answered by a machine');
  t.same((await r.audits()).map((a) => a.outcome), ['found']);
});

t.test('voice: a call the provider never got is placed now, once', async (t) => {
  const r = await rig(t);
  await r.crashState({ channel: 'voice', to: r.ken.phone!, contactId: r.ken.id, stage: '0:0:0', at: r.clock.now(), body: 'Bath water has been running' });
  r.clock.advanceBy(settleMs); // the restart: the send is older than the settle window
  await r.start();
  const calls = r.local.calls();
  t.equal(calls.length, 1);
  t.equal(calls[0]?.to, r.ken.phone);
  t.match(calls[0]?.twiml ?? '', /Bath water has been running/);
  t.match(calls[0]?.twiml ?? '', new RegExp(`contact=${r.ken.id}`), 'the gather URL names the person again');
  await r.start();
  t.equal(r.local.calls().length, 1, 'a second restart finds it');
});

t.test('provider unreachable: nothing is sent blindly; asked again on the clock, then settled', async (t) => {
  const r = await rig(t);
  await r.crashState({ channel: 'sms', to: r.taro.phone!, contactId: r.taro.id, stage: '0:0:0', at: r.clock.now() });
  let failures = 2;
  const flaky: Channel = { ...r.sms, async findSent(q) { if (failures-- > 0) throw new Error('connect ECONNREFUSED'); return r.sms.findSent!(q); } };
  r.clock.advanceBy(settleMs); // the restart: the send is older than the settle window
  const n = await r.start({ sms: flaky }, { reconcile: { retryMs: 60_000 } });
  t.equal(r.local.messages().length, 0, 'not sent while its fate is unknown');
  r.clock.advanceBy(60_000);
  await n.idle();
  t.equal(r.local.messages().length, 0, 'still unknown after the second try');
  r.clock.advanceBy(60_000);
  await n.idle();
  t.equal(r.local.messages().length, 1, 'sent once the provider answered that it never got it');
  t.same((await r.audits()).map((a) => a.outcome), ['unknown', 'unknown', 'resent']);
});

t.test('not found and too old, or the alert already resolved: recorded as lost, not sent late', async (t) => {
  const r = await rig(t);
  await r.crashState({ channel: 'sms', to: r.taro.phone!, contactId: r.taro.id, stage: '0:0:0', at: r.clock.now() });
  r.clock.advanceBy(31 * 60_000);
  await r.start();
  t.equal(r.local.messages().length, 0);
  const n = (await r.store.listNotifications(r.alert.id))[0];
  t.equal(n?.status, 'failed');
  t.match(n?.error, /too old/);

  const r2 = await rig(t);
  await r2.crashState({ channel: 'sms', to: r2.taro.phone!, contactId: r2.taro.id, stage: '0:0:0', at: r2.clock.now() });
  await r2.store.updateAlertStatus(r2.alert.id, 'resolved', r2.clock.now());
  r2.clock.advanceBy(settleMs); // the restart: the send is older than the settle window
  await r2.start();
  t.equal(r2.local.messages().length, 0);
  t.match((await r2.store.listNotifications(r2.alert.id))[0]?.error, /resolved/);
  t.same((await r2.audits()).map((a) => a.outcome), ['dropped']);
});

t.test('the engine writes the address and text with the key for SMS, and nothing for a channel that cannot be asked', async (t) => {
  const r = await rig(t);
  const sent: string[] = [];
  // A channel without findSent (like e-mail, the tablet, live updates): at most once.
  const email: Channel = { name: 'email', async send(m) { sent.push(m.to.email ?? ''); return { status: 'sent', providerId: `em-${sent.length}` }; } };
  const jiro = await r.store.addContact({ homeId, name: '山田次郎', role: 'family', email: 'jiro@example.com', language: 'ja', priority: 5 });
  await r.store.updateAlertStatus(r.alert.id, 'resolved', r.clock.now());
  await r.store.setEscalationPolicy(homeId, {
    tiers: [{ name: 'family', recipients: [{ role: 'family' }], channels: ['sms', 'email'], waitMinutes: 10 }],
    entry: { info: 'family', warning: 'family', critical: 'family' },
  }, r.clock.now());
  const n = await r.start({}, { channels: [r.voice, email] });
  const res = await n.handleFinding(finding({ rule: 'help', type: 'helpButton' }));
  await n.idle();
  const keys = await r.store.listSendKeys(res.alertId!);
  const bySms = keys.filter((k) => k.channel === 'sms' && k.contactId !== jiro.id);
  t.equal(bySms.length, 2, 'two family members by SMS');
  t.equal(keys.find((k) => k.channel === 'sms' && k.contactId === jiro.id)?.recipient, undefined, 'no phone, no address: the SMS failed and e-mail followed');
  for (const k of bySms) { t.match(k.recipient, /^\+\d+$/); t.ok(k.body?.includes('山田花子') || k.body?.includes('Yamada'), 'the text handed over'); }
  const byEmail = keys.filter((k) => k.channel === 'email');
  t.equal(byEmail.length, 1);
  t.equal(byEmail[0]?.recipient, undefined, 'no address stored: it cannot be reconciled');
  t.equal(byEmail[0]?.body, undefined);
  t.same(await r.store.listUnsettledSendKeys(0), [], 'every send settled');
});

t.test('the local Twilio server filters lists by DateSent and StartTime, as twilio-node sends them', async (t) => {
  const r = await rig(t);
  await r.sms.send({ to: { language: 'ja', phone: r.taro.phone! }, text: 'one' });
  r.clock.advanceBy(10 * 60_000);
  const cut = new Date(r.clock.now());
  await r.sms.send({ to: { language: 'ja', phone: r.taro.phone! }, text: 'two' });
  r.clock.advanceBy(60_000);
  await r.local.settled();
  t.same((await r.client.messages.list({ to: r.taro.phone!, dateSentAfter: cut })).map((m) => m.body), ['two']);
  t.same((await r.client.messages.list({ to: r.taro.phone!, dateSentBefore: cut })).map((m) => m.body), ['one']);
  t.equal((await r.client.messages.list({ to: r.taro.phone! })).length, 2);

  await r.voice.send({ to: { language: 'ja', phone: r.ken.phone! }, text: 'a' });
  r.clock.advanceBy(10 * 60_000);
  const callCut = new Date(r.clock.now());
  await r.voice.send({ to: { language: 'ja', phone: r.ken.phone! }, text: 'b' });
  r.clock.advanceBy(10 * 60_000);
  await r.local.settled();
  const after = await r.client.calls.list({ to: r.ken.phone!, startTimeAfter: callCut });
  t.equal(after.length, 1);
  t.equal(after[0]?.sid, r.local.calls()[1]?.sid);
  t.equal((await r.client.calls.list({ to: r.ken.phone!, startTimeBefore: callCut })).length, 1);
});

t.test('in a cluster a node settles only the sends of homes it runs: none at its start, the home\'s once it gains it', async (t) => {
  const r = await rig(t);
  // Another node was sending to Taro when this node started: the send is not at the provider yet.
  await r.crashState({ channel: 'sms', to: r.taro.phone!, contactId: r.taro.id, stage: '0:0:0', at: r.clock.now() });
  const own = ownershipOf(r.store, 'node-b');
  const n = await r.start({}, { nodeId: 'node-b/1', ownership: own });
  await n.idle();
  t.equal(r.local.messages().length, 0, 'a node that does not run the home leaves its send alone (the other node may be sending it now)');
  t.same(await r.audits(), [], 'not even asked about');
  t.ok(await own.gain(homeId, 1, r.clock.now()), 'the fence is written');
  await n.idle();
  t.equal(r.local.messages().length, 0, 'gained, but the send is younger than the settle window: it may still reach the provider');
  r.clock.advanceBy(settleMs);
  await n.idle();
  t.equal(r.local.messages().length, 1, 'settled once it is that old: not at the provider, so sent once');
  t.equal(r.local.messages()[0]?.to, r.taro.phone);
  t.same((await r.audits()).map((a) => a.outcome), ['resent']);
  t.equal((await r.store.listSendKeys(r.alert.id)).filter((k) => k.notificationId === undefined).length, 0, 'no key left unsettled');
});

t.test('a start with many homes to settle reads each home\'s sends once, not every home\'s for each home', async (t) => {
  // Before: each home's read listed every home's keys and read each one's alert — a start after an alert
  // storm grew with the square of the homes (1,000 homes: 21 s and 1 GB of heap; 3,000: out of memory).
  const store = createSqliteStore(':memory:');
  t.teardown(() => store.close());
  const clock = new VirtualClock(1_000_000);
  const homes = 30;
  for (let i = 0; i < homes; i++) {
    await store.createHome({ id: `h${i}`, name: `h${i}`, timezone: 'Asia/Tokyo' });
    const { alert } = await store.openAlert({ homeId: `h${i}`, rule: 'help', severity: 'critical', message: 'm', finding: {}, openedAt: 999_000 });
    await store.claimSendKeys([{ key: `k${i}`, alertId: alert.id, contactId: `c${i}`, channel: 'sms', createdAt: 999_990, recipient: `+8190000000${String(i).padStart(2, '0')}`, body: text }]);
  }
  let rows = 0, alertReads = 0;
  const list = store.listUnsettledSendKeys.bind(store), getAlert = store.getAlert.bind(store);
  store.listUnsettledSendKeys = async (...a) => { const r = await list(...a); rows += r.length; return r; };
  store.getAlert = async (id) => { alertReads++; return getAlert(id); };
  const queued: string[] = [];
  const r = createReconciler({
    store, logger: silentLogger(), clock, channels: new Map(), ledger: { inFlight: () => false, settle: async () => true },
    options: defaultReconcile, track: (p) => p, inHome: (home, fn) => { queued.push(home); return fn(undefined); },
  });
  t.teardown(() => r.close());
  const out = await r.reconcile();
  t.equal(out.size, homes, 'every home\'s send looked at');
  t.same([...new Set(out.values())], ['in-flight'], 'young: left for a later look');
  t.equal(queued.length, homes, 'each home once, in its queue');
  t.equal(rows, 2 * homes, 'rows read: one listing to find the homes, then each home\'s own (was 30 + 30 × 30)');
  t.equal(alertReads, 0, 'no alert read to learn a send\'s home');
});
