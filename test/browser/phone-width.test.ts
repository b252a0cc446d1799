/**
 * Phone-first (issue 14): at 390 px the account page's signed-in devices
 * table fits the screen and its button keeps its words on one line; the
 * favicon and the web app manifest are served.
 */
import t from 'tap';
import { launchChromium, noBrowser, signInAs } from './chromium.js';
import { describeViolations, keepScreenshot, seriousViolations, widths } from './audit.js';
import { setup } from '../dashboards/helpers.js';
import { messages } from '../../dashboards/i18n.js';

t.test('/account at 390 px, favicon and manifest', { skip: noBrowser }, async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  const base = await f.web.listen('127.0.0.1', 0);
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  // Two sessions, one with a long user agent, as a phone and a computer would leave.
  await signInAs(browser, f, base, 'family1');
  const { ctx, page } = await signInAs(browser, f, base, 'family1');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/account`);
  t.equal(await page.locator('#sessions form').count(), 2, 'both signed-in devices are listed');
  const width = await page.evaluate('document.documentElement.scrollWidth') as number;
  t.ok(width <= 390, `the page is ${width} px wide at 390 px`);
  const button = await page.locator('#sessions button').first().boundingBox();
  t.ok(button && button.height < 60, `the sign-out button keeps its words on one line (${button?.height} px high)`);
  const icon = await ctx.request.get(`${base}/favicon.ico`);
  t.equal(icon.status(), 200);
  t.equal(icon.headers()['content-type'], 'image/x-icon');
  const manifest = await ctx.request.get(`${base}/static/manifest.webmanifest`);
  t.equal(manifest.status(), 200);
  const m = await manifest.json() as { icons: Array<{ src: string }> };
  for (const i of m.icons) t.equal((await ctx.request.get(`${base}${i.src}`)).status(), 200, `${i.src} is served`);
  t.match(await page.locator('link[rel="manifest"]').getAttribute('href'), '/static/manifest.webmanifest');
});

t.test('a cancel that came too late: the notice, in Japanese, at 390 and 1280 px', { skip: noBrowser }, async (t) => {
  const f = await setup({ video: {} });
  t.teardown(() => f.close());
  const base = await f.web.listen('127.0.0.1', 0);
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const { page } = await signInAs(browser, f, base, 'care1'); // a caregiver who reads Japanese
  for (const w of widths) {
    const c = await f.web.video.checkins.schedule({ homeId: 'h1', dueAt: f.clock.now() + 3_600_000, callerId: 'care1', createdBy: 'care1' });
    await page.setViewportSize({ width: w.width, height: w.height });
    await page.goto(`${base}/homes/h1/video`);
    const csrf = await page.locator(`form[action="/checkins/${c.id}/cancel"] input[name="_csrf"]`).getAttribute('value');
    // Settled elsewhere (another device's cancel, a call that connected) while her cancel was on its way:
    // the page's live update may already have taken the button away, so the form is sent as it was.
    t.equal(await f.web.video.checkins.cancel(c.id), true);
    const res = await page.request.post(`${base}/checkins/${c.id}/cancel`, { form: { _csrf: csrf ?? '' }, maxRedirects: 0 });
    t.equal(res.status(), 303);
    await page.goto(new URL(res.headers()['location']!, base).href);
    const notice = page.locator('p.notice');
    t.equal((await notice.textContent())?.trim(), messages.video_notCancelled.ja, `${w.width} px: the notice says it was not cancelled, in her language`);
    t.ok(await notice.isVisible());
    const width = await page.evaluate('document.documentElement.scrollWidth') as number;
    t.ok(width <= w.width, `${w.width} px: the page is ${width} px wide`);
    const found = await seriousViolations(page);
    t.same(found, [], describeViolations(found));
    await keepScreenshot(page, `caregiver-video-notCancelled-${w.width}`);
  }
});
