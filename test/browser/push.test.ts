/**
 * Web push in real Chromium: on /account/notifications the page's module
 * registers the service worker and asks for permission; the subscription is
 * stored as a browser sends it (Chromium's own subscribe call needs Google's
 * push service, which this machine cannot reach — docs/channels.md); the hub
 * sends an alert with the real web-push library to the local push service,
 * which decrypts it; that payload is delivered to the registered service
 * worker through the DevTools protocol (`ServiceWorker.deliverPushMessage`);
 * the notification it shows has the two actions; and the function the
 * worker's notificationclick handler calls for a button (`answerAction`, a
 * global of the worker — headless Chromium cannot click a notification) posts
 * the token → the alert is acknowledged by this person, and nothing more is
 * sent.
 */
import t from 'tap';
import type { PushPayload } from '../../notifier/channels/push.js';
import { webPushRig } from '../dashboards/notification-port.js';
import { finding } from '../notifier/helpers.js';
import { hangGuardMs, until } from '../support/wait.js';
import { launchChromium, noBrowser, signInAs } from './chromium.js';

t.test('a push reaches the service worker, shows its actions, and the action acknowledges the alert', { skip: noBrowser }, async (t) => {
  const { local, clock, f, twilio, notifier } = await webPushRig(t, 'push-action-secret-for-browser-tests');
  const mine = await f.store.addContact({ homeId: 'h1', name: 'Name of family1', role: 'family', phone: '+819011110000', language: 'ja', priority: 1, accountId: 'family1' });
  await notifier.setContactPreferences(mine.id, { channels: ['push', 'sms'] }, 'test');
  // The notifier tests' policy: family first, then the caregiver, ten minutes apart.
  await notifier.setEscalationPolicy('h1', {
    tiers: [
      { name: 'family', recipients: [{ role: 'family' }], channels: ['sms'], waitMinutes: 10 },
      { name: 'caregiver', recipients: [{ role: 'caregiver' }], channels: ['sms'], waitMinutes: 10 },
    ],
    entry: { info: 'family', warning: 'family', critical: 'family' },
    renotifyMinutes: 120, renotifyMax: 1, graceMinutes: 10,
  });

  const base = await f.web.listen('127.0.0.1', 0);
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const { ctx, page } = await signInAs(browser, f, base, 'family1');
  await ctx.grantPermissions(['notifications'], { origin: base });
  const cdp = await ctx.newCDPSession(page);
  const registrations: Array<{ registrationId: string; scopeURL: string }> = [];
  cdp.on('ServiceWorker.workerRegistrationUpdated', (e: { registrations: Array<{ registrationId: string; scopeURL: string; isDeleted: boolean }> }) => {
    for (const r of e.registrations) if (!r.isDeleted) registrations.push(r);
  });
  await cdp.send('ServiceWorker.enable');

  await page.goto(`${base}/account/notifications`);
  await page.locator(`div.push[data-contact="${mine.id}"] button[data-push="subscribe"]`).click();
  // The module registered /sw.js and asked for permission; Chromium's own subscribe needs Google's push service (unreachable here).
  const statusLine = page.locator('[data-push-status]').first();
  await until(async () => ((await statusLine.textContent()) ?? '') !== '', 15_000, 'the page to say what happened');
  const status = await statusLine.textContent();
  t.match(status, /^(That did not work\. Please try again later\.|This device now gets push notifications\.)$/, 'the page says what happened, in the account\'s language');
  await page.evaluate('navigator.serviceWorker.ready.then(() => true)');
  await until(() => registrations.some((r) => r.scopeURL === `${base}/`), 10_000, 'the service worker registered for the whole app');
  const registrationId = registrations.find((r) => r.scopeURL === `${base}/`)!.registrationId;

  // The subscription as a browser sends it, through the page's own endpoint (CSRF header and all).
  const device = local.subscribe();
  const browserSub = JSON.stringify({ subscription: { endpoint: device.endpoint, expirationTime: null, keys: device.keys }, label: 'Chromium' });
  const saved = await page.evaluate(`(async () => {
    const csrf = document.querySelector('meta[name="csrf-token"]').content;
    const contact = document.querySelector('div.push').dataset.contact;
    const res = await fetch('/account/notifications/' + contact + '/push', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: ${JSON.stringify(browserSub)} });
    return res.status;
  })()`) as number;
  t.equal(saved, 200);

  // The hub pages the person: real web-push → the local push service, which decrypts it.
  const res = await notifier.handleFinding(finding({ home: 'h1', at: clock.now() }));
  await notifier.idle();
  const received = local.sentTo(device.endpoint);
  t.equal(received.length, 1, 'one push');
  const payload = received[0]!.json as PushPayload;
  t.equal(payload.alertId, res.alertId);
  // …and to the service worker, as the push service would hand it over. A push handed over
  // while Chromium is still starting the worker can be dropped (CI, session 8: no notification in
  // 90 s); a push service delivers again, so this does too — the notification's tag makes a
  // second delivery replace the first, never add one.
  type Shown = Array<{ title: string; body: string; tag: string; actions: Array<{ action: string; title: string }>; data: { token: string } }>;
  let shown: Shown = [];
  const notifications = async () => {
    shown = await page.evaluate(`navigator.serviceWorker.ready.then((reg) => reg.getNotifications()).then((ns) => ns.map((n) => ({ title: n.title, body: n.body, tag: n.tag, actions: n.actions, data: n.data })))`) as Shown;
    return shown.length > 0;
  };
  const giveUp = Date.now() + 2 * hangGuardMs;
  let deliveries = 0;
  while (!(await notifications())) {
    if (Date.now() > giveUp) throw new Error(`no notification after ${deliveries} deliveries of the push`);
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: base, registrationId, data: received[0]!.text });
    deliveries++;
    const again = Date.now() + 10_000;
    while (Date.now() < again && !(await notifications())) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.equal(shown.length, 1, 'one notification shown');
  t.equal(shown[0]!.title, '見守り');
  t.match(shown[0]!.body, /^【見守り・緊急】.*花子さん/);
  t.equal(shown[0]!.tag, `alert-${res.alertId}`);
  t.same(shown[0]!.actions.map((a) => [a.action, a.title]), [['ack', '確認しました'], ['omw', '向かっています']]);
  t.equal(shown[0]!.data.token, payload.token, 'the token travels with the notification');

  // The button: what notificationclick calls, run inside the worker.
  const worker = ctx.serviceWorkers().find((w) => w.url() === `${base}/sw.js`) ?? await ctx.waitForEvent('serviceworker');
  const answer = await worker.evaluate(async (token) => (globalThis as unknown as { answerAction(t: string, a: string): Promise<{ status: number; message: string }> }).answerAction(token, 'ack'), shown[0]!.data.token);
  t.equal(answer.status, 200);
  t.match(answer.message, /確認を受け付けました/);
  await notifier.idle();
  const life = await f.store.getAlertLifecycle(res.alertId!);
  t.equal(life?.acknowledgedBy, mine.id, 'acknowledged by this person');
  t.equal(life?.acknowledgedVia, 'push');
  const pushesAfter = local.messages.length;
  const smsAfter = twilio.messages().length;
  for (let i = 0; i < 60; i++) { clock.advanceTo(clock.now() + 60_000); await notifier.idle(); }
  t.same(local.messages.slice(pushesAfter).map((m) => m.text), [], 'no later push');
  t.equal(twilio.messages().length - smsAfter, 0, 'no later SMS');
});
