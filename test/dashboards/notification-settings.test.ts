/**
 * /account/notifications: a family member sets their own channels, quiet
 * hours and digest, sends themselves a test, gets a LINE link code, and sees
 * what each severity brings — through the real notifier (SQLite, the real
 * twilio client against the local Twilio server), wired like the hub.
 */
import t from 'tap';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { createSmsChannel } from '../../notifier/channels/sms.js';
import { createNotifier, testMessageText } from '../../notifier/index.js';
import { startLocalTwilio } from '../../notifier/local-twilio-server.js';
import { createTwilioClient } from '../../notifier/twilio-client.js';
import type { PushPayload } from '../../notifier/channels/push.js';
import { finding } from '../notifier/helpers.js';
import { pushAddress } from '../../notifier/push-subscription.js';
import { lateNotificationSettings, webPushRig } from './notification-port.js';
import { setup, signIn, start } from './helpers.js';

t.test('a person owns their notification settings; they count at once and are audited', async (t) => {
  const late = lateNotificationSettings();
  const f = await setup({ notifications: late.port });
  t.teardown(() => f.close());
  const clock = new VirtualClock(start);
  const twilio = await startLocalTwilio({ logger: silentLogger(), clock });
  t.teardown(() => twilio.close());
  const sms = createSmsChannel({ client: createTwilioClient({ accountSid: twilio.accountSid, authToken: twilio.authToken, baseUrl: twilio.url }), from: '+815000000000', logger: silentLogger() });
  const notifier = await createNotifier({ store: f.store, logger: silentLogger(), clock, sms });
  t.teardown(() => notifier.close());
  late.bind({ notifier, store: f.store, clock });
  const mine = await f.store.addContact({ homeId: 'h1', name: 'Name of family1', role: 'family', phone: '+819011110000', language: 'en', priority: 1, accountId: 'family1' });
  const other = await f.store.addContact({ homeId: 'h2', name: 'someone else', role: 'family', phone: '+819022220000', language: 'ja', priority: 1 });
  const s = await signIn(f, 'family1');
  const get = () => f.web.app.inject({ method: 'GET', url: '/account/notifications', headers: { cookie: s.cookie } });
  const post = (url: string, payload: Record<string, string>) => f.web.app.inject({ method: 'POST', url, headers: { cookie: s.cookie }, payload: { _csrf: s.csrf, ...payload } });

  const account = await f.web.app.inject({ method: 'GET', url: '/account', headers: { cookie: s.cookie } });
  t.match(account.body, /<a href="\/account\/notifications" id="notification-settings">Notification settings<\/a>/, 'the account page links to the settings');
  const page = await get();
  t.equal(page.statusCode, 200);
  t.match(page.body, /Notifications for Home h1/);
  t.match(page.body, /Critical: by sms, in that order, at once even in quiet hours/, 'the preview before any choice');
  t.notMatch(page.body, /someone else|Home h2/, 'only the account\'s own contacts');

  const saved = await post(`/account/notifications/${mine.id}`, { channels: 'sms', quietFrom: '22:00', quietTo: '07:00', digestTime: '19:00', digestChannel: 'sms' });
  t.equal(saved.statusCode, 303);
  t.equal(saved.headers.location, '/account/notifications?saved=1');
  t.same(await f.store.getContactPreferences(mine.id), { channels: ['sms'], quietHours: { from: '22:00', to: '07:00' }, digest: { times: ['19:00'], channel: 'sms' } });
  const audit = (await f.store.listAudit(mine.id)).filter((a) => a.action === 'contact.preferences');
  t.equal(audit.length, 1);
  t.equal(audit[0]?.actor, 'account:family1');
  t.ok((await f.store.listJobs()).some((j) => j.key === `digest:${mine.id}:19:00`), 'the digest is planned at once, no restart');
  t.match((await get()).body, /Warning: by sms, in that order; held during quiet hours 22:00–07:00/);

  // Half a setting: refused with the reason, the saved settings stay.
  const bad = await post(`/account/notifications/${mine.id}`, { channels: 'sms', quietFrom: '22:00', quietTo: '', digestTime: '', digestChannel: '' });
  t.match(decodeURIComponent(bad.headers.location as string), /errors=.*quietHours\.to/);
  t.same((await f.store.getContactPreferences(mine.id) as { quietHours: unknown }).quietHours, { from: '22:00', to: '07:00' });

  // Someone else's contact: not found, nothing changed.
  const theirs = await post(`/account/notifications/${other.id}`, { channels: 'sms', quietFrom: '', quietTo: '', digestTime: '', digestChannel: '' });
  t.equal(theirs.statusCode, 404);
  t.equal(await f.store.getContactPreferences(other.id), undefined);

  // A test message on a channel.
  const test = await post(`/account/notifications/${mine.id}/test`, { channel: 'sms' });
  t.equal(test.statusCode, 303);
  t.match(decodeURIComponent(test.headers.location as string), /test=sms&status=queued/);
  t.same(twilio.messages().map((m) => [m.to, m.body]), [['+819011110000', testMessageText.en]]);
  const noLine = await post(`/account/notifications/${mine.id}/test`, { channel: 'line' });
  t.match(decodeURIComponent(noLine.headers.location as string), /status=failed \(no line address for this person\)/);
  t.equal((await f.store.listAudit(mine.id)).filter((a) => a.action === 'contact.test-message').length, 2);

  // Her language: every message from now on, no restart, audited; a form without it leaves it.
  t.match((await get()).body, /<option value="en" selected>English<\/option>/, 'the page shows the language in use');
  const ja = await post(`/account/notifications/${mine.id}`, { channels: 'sms', quietFrom: '22:00', quietTo: '07:00', digestTime: '19:00', digestChannel: 'sms', language: 'ja' });
  t.equal(ja.headers.location, '/account/notifications?saved=1');
  t.equal((await f.store.getContact(mine.id))?.language, 'ja');
  t.same((await f.store.listAudit(mine.id)).filter((a) => a.action === 'contact.language').map((a) => [a.actor, a.detail]), [['account:family1', { from: 'en', to: 'ja' }]]);
  await post(`/account/notifications/${mine.id}/test`, { channel: 'sms' });
  t.same(twilio.messages().map((m) => m.body), [testMessageText.en, testMessageText.ja], 'the next message is in Japanese');
  await post(`/account/notifications/${mine.id}`, { channels: 'sms', quietFrom: '22:00', quietTo: '07:00', digestTime: '19:00', digestChannel: 'sms' });
  t.equal((await f.store.getContact(mine.id))?.language, 'ja', 'a form without the field leaves it');
  t.equal((await f.store.listAudit(mine.id)).filter((a) => a.action === 'contact.language').length, 1, 'an unchanged language is not audited again');
  const badLang = await post(`/account/notifications/${mine.id}`, { channels: 'sms', quietFrom: '', quietTo: '', digestTime: '', digestChannel: '', language: 'fr' });
  t.equal(badLang.statusCode, 400, 'a language the hub does not speak is refused');
  t.equal((await f.store.getContact(mine.id))?.language, 'ja');

  // A LINE link code, shown in the answer only, and valid for this person.
  const code = await post(`/account/notifications/${mine.id}/line-code`, {});
  t.equal(code.statusCode, 200);
  const shown = /send it this code \(valid 30 minutes\): (\d{6})/.exec(code.body)?.[1];
  t.ok(shown, 'the code is on the page');
  t.equal(await f.store.takeLinkCode('line', shown!, clock.now()), mine.id);
});

