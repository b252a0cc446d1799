/**
 * Every role's pages in real Chromium at 1280 px and 390 px (issue 14): sign
 * in as a person does (with the authenticator code where the role needs it),
 * visit every page of the role, run axe-core (WCAG 2 A/AA) and allow no
 * serious or critical violation, and keep a full-page screenshot of each
 * (test-artifacts/screenshots/, printed). A family member sees the status
 * box, the day's sentence and timeline, and charts drawn from the home's
 * history in a real InfluxDB, with
 * the figures in the text alternative. On every live page, whatever is typed
 * into every form survives ten live updates, and the focus stays.
 *
 * One browser for the file; one signed-in page per role, reused for its pages
 * and both widths. The hub's status page is checked in hub.test.ts.
 */
import t, { type Test } from 'tap';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, noBrowser, signInAs } from './chromium.js';
import { describeViolations, keepScreenshot, screenshotDir, seriousViolations, widths } from './audit.js';
import { createLocalLiveFeed } from '../../dashboards/index.js';
import { silentLogger } from '../../core/logger.js';
import { toLocalIso } from '../../core/time.js';
import type { Reading } from '../../core/events.js';
import { startManagedInfluxd } from '../../history/managed-influxd.js';
import { createHistoryWriter } from '../../history/history-writer.js';
import { ensureSchema } from '../../history/influx-schema.js';
import { createInfluxHistoryQuery } from '../../history/history-queries.js';
import { InfluxDB } from 'influx';
import { freshTotpCode, password, setup } from '../dashboards/helpers.js';
import { tempDir } from '../support/wait.js';

const updates = 10;
/**
 * The width axe runs at (see auditPages): the desktop one, where every element is displayed — the only
 * width-dependent rule in dashboards/static/app.css hides stacked tables' header rows below 600 px.
 */
const axeWidth = widths.find((w) => w.name === 'desktop')!.width;
const tz = 'Asia/Tokyo';
const local = (iso: string) => Date.parse(`${iso}+09:00`);

/** Three mornings and evenings, and this morning (the fixture's clock is 2026-11-21 09:00 in Tokyo). */
const history = [
  ...['2026-11-18', '2026-11-19', '2026-11-20'].flatMap((d) => [`${d}T07:00`, `${d}T07:30`, `${d}T12:00`, `${d}T18:00`]),
  '2026-11-21T07:12', '2026-11-21T07:30', '2026-11-21T08:40',
];

/** A real InfluxDB holding the home's events, read the way the hub reads it. */
async function homeHistory(t: Test) {
  const dir = tempDir(t, 'mimamori-browser-influx-');
  const influxd = await startManagedInfluxd({ dataDir: dir, logger: silentLogger() });
  t.teardown(() => influxd.close());
  const u = new URL(influxd.url);
  const influx = new InfluxDB({ host: u.hostname, port: Number(u.port), database: 'mimamori' });
  await ensureSchema(influx, 'mimamori');
  const writer = await createHistoryWriter({ url: influxd.url, database: 'mimamori', bufferDir: join(dir, 'buffer'), logger: silentLogger() });
  history.forEach((iso, i) => {
    const at = local(`${iso}:00`);
    const r: Reading = i % 2 === 0
      ? { home: 'h1', device: 'kettle', id: `k${i}`, ts: toLocalIso(at, tz), at, kind: 'kettle', state: 'on' }
      : { home: 'h1', device: 'motion-living', id: `m${i}`, ts: toLocalIso(at, tz), at, kind: 'motion', occupied: true, room: 'living' };
    writer.writeReading(r);
  });
  await writer.flush();
  await writer.close();
  return createInfluxHistoryQuery(influx);
}

const fieldsSelector = 'main textarea, main select, main input:not([type=hidden]):not([type=file]):not([type=checkbox]):not([type=radio]):not([type=submit])';

/** Every form field of the page with what it holds (keyed by id, else name and position). */
const fieldValues = (page: Page) => page.evaluate(`Array.from(document.querySelectorAll(${JSON.stringify(fieldsSelector)}))
  .map((e, i) => [e.id || (e.name + '#' + i), e.value])`) as Promise<Array<[string, string]>>;
