/**
 * The hub endpoints port is public (Twilio, LINE and e-mail readers reach it):
 * the status page and `/api/status` show nothing personal without an operator
 * session, and the port serves nothing of the web app.
 */
import t from 'tap';
import { systemClock, VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { hashPassword } from '../../dashboards/passwords.js';
import { newTotpSecret } from '../../dashboards/totp.js';
import { isHubEndpointRoute, startStatusPage } from '../../dashboards/status-page.js';
import { createTwilioClient } from '../../notifier/twilio-client.js';
import { startHub } from '../../cli/hub.js';
import { password, signIn } from '../dashboards/helpers.js';
import { tempDir, testConfig } from './helpers.js';

const start = Date.parse('2026-11-21T06:00:00+09:00');

t.test('without an operator session the status leaks no name, number, address or text; with one it shows everything', async (t) => {
  const clock = new VirtualClock(start);
  const hub = await startHub({ config: testConfig(tempDir(t), { flows: { enabled: false } }), logger: silentLogger(), clock });
  t.teardown(() => hub.close());
  const { store } = hub;
  await store.createHome({ id: 'home-h1', name: '山田家', timezone: 'Asia/Tokyo', address: '東京都千代田区千代田9-9-9' });
  await store.addResident({ homeId: 'home-h1', name: '山田 花子', language: 'ja' });
  await store.addContact({ homeId: 'home-h1', name: '山田 太郎', role: 'family', phone: '+819012340001', language: 'ja', priority: 1 });
  await store.openAlert({ homeId: 'home-h1', rule: 'help', severity: 'critical', message: 'Help pressed by Hanako', finding: { message: { en: 'Help pressed by Hanako', ja: '花子さんが緊急ボタン' }, audience: 'family' }, openedAt: start });
  const lt = hub.localTwilio!;
  await createTwilioClient({ accountSid: lt.accountSid, authToken: lt.authToken, baseUrl: lt.url }).messages.create({ to: '+819012340001', from: '+815000000000', body: 'Hanako needs you at 9-9-9' });
  t.equal(lt.messages().length, 1, 'one SMS on record');

  const personal = ['山田', '花子', 'Hanako', '+819012340001', '819012340001', '9-9-9', '千代田', 'home-h1', lt.accountSid];
  const hooks = hub.statusPage!.url;
  const get = async (path: string, cookie?: string) => (await fetch(new URL(path, hooks), cookie ? { headers: { cookie } } : {})).text();
  const leaks = (body: string) => personal.filter((p) => body.includes(p));

  const family = await store.createAccount({ login: 'fam', name: 'Fam', role: 'family', language: 'ja', passwordHash: await hashPassword(password), createdAt: start });
  await store.linkAccount({ accountId: family.id, kind: 'home', targetId: 'home-h1' });
  const opSecret = newTotpSecret();
  await store.createAccount({ login: 'op', name: 'Op', role: 'operator', language: 'en', passwordHash: await hashPassword(password), totpSecret: opSecret, createdAt: start });
  const who = { web: hub.webApp!, totp: { op: opSecret }, clock: systemClock };
  const operator = await signIn(who, 'op');
  const familySession = await signIn(who, 'fam');

  for (const [label, cookie] of [['no session', undefined], ['a family session', familySession.cookie], ['a forged cookie', 'mimamori_session=forged']] as const) {
    const api = await get('/api/status', cookie);
    const page = await get('/?lang=en', cookie);
    t.same(leaks(api), [], `/api/status with ${label}: nothing personal`);
    t.same(leaks(page), [], `/ with ${label}: nothing personal`);
    t.same((JSON.parse(api) as { alerts: unknown }).alerts, { critical: 1, warning: 0 }, `/api/status with ${label}: counts only`);
    t.match(page, /Sign in to the web app as an operator/);
  }
  t.match(await get('/?lang=ja'), /運用者としてWebアプリにサインイン/, 'the note in Japanese');

  const full = JSON.parse(await get('/api/status', operator.cookie)) as { personal: boolean; homes: Array<{ name: string }>; sms: Array<{ body: string; to: string }> };
  t.equal(full.personal, true, 'an operator session sees the full status');
  t.equal(full.homes[0]?.name, '山田家');
  t.equal(full.sms[0]?.body, 'Hanako needs you at 9-9-9');
  t.match(await get('/?lang=en', operator.cookie), /Help pressed by Hanako/, 'and the full page');
});

t.test('the hub endpoints port serves only Twilio, LINE, e-mail links, health and the status; the web app is 404 there', async (t) => {
  const clock = new VirtualClock(start);
  const hub = await startHub({ config: testConfig(tempDir(t), { flows: { enabled: false } }), logger: silentLogger(), clock });
  t.teardown(() => hub.close());
  const page = hub.statusPage!;
  t.same(page.routes.filter((r) => !isHubEndpointRoute(r.method, r.url)), [], 'every route on the port is on the list');
  t.same(page.routes.map((r) => `${r.method} ${r.url}`).sort(), [
    'GET /', 'GET /ack/*', 'GET /api/status', 'GET /health', 'GET /healthz',
    'GET /static/app.js', 'GET /static/charts.js', 'GET /static/live-regions.js', 'GET /static/video.js',
    'POST /ack/*', 'POST /line/webhook', 'POST /twilio/sms', 'POST /twilio/status', 'POST /twilio/voice/gather', 'POST /twilio/voice/status',
  ], 'exactly these routes');
  // Security headers on this port too.
  const res = await fetch(`${page.url}/`);
  await res.arrayBuffer();
  const csp = res.headers.get('content-security-policy') ?? '';
  t.match(csp, /script-src 'self'(;|$)/, 'CSP: no inline script');
  t.match(csp, /frame-ancestors 'none'/);
  t.equal(res.headers.get('x-content-type-options'), 'nosniff');
  t.equal(res.headers.get('referrer-policy'), 'same-origin');
  const webRoutes = hub.webApp!.routes.filter((r) => !isHubEndpointRoute(r.method, r.url));
  t.ok(webRoutes.length > 40, `the web app has its ${webRoutes.length} routes`);
  const statuses = new Map<number, number>();
  for (const r of webRoutes) {
    const url = r.url.replace(/:[A-Za-z]+/g, 'x').replace('*', 'x');
    const res = await page.app.inject({ method: r.method as 'GET', url, payload: r.method === 'GET' ? undefined : {} });
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    if (res.statusCode !== 404) t.fail(`${r.method} ${url} answered ${res.statusCode} on the hub endpoints port`);
  }
  t.same([...statuses], [[404, webRoutes.length]], 'every web app route is 404 on the hub endpoints port');

  await t.rejects(startStatusPage({
    hub: () => undefined, notifier: () => undefined, host: '127.0.0.1', port: 0, logger: silentLogger(), clock,
    routes: async (app) => { app.get('/signin', async () => 'no'); },
  }), /may not be served on the hub endpoints port/, 'registering another route there fails at start');
});