t.test('web push on /account/notifications: a device subscribes and unsubscribes; the notification\'s action posts to /push/action without a session', async (t) => {
  const { local, keys, clock, f, notifier } = await webPushRig(t, 'push-action-secret-for-web-tests-0123');
  const mine = await f.store.addContact({ homeId: 'h1', name: 'Name of family1', role: 'family', phone: '+819011110000', language: 'en', priority: 1, accountId: 'family1' });
  const s = await signIn(f, 'family1');
  const json = (url: string, payload: unknown, csrf: string | undefined = s.csrf) => f.web.app.inject({ method: 'POST', url, headers: { cookie: s.cookie, ...(csrf ? { 'x-csrf-token': csrf } : {}) }, payload: payload as Record<string, unknown> });

  const page = await f.web.app.inject({ method: 'GET', url: '/account/notifications', headers: { cookie: s.cookie } });
  t.match(page.body, new RegExp(`data-contact="${mine.id}" data-key="${keys.publicKey}"`), 'the page carries the VAPID key for subscribe');
  t.match(page.body, /<script type="module" src="\/static\/push.js"><\/script>/);
  t.match(page.body, /No device subscribed yet/);
  t.notMatch(page.body, /<script>|style="/, 'no inline script or style');
  const sw = await f.web.app.inject({ method: 'GET', url: '/sw.js' });
  t.equal(sw.statusCode, 200);
  t.match(sw.body, /addEventListener\('push'/);
  t.notMatch(sw.body, /^\s*(export|import)\b/m, 'a classic worker script');

  const sub = local.subscribe();
  const browser = { endpoint: sub.endpoint, expirationTime: null, keys: sub.keys };
  t.equal((await json(`/account/notifications/${mine.id}/push`, { subscription: browser, label: 'Pixel' }, '')).statusCode, 403, 'no CSRF token: refused');
  const bad = await json(`/account/notifications/${mine.id}/push`, { subscription: { endpoint: 'https://push.example/x', keys: { p256dh: 'x', auth: 'y' } } });
  t.equal(bad.statusCode, 400);
  t.equal((await f.store.listContactAddresses(mine.id)).filter((a) => a.kind === 'push').length, 0, 'a bad subscription saves nothing');
  t.equal((await json(`/account/notifications/${mine.id}/push`, { subscription: browser, label: 'Pixel' })).statusCode, 200);
  t.equal((await json(`/account/notifications/${mine.id}/push`, { subscription: browser, label: 'Pixel' })).statusCode, 200, 'again: still one device');
  const devices = (await f.store.listContactAddresses(mine.id)).filter((a) => a.kind === 'push');
  t.same(devices.map((d) => [d.address, d.label, d.verification]), [[pushAddress(sub), 'Pixel', 'verified']]);
  t.match((await f.web.app.inject({ method: 'GET', url: '/account/notifications', headers: { cookie: s.cookie } })).body, /<li>Pixel<\/li>/);
  t.equal((await f.store.listAudit(mine.id)).filter((a) => a.action === 'contact.address.link').length, 2);

  // A test push reaches the device; then an alert's action, posted with no cookie at all, acknowledges it.
  const test = await f.web.app.inject({ method: 'POST', url: `/account/notifications/${mine.id}/test`, headers: { cookie: s.cookie }, payload: { _csrf: s.csrf, channel: 'push' } });
  t.match(decodeURIComponent(test.headers.location as string), /test=push&status=sent/);
  t.equal(local.sentTo(sub.endpoint).length, 1);
  t.equal((await f.web.app.inject({ method: 'POST', url: `/account/notifications/${mine.id}`, headers: { cookie: s.cookie }, payload: { _csrf: s.csrf, channels: 'push, sms', quietFrom: '', quietTo: '', digestTime: '', digestChannel: '' } })).statusCode, 303);
  const res = await notifier.handleFinding(finding({ home: 'h1', at: clock.now() }));
  await notifier.idle();
  const p = local.sentTo(sub.endpoint).at(-1)!.json as PushPayload;
  t.equal(p.alertId, res.alertId);
  t.equal(p.lang, 'en');
  t.same(p.actions?.map((a) => a.title), ['Seen it', "I'm on my way"], 'in the person\'s language');
  const forged = await f.web.app.inject({ method: 'POST', url: '/push/action', payload: { token: `${p.token!.slice(0, -1)}${p.token!.endsWith('A') ? 'B' : 'A'}`, action: 'ack' } });
  t.equal(forged.statusCode, 403);
  const pressed = await f.web.app.inject({ method: 'POST', url: '/push/action', payload: { token: p.token, action: 'ack' } });
  t.equal(pressed.statusCode, 200);
  t.equal((await f.store.getAlertLifecycle(res.alertId!))?.acknowledgedBy, mine.id);

  t.same(JSON.parse((await json(`/account/notifications/${mine.id}/push/remove`, { endpoint: sub.endpoint })).body), { ok: true, removed: 1 });
  t.equal((await f.store.listContactAddresses(mine.id)).filter((a) => a.kind === 'push').length, 0);
});
