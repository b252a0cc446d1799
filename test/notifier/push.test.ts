/**
 * Web push end to end with real parts: the real `web-push` library sending
 * over HTTPS to the local push service, which checks the VAPID JWT and
 * decrypts the RFC 8291 payload with the subscription's own keys; the
 * push-action route on a real fastify server; SQLite; the real twilio client
 * against the local Twilio server for the SMS others still get. Escalation
 * runs in virtual time.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import webPush from 'web-push';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { createSqliteStore } from '../../core/store.js';
import { signAckLink } from '../../notifier/ack-link.js';
import { createPushChannel, type PushPayload } from '../../notifier/channels/push.js';
import { createSmsChannel } from '../../notifier/channels/sms.js';
import { createNotifier, type Notifier } from '../../notifier/index.js';
import { checkVapid, startLocalPush, type LocalPush } from '../../notifier/local-push-server.js';
import { pushActionRoutes } from '../../notifier/push-action.js';
import { parsePushSubscription, pushAddress, readPushAddress } from '../../notifier/push-subscription.js';
import type { LocalTwilio } from '../../notifier/local-twilio-server.js';
import { createTwilioClient } from '../../notifier/twilio-client.js';
import { keptVapidKeys } from '../../notifier/vapid-keys.js';
import { channelContract } from './channel-contract.js';
import { at1942, finding, homeId, listen, newApp, seedHome, startLocal, type SeededHome } from './helpers.js';

const min = 60_000;
const secret = 'push-action-secret-for-tests-0123456789';
const keys = webPush.generateVAPIDKeys();
const vapid = { subject: 'mailto:hub@mimamori.example', ...keys };
const pushAddresses = (...subs: Array<ReturnType<LocalPush['subscribe']>>) => subs.map((s, i) => ({ id: `p${i}`, contactId: 'c', kind: 'push' as const, address: pushAddress(s), verification: 'verified' as const, createdAt: 0 }));

channelContract(t, 'push', async () => {
  const local = await startLocalPush({ logger: silentLogger() });
  const gone = local.subscribe();
  local.unsubscribe(gone.endpoint);
  return {
    channel: createPushChannel({ vapid, logger: silentLogger(), clock: new VirtualClock(at1942), ca: local.ca }),
    reachable: { language: 'ja', addresses: pushAddresses(local.subscribe()) },
    refused: { language: 'ja', addresses: pushAddresses(gone) },
    noAddress: { language: 'ja', phone: '+819011112222' },
    accepted: () => local.messages.length,
    close: () => local.close(),
  };
});

t.test('subscriptions: validated as browsers send them, one canonical address per device', async (t) => {
  const local = await startLocalPush({ logger: silentLogger() });
  t.teardown(() => local.close());
  const sub = local.subscribe();
  const browser = { endpoint: sub.endpoint, expirationTime: null, keys: { auth: sub.keys.auth, p256dh: sub.keys.p256dh } };
  t.same(parsePushSubscription(browser), sub, 'expirationTime dropped, keys kept');
  t.equal(pushAddress(parsePushSubscription(browser)), pushAddress(sub), 'key order does not make a second address');
  t.same(readPushAddress(pushAddress(sub)), sub);
  t.equal(readPushAddress('+819011112222'), undefined);
  t.throws(() => parsePushSubscription({ ...browser, endpoint: 'http://push.example/x' }), /https/);
  t.throws(() => parsePushSubscription({ ...browser, keys: { ...browser.keys, auth: 'c2hvcnQ' } }), /16 bytes/);
});

t.test('VAPID keys: made once, kept 0600, the same after a restart; a damaged file is a clear error', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mimamori-vapid-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'vapid-keys.json');
  const first = keptVapidKeys(file);
  t.equal(statSync(file).mode & 0o777, 0o600);
  t.same(keptVapidKeys(file), first, 'the same key pair on the next start');
  t.equal(Buffer.from(first.publicKey, 'base64url').length, 65);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(file, '{"publicKey":"x"}');
  t.throws(() => keptVapidKeys(file), { code: 'MIMAMORI_ERR_CONFIG' });
});

t.test('the local push service checks the VAPID JWT: forged, wrong audience, expired → refused, nothing recorded', async (t) => {
  const local = await startLocalPush({ logger: silentLogger() });
  t.teardown(() => local.close());
  const sub = local.subscribe();
  const other = webPush.generateVAPIDKeys();
  const { Agent } = await import('node:https');
  const agent = new Agent({ ca: local.ca });
  t.teardown(() => agent.destroy());
  // Signed with one key, presented with another: the signature does not verify.
  const headers = webPush.getVapidHeaders(local.url, vapid.subject, vapid.publicKey, vapid.privateKey, 'aes128gcm');
  const forged = headers.Authorization.replace(/k=.*$/, `k=${other.publicKey}`);
  t.throws(() => checkVapid(forged, local.url, Date.now()), /does not verify/);
  t.throws(() => checkVapid(headers.Authorization, 'https://elsewhere.example', Date.now()), /audience/);
  t.throws(() => checkVapid(headers.Authorization, local.url, Date.now() + 25 * 3600_000), /expired/);
  t.throws(() => checkVapid(undefined, local.url, Date.now()), /missing/);
  // Over the wire, with the real library: a wrong private key for the public key sent → 403.
  const err = await webPush.sendNotification(sub, 'x', { vapidDetails: { subject: vapid.subject, publicKey: vapid.publicKey, privateKey: other.privateKey }, agent }).catch((e: unknown) => e);
  t.equal((err as { statusCode?: number }).statusCode, 403);
  const ok = await webPush.sendNotification(sub, 'こんにちは', { vapidDetails: vapid, agent });
  t.equal(ok.statusCode, 201);
  t.same(local.messages.map((m) => m.text), ['こんにちは'], 'only the authorised push, decrypted');
});

interface Rig extends SeededHome {
  clock: VirtualClock; local: LocalPush; twilio: LocalTwilio; notifier: Notifier; base: string;
  advance(ms: number): Promise<void>;
  sms(phone: string | undefined): string[];
  press(token: string, action: 'ack' | 'omw'): Promise<{ status: number; body: { ok: boolean; message: string; reason?: string } }>;
}

const policy = {
  tiers: [
    { name: 'family', recipients: [{ role: 'family' }], channels: ['sms'], waitMinutes: 10 },
    { name: 'caregiver', recipients: [{ role: 'caregiver' }], channels: ['sms'], waitMinutes: 10 },
  ],
  entry: { info: 'family', warning: 'family', critical: 'family' },
  renotifyMinutes: 120, renotifyMax: 1, graceMinutes: 10,
};

async function rig(t: Test): Promise<Rig> {
  const seeded = await seedHome(createSqliteStore(':memory:'));
  const clock = new VirtualClock(at1942);
  const twilio = await startLocal(clock);
  const local = await startLocalPush({ logger: silentLogger() });
  const sms = createSmsChannel({ client: createTwilioClient({ accountSid: twilio.accountSid, authToken: twilio.authToken, baseUrl: twilio.url }), from: '+815000000000', logger: silentLogger() });
  await seeded.store.setEscalationPolicy(homeId, policy, clock.now());
  const push = createPushChannel({ vapid, logger: silentLogger(), clock, ca: local.ca, actions: { secret }, onGone: async (address) => { await seeded.store.removeContactAddress({ kind: 'push', address }); } });
  const notifier = await createNotifier({ store: seeded.store, logger: silentLogger(), clock, sms, channels: [push] });
  const app = newApp();
  await app.register(pushActionRoutes, { secret, responder: notifier.responder, clock, logger: silentLogger() });
  const base = await listen(app);
  t.teardown(async () => { await notifier.close(); await push.close?.(); await app.close(); await local.close(); await twilio.close(); await seeded.store.close(); });
  return {
    ...seeded, clock, local, twilio, notifier, base,
    async advance(ms) {
      const end = clock.now() + ms;
      while (clock.now() < end) { clock.advanceTo(Math.min(end, clock.now() + min)); await notifier.idle(); }
    },
    sms: (phone) => twilio.messages().filter((m) => m.to === phone).map((m) => m.body),
    async press(token, action) {
      const res = await fetch(`${base}/push/action`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, action }) });
      return { status: res.status, body: await res.json() as { ok: boolean; message: string; reason?: string } };
    },
  };
}

/** Taro's phone subscribes (as the account page would store it) and he puts push first. */
async function subscribeTaro(r: Rig): Promise<ReturnType<LocalPush['subscribe']>> {
  const sub = r.local.subscribe();
  await r.store.saveContactAddress({ contactId: r.taro.id, kind: 'push', address: pushAddress(sub), label: 'phone', verification: 'verified', verifiedAt: r.clock.now(), createdAt: r.clock.now() });
  await r.notifier.setContactPreferences(r.taro.id, { channels: ['push', 'sms'] }, 'account:taro');
  return sub;
}