const focusedId = (page: Page) => page.evaluate('document.activeElement ? document.activeElement.id : ""') as Promise<string>;
const refreshes = (page: Page) => page.evaluate('window.mimamoriLive.refreshes') as Promise<number>;

// Six roles × their pages × two widths in one browser, each page audited and photographed: minutes, not
// the default 180 s, on a busy machine (bounded all the same).
t.setTimeout(900_000);

t.test('every role\'s pages at 1280 and 390 px: axe, screenshots, charts with data, typing through live updates', { skip: noBrowser }, async (t) => {
  const live = createLocalLiveFeed();
  const f = await setup({ live, history: await homeHistory(t) });
  t.teardown(() => f.close());
  await f.store.setConsent({ homeId: 'h1', viewerId: 'family1', level: 'detailed', photos: true, updatedAt: f.clock.now(), updatedBy: 'guardian1' });
  await f.store.setConsent({ homeId: 'h1', viewerId: 'guardian1', level: 'detailed', photos: true, updatedAt: f.clock.now(), updatedBy: 'guardian1' });
  const base = await f.web.listen('127.0.0.1', 0);
  const browser: Browser = await launchChromium();
  t.teardown(() => browser.close());
  t.comment(`screenshots: ${screenshotDir}`);
  const publish = (type: string) => live.publish({ type, homeId: 'h1', at: f.clock.now() });

  /**
   * Visits each page at both widths: nothing wider than the screen and a screenshot at each; axe once per
   * page, at axeWidth. axe's WCAG A/AA rules judge the document — names, labels, roles, contrast, language —
   * not the viewport, and a run costs seconds on a busy machine, so a second run per page only doubled the
   * time; what a width changes (layout, overflow) is checked at both.
   */
  async function auditPages(t: Test, page: Page, role: string, paths: string[]) {
    for (const w of widths) {
      await page.setViewportSize({ width: w.width, height: w.height });
      for (const path of paths) {
        const res = await page.goto(`${base}${path}`);
        t.equal(res?.status(), 200, `${role} ${path} is served`);
        await page.waitForLoadState('load');
        if (w.width === axeWidth) {
          const found = await seriousViolations(page);
          t.same(found, [], `${role} ${path} at ${w.width} px: ${found.length} serious/critical axe violations${found.length ? `\n${describeViolations(found)}` : ''}`);
        }
        // Phone-first: nothing wider than the screen (a long hash or table would make the page scroll sideways).
        const wide = await page.evaluate('document.documentElement.scrollWidth') as number;
        t.ok(wide <= w.width, `${role} ${path} at ${w.width} px is ${wide} px wide`);
        await keepScreenshot(page, `${role}-${path.replace(/^\//, '') || 'root'}-${w.width}`);
      }
    }
  }

  /** Types into every field of a live page, then ten updates: every value and the focus stay. */
  async function typingSurvives(t: Test, page: Page, path: string, change: (i: number) => Promise<string>, region: string) {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}${path}`);
    await page.evaluate('document.querySelectorAll("main details").forEach((d) => { d.open = true; })');
    const fields = page.locator(fieldsSelector);
    const n = await fields.count();
    t.ok(n > 0, `${path} has ${n} form fields`);
    let last = '';
    for (let i = 0; i < n; i++) {
      const field = fields.nth(i);
      if (!(await field.isVisible()) || !(await field.isEditable())) continue;
      const tag = await field.evaluate((e) => { const el = e as unknown as { tagName: string; getAttribute(n: string): string | null }; return `${el.tagName.toLowerCase()}:${el.getAttribute('type') ?? ''}`; });
      if (tag.startsWith('select')) {
        const values = await field.locator('option').evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value));
        await field.selectOption(values[values.length - 1]!);
      } else if (tag === 'input:number') await field.fill(String(3 + i));
      else if (tag === 'input:date') await field.fill('2026-12-24');
      else if (tag === 'input:time') await field.fill('09:45');
      else if (tag === 'input:email') await field.fill(`typed${i}@example.jp`);
      else if (tag === 'input:tel') await field.fill(`090-1234-56${String(i % 100).padStart(2, '0')}`);
      else await field.fill(`typed ${i} 入力中`);
      if (tag === 'textarea:' || tag.startsWith('input:')) last = await field.getAttribute('id') ?? last;
    }
    // The last text field with an id gets the keyboard, as a person still typing.
    if (last) { await page.locator(`#${last}`).focus(); await page.keyboard.type('…'); }
    const before = await fieldValues(page);
    const count = await refreshes(page);
    for (let i = 1; i <= updates; i++) {
      const marker = await change(i);
      await page.locator(region, { hasText: marker }).first().waitFor();
    }
    t.ok(await refreshes(page) - count >= updates, `${path}: ${updates} live updates applied`);
    const after = new Map(await fieldValues(page));
    const lost = before.filter(([k, v]) => after.get(k) !== v);
    t.same(lost, [], `${path}: all ${before.length} typed values are intact`);
    if (last) t.equal(await focusedId(page), last, `${path}: focus stayed in #${last}`);
  }

  t.test('signing in: the sign-in and authenticator pages', async (t) => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await auditPages(t, page, 'public', ['/signin']);
    // The audit can fail: an image without a text alternative is a critical violation.
    await page.evaluate('document.querySelector("main").append(Object.assign(document.createElement("img"), { src: "/favicon.ico" }))');
    t.same((await seriousViolations(page)).map((v) => `${v.impact} ${v.id}`), ['critical image-alt'], 'axe finds an image without alt text');
    await page.reload();
    await page.getByLabel(/Login|ログインID/).fill('op');
    await page.getByLabel(/^(Password|パスワード)$/).fill(password);
    await page.locator('#signin').click();
    await page.waitForURL(/\/signin\/totp$/);
    await auditPages(t, page, 'operator', ['/signin/totp']);
    await page.locator('#code').fill(freshTotpCode(f, 'op'));
    await page.getByRole('button').last().click();
    await page.waitForURL((u) => !u.pathname.startsWith('/signin'));
    t.match(page.url(), /\/operator$/, 'the operator lands on the operator page');
    await ctx.close();
  });

  t.test('family (Japanese, guardian): every page; status, charts with data; the question box through ten updates', async (t) => {
    const { page } = await signInAs(browser, f, base, 'guardian1');
    await auditPages(t, page, 'family', ['/homes/h1', '/homes/h1/access-log', '/homes/h1/consent', '/homes/h1/video', '/homes/h1/video/settings', '/homes/h1/reports', '/account', '/account/notifications']);

    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/homes/h1`);
    t.equal(await page.locator('#home-status').innerText(), '緊急のアラート：まだ誰も対応していません', 'the status box: an urgent alert nobody handles yet');
    // The day in a sentence and its timeline, from the same InfluxDB as the charts: what is wrong first.
    t.ok(await page.locator('#day-sentence').isVisible(), 'the day\'s sentence is visible');
    t.equal(await page.locator('#day-sentence').innerText(), '緊急のアラート：まだ誰も対応していません（緊急ボタン）。今日: 7:12 ポット、7:30 起床');
    t.ok(await page.locator('#day-timeline').isVisible(), 'the day\'s timeline is visible');
    t.same(await page.locator('#day-timeline li').allInnerTexts(), ['7:12 ポットを使用（今日はじめて）', '7:30 起床（最初の動き）', '9:00 緊急ボタン — 未対応']);
    for (const [id, total] of [['rhythm-day', 5], ['rhythm-week', 15]] as const) {
      const canvas = page.locator(`#${id}[data-total]`);
      await canvas.waitFor({ state: 'attached' });
      t.equal(Number(await canvas.getAttribute('data-total')), total, `${id}: ${total} events from InfluxDB`);
      // Drawn: chart.js paints bars, so some pixels are not transparent.
      const painted = await page.locator(`#${id}`).evaluate((el) => new Promise<boolean>((resolve) => {
        const c = el as unknown as { width: number; height: number; getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
        const drawn = () => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) return true; return false; };
        const until = Date.now() + 60_000;
        const check = () => (drawn() ? resolve(true) : Date.now() > until ? resolve(false) : setTimeout(check, 50));
        check();
      }));
      t.ok(painted, `${id}: the chart is drawn on the canvas`);
      const text = await page.locator(`#${id}-text`).innerText();
      t.match(text, new RegExp(`合計${total}件`), `${id}: the text alternative gives the figures (${text})`);
    }
    await keepScreenshot(page, 'family-homes-h1-charts-390');

    await typingSurvives(t, page, '/homes/h1', async (i) => {
      await f.store.addNews({ homeId: 'h1', authorId: 'staff1', body: `family live ${i}`, createdAt: f.clock.now() });
      publish('news');
      return `family live ${i}`;
    }, '#news');
  });

  t.test('family (English): the home page', async (t) => {
    const { page } = await signInAs(browser, f, base, 'family1');
    await auditPages(t, page, 'family-en', ['/homes/h1']);
    t.equal(await page.locator('#home-status').innerText(), 'Urgent alert: nobody is handling it yet');
    t.equal(await page.locator('#day-sentence').innerText(), 'Urgent alert: nobody is handling it yet (Help button pressed). Today: kettle 7:12, up 7:30');
    t.equal(await page.locator('#day-timeline li').count(), 3, 'the day\'s timeline: kettle, up, the alert');
  });

  t.test('caregiver: every page; the queue through ten updates', async (t) => {
    const { page } = await signInAs(browser, f, base, 'care1');
    await auditPages(t, page, 'caregiver', ['/caregiver', '/homes/h1', '/homes/h1/video', '/account', '/account/notifications']);
    await page.goto(`${base}/caregiver`);
    const before = await refreshes(page);
    for (let i = 1; i <= updates; i++) {
      await f.store.openAlert({ homeId: 'h1', rule: `care-check-${i}`, severity: 'warning', message: `care check ${i}`, finding: { message: { en: `care check ${i}`, ja: `確認 ${i}` }, audience: 'family' }, openedAt: f.clock.now() });
      publish('alert.opened');
      await page.locator('#alerts', { hasText: `確認 ${i}` }).waitFor();
    }
    t.ok(await refreshes(page) - before >= updates, `${updates} live updates applied`);
    t.equal(await page.locator('#alerts [data-alert]').count(), updates + 1, 'the queue shows every alert');
  });

  t.test('day-care staff: every page; every form through ten updates', async (t) => {
    const { page } = await signInAs(browser, f, base, 'staff1');
    await f.store.addQuestion({ homeId: 'h1', askerId: 'family1', body: 'staff question 0', askedAt: f.clock.now() });
    await auditPages(t, page, 'staff', ['/staff', '/homes/h1', '/account', '/account/notifications']);
    await typingSurvives(t, page, '/staff', async (i) => {
      await f.store.addQuestion({ homeId: 'h1', askerId: 'family1', body: `staff question ${i}`, askedAt: f.clock.now() });
      publish('question.asked');
      return `staff question ${i}`;
    }, '#questions-h1');
  });

  t.test('operator: every page; every form through ten updates', async (t) => {
    const { page } = await signInAs(browser, f, base, 'op');
    await auditPages(t, page, 'operator', ['/operator', '/operator/accounts', '/operator/dead-letters', '/operator/facilities', '/operator/onboarding', '/operator/contacts', '/operator/homes/h1/contacts', '/operator/homes/h1/escalation', '/operator/fleet', '/operator/reports', '/homes/h1/reports', '/homes/h1', '/homes/h1/access-log', '/account', '/account/notifications']);
    await typingSurvives(t, page, '/operator', async (i) => {
      await f.store.audit({ at: f.clock.now(), actor: 'op', action: `roles.check${i}`, subject: 'h1' });
      publish('alert.changed');
      return `roles.check${i}`;
    }, '#audit');
  });

  t.test('tablet (the resident): every page', async (t) => {
    const { page } = await signInAs(browser, f, base, 'resident1');
    t.match(page.url(), /\/tablet$/);
    await auditPages(t, page, 'tablet', ['/tablet', '/homes/h1/video']);
  });
});
