/**
 * Video check-ins in real Chromium (Debian `chromium`, playwright-core, fake
 * camera and microphone): a caregiver's browser calls the home's tablet page
 * through the hub's signalling WebSocket; the tablet auto-answers the trusted
 * caregiver after its (shortened) warning; both sides are connected and decode
 * video frames (getStats). The second test forces every packet through a local
 * coturn on loopback (iceTransportPolicy 'relay', TURN REST-API credentials)
 * and checks the selected candidate pair is a relay one. When the caregiver
 * hangs up, both browsers report call quality, which lands in `writeCallQuality`.
 */
import t, { type Test } from 'tap';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, noBrowser, signInAs } from './chromium.js';
import type { CallQuality, VideoOptions } from '../../dashboards/index.js';
import { setup, type Fixture } from '../dashboards/helpers.js';
import { until } from '../support/wait.js';
import { hasTurnserver, startCoturn } from '../video/coturn.js';


interface Stats { connected: boolean; framesDecoded: number; relay: boolean; rttMs?: number; packetLossPct: number }

let shared: Promise<Browser> | undefined;
/** One Chromium (fake camera and microphone) for the file, launched by the first test that needs it; each test signs in in contexts of its own. */
const launch = () => (shared ??= launchChromium(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--autoplay-policy=no-user-gesture-required']));
t.teardown(async () => { if (shared) await (await shared).close(); });
/** A signed-in page in a context closed when `t` ends (its hub is gone then). */
async function signedIn(t: Test, browser: Browser, f: Fixture, base: string, login: string) {
  const s = await signInAs(browser, f, base, login);
  t.teardown(() => s.ctx.close());
  return s;
}

/** What the page script exposes (dashboards/client/video.ts); predicates run in the page as functions (a CSP without 'unsafe-eval' refuses string predicates). */
interface VideoWindow { mimamoriVideo?: { state: string; incoming: unknown[]; calls: Array<{ reason: string }> } }
const stats = (page: Page) => page.evaluate('window.mimamoriVideo.stats()') as Promise<Stats | null>;

/** Caregiver calls, the trusted call is auto-answered, both sides decode video; then hang up and collect quality. */
async function callAndCheck(t: Test, video: VideoOptions, expectRelay: boolean): Promise<void> {
  const qualities: CallQuality[] = [];
  const f = await setup({ video: { autoAnswerWarningMs: 300, ...video, writeCallQuality: (q) => { qualities.push(q); } } });
  t.teardown(() => f.close());
  await f.store.setVideoPermission({ homeId: 'h1', accountId: 'care1', trusted: true, maySchedule: false, lookIn: false, updatedAt: f.clock.now(), updatedBy: 'resident1' });
  const base = await f.web.listen('127.0.0.1', 0);
  const browser = await launch();

  const tablet = await signedIn(t, browser, f, base, 'resident1');
  t.match(tablet.page.url(), /\/tablet$/);
  await tablet.page.waitForFunction(() => (globalThis as unknown as VideoWindow).mimamoriVideo?.state === 'ready');
  const care = await signedIn(t, browser, f, base, 'care1');
  await care.page.goto(`${base}/homes/h1/video`);
  await care.page.waitForFunction(() => (globalThis as unknown as VideoWindow).mimamoriVideo?.state === 'ready');

  await care.page.locator('#call-button').click();
  // The tablet shows the warning with the big "not now" button and a countdown, then answers by itself.
  await tablet.page.waitForFunction(() => ((globalThis as unknown as VideoWindow).mimamoriVideo?.incoming.length ?? 0) > 0);
  const shown = await tablet.page.evaluate('window.mimamoriVideo.incoming[0]') as { from: string; autoAnswerMs: number | null; notNowShown: boolean; countdownShown: boolean; answerShown: boolean };
  t.match(shown, { from: 'Name of care1', autoAnswerMs: 300, notNowShown: true, countdownShown: true, answerShown: false }, 'the tablet warned with who calls, a countdown and "not now"');

  for (const [who, page] of [['caregiver', care.page], ['tablet', tablet.page]] as const) {
    let last: Stats | null = null;
    // The nominated candidate pair (which says "relay") can be reported a moment after the first frame.
    await until(async () => { last = await stats(page); return !!last && last.connected && last.framesDecoded > 0 && (!expectRelay || last.relay); }, 30_000, `${who} to decode video${expectRelay ? ' through the relay' : ''}`);
    const s = last as unknown as Stats;
    t.ok(s.connected, `${who}: peer connection connected`);
    t.ok(s.framesDecoded > 0, `${who}: ${s.framesDecoded} video frames decoded`);
    if (expectRelay) t.ok(s.relay, `${who}: media goes through the TURN relay`);
  }
  const call = (await f.store.listCalls('h1'))[0];
  t.equal(call?.answeredBy, 'auto', 'the trusted call was auto-answered');

  await care.page.locator('#hangup-button').click();
  await until(() => qualities.length >= 2, 15_000, 'both browsers to report call quality');
  t.same(new Set(qualities.map((q) => q.role)), new Set(['caregiver', 'resident']), 'quality from both sides');
  for (const q of qualities) {
    t.equal(q.homeId, 'h1');
    t.ok(q.durationMs > 0, `${q.role}: duration ${q.durationMs} ms`);
    t.ok((q.framesDecoded ?? 0) > 0, `${q.role}: frames decoded reported`);
    t.type(q.packetLossPct, 'number', `${q.role}: packet loss reported`);
  }
  t.equal((await f.store.getCall(call!.id))?.outcome, 'connected', 'the call record says connected');
}

t.test('caregiver ↔ tablet video call through the hub\'s signalling, frames decoded on both sides', { skip: noBrowser }, async (t) => {
  await callAndCheck(t, {}, false);
});

t.test('the same call forced through a local coturn (iceTransportPolicy relay)', { skip: noBrowser || (hasTurnserver() ? false : 'no coturn (npm test installs Debian coturn as root)') }, async (t) => {
  const turn = await startCoturn(t);
  await callAndCheck(t, { ice: { turn: { urls: turn.urls, secret: turn.secret } }, iceTransportPolicy: 'relay' }, true);
});

t.test('an untrusted caller rings with Answer and Not now; "not now" tells the caregiver', { skip: noBrowser }, async (t) => {
  const f = await setup({ video: { autoAnswerWarningMs: 300 } });
  t.teardown(() => f.close());
  const base = await f.web.listen('127.0.0.1', 0);
  const browser = await launch();
  const tablet = await signedIn(t, browser, f, base, 'resident1');
  await tablet.page.waitForFunction(() => (globalThis as unknown as VideoWindow).mimamoriVideo?.state === 'ready');
  const care = await signedIn(t, browser, f, base, 'care1');
  await care.page.goto(`${base}/homes/h1/video`);
  await care.page.waitForFunction(() => (globalThis as unknown as VideoWindow).mimamoriVideo?.state === 'ready');
  await care.page.locator('#call-button').click();
  await tablet.page.locator('#answer-button').waitFor({ state: 'visible' });
  t.ok(await tablet.page.locator('#not-now-button').isVisible(), 'the big "not now" button is there');
  t.notOk(await tablet.page.locator('#incoming-countdown').isVisible(), 'no auto-answer countdown for an untrusted caller');
  await tablet.page.locator('#not-now-button').click();
  await care.page.waitForFunction(() => (globalThis as unknown as VideoWindow).mimamoriVideo?.calls.some((c) => c.reason === 'declined') ?? false);
  t.match(await care.page.locator('#video-status').innerText(), /Declined|出られない/, 'the caregiver sees the decline');
  t.ok(await tablet.page.locator('#incoming').isHidden(), 'the tablet is calm again');
  t.equal((await f.store.listCalls('h1'))[0]?.outcome, 'declined');
});
