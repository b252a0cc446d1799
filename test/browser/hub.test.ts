/**
 * The web app inside the real hub, in Chromium: the tablet's Help button goes
 * through the rule engine and the notifier (escalation starts, the family is
 * called), the family sees the alert live and acknowledges it through the
 * notifier's responder (escalation stops), and the caregiver sees who did.
 * Then the hub's status page, public and as a signed-in operator, at 1280 and
 * 390 px: no serious or critical axe violation, no meta-refresh, a screenshot
 * of each (test-artifacts/screenshots/).
 */
import t from 'tap';
import { systemClock, VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { hashPassword } from '../../dashboards/passwords.js';
import { newTotpSecret } from '../../dashboards/totp.js';
import { startHub } from '../../cli/hub.js';
import { testConfig, tempDir, until } from '../hub/helpers.js';
import { password, type Fixture } from '../dashboards/helpers.js';
import { launchChromium, noBrowser, signInAs } from './chromium.js';
import { hangGuardMs } from '../support/wait.js';
import { describeViolations, keepScreenshot, screenshotDir, seriousViolations, widths } from './audit.js';

t.test('tablet Help → real notifier → family acknowledges live → caregiver sees who', { skip: noBrowser }, async (t) => {
  const clock = new VirtualClock(Date.parse('2026-11-21T10:00:00+09:00'));
  const hub = await startHub({ config: testConfig(tempDir(t), { flows: { enabled: false } }), logger: silentLogger(), clock });
  t.teardown(() => hub.close());
  const { store } = hub;
  await store.createHome({ id: 'h1', name: '山田家', timezone: 'Asia/Tokyo' });
  await store.addResident({ homeId: 'h1', name: '山田 花子', language: 'ja' });
  await store.addContact({ homeId: 'h1', name: '山田 太郎', role: 'family', phone: '+819012340001', language: 'ja', priority: 1 });
  await store.addContact({ homeId: 'h1', name: 'ケアマネ 木村', role: 'caregiver', phone: '+819012340009', language: 'ja', priority: 1 });
  const hash = await hashPassword(password);
  const totp: Record<string, string> = { care1: newTotpSecret(), op: newTotpSecret() };
  const account = async (login: string, role: 'family' | 'caregiver' | 'resident', kind: 'home' | 'guardian') => {
    const a = await store.createAccount({ login, name: `Name of ${login}`, role, language: 'en', passwordHash: hash, createdAt: clock.now(), ...(totp[login] ? { totpSecret: totp[login] } : {}) });
    await store.linkAccount({ accountId: a.id, kind, targetId: 'h1' });
    return a;
  };
  const family = await account('family1', 'family', 'guardian');
  await account('care1', 'caregiver', 'home');
  await account('resident1', 'resident', 'home');
  await store.setConsent({ homeId: 'h1', viewerId: family.id, level: 'detailed', photos: true, updatedAt: clock.now(), updatedBy: family.id });
  await store.createAccount({ login: 'op', name: 'Name of op', role: 'operator', language: 'ja', passwordHash: hash, createdAt: clock.now(), totpSecret: totp.op! });

  const browser = await launchChromium();
  t.teardown(() => browser.close());
  // Sign-in and TOTP count in wall-clock time, whatever the hub's (virtual) clock says.
  const who = { totp, clock: systemClock } as unknown as Fixture;
  const base = hub.webUrl!;
  const fam = await signInAs(browser, who, base, 'family1');
  await fam.page.goto(`${base}/homes/h1`);
  const care = await signInAs(browser, who, base, 'care1');
  const tablet = await signInAs(browser, who, base, 'resident1');
  t.match(tablet.page.url(), /\/tablet$/);

  await tablet.page.locator('#help-button').click();
  await until(async () => (await store.listAlerts({ homeId: 'h1' })).length === 1, 10_000, 'the alert');
  const [alert] = await store.listAlerts({ homeId: 'h1' });
  await until(() => hub.localTwilio!.calls().some((c) => c.to === '+819012340001'), 10_000, 'the family to be called');
  t.pass('escalation started: the family member is being called');

  const card = fam.page.locator(`#alerts [data-alert="${alert!.id}"][data-status="open"]`);
  await card.waitFor();
  t.match(await card.innerText(), /Help button pressed/, 'the family sees the alert live');
  await card.locator('button[data-action="acknowledge"]').click();
  await fam.page.locator(`#alerts [data-alert="${alert!.id}"][data-status="acknowledged"]`).waitFor();
  t.equal((await store.getAlert(alert!.id))?.status, 'acknowledged');
  t.ok((await store.listAudit(alert!.id)).some((a) => a.action.includes('ack')), 'the notifier recorded the acknowledgement');

  await care.page.locator('#alerts .handled-by', { hasText: 'Name of family1' }).waitFor();
  t.pass('the caregiver sees who acknowledged');
  // Acknowledged: an hour later nobody beyond the family tier has been called or texted.
  clock.advanceBy(60 * 60_000);
  await hub.notifier.idle();
  t.notOk(hub.localTwilio!.calls().some((c) => c.to === '+819012340009') || hub.localTwilio!.messages().some((m) => m.to === '+819012340009'), 'the caregiver tier was never paged');

  // The hub's status page: counts only without a session, everything for a signed-in operator.
  t.comment(`screenshots: ${screenshotDir}`);
  const anonymous = await browser.newPage();
  const op = await signInAs(browser, who, base, 'op');
  for (const [viewer, page] of [['public', anonymous], ['operator', op.page]] as const) {
    for (const w of widths) {
      await page.setViewportSize({ width: w.width, height: w.height });
      const res = await page.goto(hub.statusPage!.url);
      t.equal(res?.status(), 200);
      t.equal(await page.locator('meta[http-equiv="refresh"]').count(), 0, `${viewer} status page: no meta-refresh`);
      const found = await seriousViolations(page);
      t.same(found, [], `${viewer} status page at ${w.width} px: ${found.length} serious/critical axe violations${found.length ? `\n${describeViolations(found)}` : ''}`);
      const wide = await page.evaluate('document.documentElement.scrollWidth') as number;
      t.ok(wide <= w.width, `${viewer} status page at ${w.width} px is ${wide} px wide`);
      await keepScreenshot(page, `status-${viewer}-${w.width}`);
    }
    // It refreshes in place by polling its live region.
    const before = await page.evaluate('window.mimamoriLive.refreshes') as number;
    // A function, not a string: the page's CSP (no 'unsafe-eval') refuses evaluating strings.
    await page.waitForFunction((n) => (globalThis as unknown as { mimamoriLive: { refreshes: number } }).mimamoriLive.refreshes > n, before, { timeout: hangGuardMs });
  }
  t.match(await op.page.locator('#status-live').innerText(), /山田家/, 'the operator sees the homes');
  t.notMatch(await anonymous.locator('body').innerText(), /山田/, 'the public page shows no names');
});
