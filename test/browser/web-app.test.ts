/**
 * The web app in real Chromium (Debian `chromium` driven by playwright-core):
 * the tablet's Help button becomes a real button event for the real rule
 * engine, whose finding opens an alert; the family sees it live and
 * acknowledges it; the caregiver sees who did. Staff post news with a photo;
 * the family sees it, and the access log shows the staff member's view.
 *
 * Findings become alerts here through a small sink over the real store (the
 * hub's notifier does this in production), which also publishes to the live feed.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Browser } from 'playwright-core';
import { launchChromium, noBrowser, signInAs } from './chromium.js';
import { newId } from '../../core/ids.js';
import { createLocalLiveFeed } from '../../dashboards/index.js';
import { setup, type Fixture } from '../dashboards/helpers.js';


t.test('alerts live, acknowledgement, news with photo, access log — in Chromium', { skip: noBrowser }, async (t) => {
  const live = createLocalLiveFeed();
  // What the hub does with a tablet button: a real button event into the rule engine.
  const hub: { ref?: Pick<Fixture, 'engine' | 'clock'> } = {};
  const f = await setup({
    live,
    publishButton: async (home, press) => {
      const at = hub.ref!.clock.now();
      hub.ref!.engine.ingest({ kind: 'button', press, id: newId(at), ts: new Date(at).toISOString(), home, device: 'tablet', at });
    },
  });
  hub.ref = f;
  t.teardown(() => f.close());
  await f.store.updateAlertStatus(f.ids.alert1, 'resolved', f.clock.now());
  await f.store.setConsent({ homeId: 'h1', viewerId: 'family1', level: 'detailed', photos: true, updatedAt: f.clock.now(), updatedBy: 'resident1' });
  const sub = f.engine.findings.subscribe((finding) => {
    if (finding.state !== 'raised') return;
    void f.store.openAlert({ homeId: finding.home, rule: finding.rule, severity: finding.severity, message: finding.message.en, finding, openedAt: finding.at })
      .then(({ alert }) => live.publish({ type: 'alert.opened', homeId: alert.homeId, alertId: alert.id, at: finding.at }));
  });
  t.teardown(() => sub.unsubscribe());
  const base = await f.web.listen('127.0.0.1', 0);

  const browser: Browser = await launchChromium();
  t.teardown(() => browser.close());
  const signedIn = (login: string) => signInAs(browser, f, base, login, 10_000);

  const family = await signedIn('family1');
  await family.page.goto(`${base}/homes/h1`);
  await family.page.locator('#home-status.fine').waitFor();
  const care = await signedIn('care1');
  t.match(care.page.url(), /\/caregiver$/);
  const tablet = await signedIn('resident1');
  t.match(tablet.page.url(), /\/tablet$/);

  // The tablet's Help button → a button event → the rule engine → an alert.
  await tablet.page.locator('#help-button').click();
  await tablet.page.locator('.status.alert').waitFor();
  t.equal((await f.store.listAlerts({ homeId: 'h1', status: 'open' })).length, 1, 'the Help button opened an alert');

  // The family page shows it without a reload, and the family acknowledges it.
  const card = family.page.locator('#alerts [data-alert][data-status="open"]');
  await card.waitFor();
  t.match(await card.innerText(), /Help button pressed/);
  t.match(await family.page.locator('#home-status').innerText(), /Urgent alert: nobody is handling it yet/, 'the status box and the card agree: not handled yet');
  await card.locator('button[data-action="acknowledge"]').click();
  await family.page.locator('#alerts [data-status="acknowledged"]').waitFor();

  // The caregiver's queue updates live with who acknowledged.
  await care.page.locator('#alerts .handled-by', { hasText: 'Name of family1' }).waitFor();
  t.pass('the caregiver sees that family1 acknowledged');

  // Staff post news with a photo; the family sees it (live) with the photo.
  const staff = await signedIn('staff1');
  const photo = join(f.dir, 'upload.jpg');
  writeFileSync(photo, await sharp({ create: { width: 800, height: 600, channels: 3, background: '#4a8' } }).jpeg().withExif({ IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '35/1 0/1 0/1' } }).toBuffer());
  await staff.page.locator('#news-h1').fill('お昼にカレーを食べました');
  await staff.page.locator('#photos-h1').setInputFiles(photo);
  await staff.page.getByRole('button', { name: '投稿' }).click();
  await staff.page.locator('.notice').waitFor();
  const news = family.page.locator('#news article', { hasText: 'お昼にカレーを食べました' });
  await news.waitFor();
  const img = news.locator('img');
  await img.waitFor();
  t.ok(await img.evaluate((el) => { const i = el as unknown as { complete: boolean; naturalWidth: number }; return i.complete && i.naturalWidth > 0; }), 'the photo loads for the family');

  // The access log shows the staff member's view of the resident.
  await family.page.goto(`${base}/homes/h1/access-log`);
  const row = family.page.locator('#access-log tr', { hasText: 'Name of staff1' });
  await row.first().waitFor();
  t.match(await row.first().innerText(), /residents/);
});