t.test('an alert reaches a push subscription (decrypted by the push service); its action acknowledges it and stops escalation', async (t) => {
  const r = await rig(t);
  const sub = await subscribeTaro(r);
  const res = await r.notifier.handleFinding(finding());
  await r.notifier.idle();
  t.equal(res.notified, 2, 'Taro and Ken');
  t.equal(r.sms(r.taro.phone).length, 0, 'Taro chose push: no SMS');
  t.equal(r.sms(r.ken.phone).length, 1, 'Ken still gets his SMS');
  const got = r.local.sentTo(sub.endpoint);
  t.equal(got.length, 1, 'exactly one push');
  const p = got[0]!.json as PushPayload;
  t.match(p.body, /山田花子さん/, 'the alert text, decrypted with the subscription key');
  t.equal(p.lang, 'ja');
  t.equal(p.alertId, res.alertId);
  t.same(p.actions?.map((a) => [a.action, a.title]), [['ack', '確認しました'], ['omw', '向かっています']]);
  t.equal(got[0]!.urgency, 'high');
  t.equal(got[0]!.vapid.publicKey, vapid.publicKey, 'signed by the hub\'s VAPID key');
  const notes = (await r.store.listNotifications(res.alertId)).filter((n) => n.channel === 'push');
  t.same(notes.map((n) => [n.contactId, n.status, n.providerId]), [[r.taro.id, 'sent', `${r.local.url}/messages/${got[0]!.id}`]], 'delivery state with the push service\'s message');

  const pressed = await r.press(p.token!, 'ack');
  t.equal(pressed.status, 200);
  t.match(pressed.body.message, /確認を受け付けました/);
  await r.notifier.idle();
  t.equal((await r.store.getAlert(res.alertId!))?.status, 'acknowledged');
  const life = await r.store.getAlertLifecycle(res.alertId!);
  t.equal(life?.acknowledgedBy, r.taro.id, 'the right person');
  t.equal(life?.acknowledgedVia, 'push');
  const pushesAfterAck = r.local.messages.length;
  const smsAfterAck = r.twilio.messages().length;
  t.equal(smsAfterAck, 2, 'Ken heard who is handling it');
  await r.advance(60 * min);
  t.equal(r.sms(r.carer.phone).length, 0, 'the caregiver is never paged');
  t.equal(r.local.messages.length - pushesAfterAck, 0, 'no later push');
  t.equal(r.twilio.messages().length - smsAfterAck, 0, 'no later SMS');
});

