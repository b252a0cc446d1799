/**
 * The monthly report opens in real Chromium (issue 14): signed in as her
 * guardian, the kept PDF is opened from the web app in Chromium's own PDF
 * viewer, which reports the page count once the document has loaded, and the
 * rendered first page shows the charts — the chart blue covers thousands of
 * pixels in a month with activity and only the headings' and legends' few in
 * a month without any (same viewer, same size). A screenshot of each is kept
 * (test-artifacts/screenshots/).
 */
import t from 'tap';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import { addDays, monthDates } from '../../core/time.js';
import { createInfluxHistoryQuery } from '../../history/history-queries.js';
import { launchChromium, noBrowser, signInAs } from './chromium.js';
import { keepScreenshot } from './audit.js';
import { setup, signIn } from '../dashboards/helpers.js';
import { ordinaryDay, tokyo } from '../support/ordinary-day.js';
import { realHistory } from '../support/real-history.js';
import { tempDir, until } from '../support/wait.js';

/** The charts' blue (#0b4f8a: the rhythm bars, the daily line, the trend bars; also the headings' text). */
const chartBlue = [0x0b, 0x4f, 0x8a] as const;

/** Pixels of the screenshot within a small distance of the chart blue. */
async function bluePixels(png: Buffer): Promise<number> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let n = 0;
  for (let i = 0; i < data.length; i += info.channels) {
    if (Math.abs(data[i]! - chartBlue[0]) <= 12 && Math.abs(data[i + 1]! - chartBlue[1]) <= 12 && Math.abs(data[i + 2]! - chartBlue[2]) <= 12) n++;
  }
  return n;
}

/** Opens a PDF URL in the page and waits for Chromium's viewer to load it: its page count, and the chart-blue pixels once rendering settles. */
async function openInViewer(page: Page, url: string, name: string): Promise<{ pages: number; blue: number }> {
  await page.goto(url);
  await until(() => page.frames().some((f) => f.url().startsWith('chrome-extension://')), 20_000, 'Chromium\'s PDF viewer');
  const viewer = page.frames().find((f) => f.url().startsWith('chrome-extension://'))!;
  const selector = viewer.locator('viewer-page-selector');
  let pages = 0;
  await until(async () => { pages = await selector.evaluate((e) => (e as unknown as { docLength: number }).docLength); return pages > 0; }, 20_000, 'the PDF to load in the viewer');
  // Rendering is progressive: take screenshots until two in a row agree.
  let blue = -1;
  await until(async () => { const now = await bluePixels(await page.screenshot()); const same = now === blue; blue = now; return same; }, 20_000, 'the rendering to settle');
  await keepScreenshot(page, name);
  return { pages, blue };
}

t.test('the monthly report opens in Chromium\'s PDF viewer with its three pages, and the charts are drawn', { skip: noBrowser }, async (t) => {
  const dir = tempDir(t, 'mimamori-browser-report-');
  const { influx, writer } = await realHistory(t, dir);
  for (const d of [...Array.from({ length: 7 }, (_, i) => addDays('2026-10-25', i)), ...monthDates('2026-11')]) for (const r of ordinaryDay(d)) writer.writeReading(r);
  await writer.flush();
  const f = await setup({ history: createInfluxHistoryQuery(influx) });
  t.teardown(() => f.close());
  for (const d of ['2026-11-03', '2026-11-10', '2026-11-17', '2026-11-24']) await f.store.setAttendance({ homeId: 'h1', date: d, status: 'present', markedBy: 'staff1', at: tokyo(d, '09:00') });
  f.clock.advanceTo(tokyo('2026-12-02', '09:00'));
  const s = await signIn(f, 'guardian1');
  const make = async (month: string) => {
    const res = await f.web.app.inject({ method: 'POST', url: '/homes/h1/reports', headers: { cookie: s.cookie, accept: 'application/json' }, payload: { _csrf: s.csrf, month, language: 'ja' } });
    return res.json<{ url: string; pages: number }>();
  };
  const november = await make('2026-11');
  const september = await make('2026-09'); // nothing was recorded: the charts have no bars or line
  t.equal(november.pages, 3, 'the report says three pages');

  const base = await f.web.listen('127.0.0.1', 0);
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const { page } = await signInAs(browser, f, base, 'guardian1', 30_000);
  await page.setViewportSize({ width: 1280, height: 1800 }); // page 1 whole at 100 %

  const withData = await openInViewer(page, `${base}${november.url}`, 'family-monthly-report-2026-11');
  t.equal(withData.pages, 3, 'Chromium opens it: three pages');
  const empty = await openInViewer(page, `${base}${september.url}`, 'family-monthly-report-2026-09');
  t.equal(empty.pages, 3, 'a month without activity has the same three pages');
  t.comment(`chart blue: ${withData.blue} px with a month of activity, ${empty.blue} px without`);
  t.ok(withData.blue - empty.blue > 3000, `the charts are drawn: ${withData.blue - empty.blue} more chart-blue pixels than a month without activity`);
});
