/**
 * Phone-first (issue 14): at 390 px the account page's signed-in devices
 * table fits the screen and its button keeps its words on one line; the
 * favicon and the web app manifest are served.
 */
import t from 'tap';
import { launchChromium, noBrowser, signInAs } from './chromium.js';
import { setup } from '../dashboards/helpers.js';

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