t.test('a forged, expired, or other-purpose action token → 403 and nothing acknowledged', async (t) => {
  const r = await rig(t);
  const sub = await subscribeTaro(r);
  const res = await r.notifier.handleFinding(finding());
  await r.notifier.idle();
  const p = r.local.sentTo(sub.endpoint)[0]!.json as PushPayload;
  const claims = { alertId: res.alertId!, contactId: r.taro.id, language: 'ja' as const, expiresAt: r.clock.now() + 3600_000 };
  const forged = signAckLink('another-secret-of-enough-length', claims, 'push-action');
  const emailLink = signAckLink(secret, claims); // an e-mail link's token, same secret: another purpose
  const tampered = `${p.token!.slice(0, -2)}${p.token!.endsWith('AA') ? 'BB' : 'AA'}`;
  for (const token of [forged, emailLink, tampered, 'not-a-token']) {
    const out = await r.press(token, 'ack');
    t.equal(out.status, 403, `refused: ${token.slice(0, 12)}…`);
    t.match(out.body.message, /無効/);
  }
  // The real token, a day and a minute later: expired.
  r.clock.advanceTo(r.clock.now() + 24 * 3600_000 + min);
  const late = await r.press(p.token!, 'ack');
  t.equal(late.status, 403);
  t.equal(late.body.reason, 'expired');
  const bad = await fetch(`${r.base}/push/action`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: p.token, action: 'delete' }) });
  t.equal(bad.status, 400);
  const life = await r.store.getAlertLifecycle(res.alertId!);
  t.equal(life?.acknowledgedBy, undefined, 'nothing acknowledged');
  t.not((await r.store.getAlert(res.alertId!))?.status, 'acknowledged');
});

t.test('a subscription the push service calls gone (410) is removed; the person falls back to SMS', async (t) => {
  const r = await rig(t);
  const sub = await subscribeTaro(r);
  r.local.unsubscribe(sub.endpoint);
  await r.notifier.handleFinding(finding());
  await r.notifier.idle();
  t.same((await r.store.listContactAddresses(r.taro.id)).filter((a) => a.kind === 'push'), [], 'the subscription is removed');
  t.equal(r.local.messages.length, 0);
  t.equal(r.sms(r.taro.phone).length, 1, 'Taro still hears by SMS, next in his order');
});
