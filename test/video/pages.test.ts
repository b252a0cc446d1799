/**
 * The video pages through `inject`: after-call notes (caregivers write them;
 * family see mood, eating and follow-up only with detailed consent, otherwise
 * only that a check-in happened); who may schedule (caregivers; family only
 * when the resident allows); who may change the video settings (the resident
 * or a guardian) and that those settings are what the calls obey.
 */
import t from 'tap';
import { signIn } from '../dashboards/helpers.js';
import { videoRig } from './helpers.js';

t.test('notes: family see details only with detailed consent', async (t) => {
  const { f } = await videoRig(t);
  const care = await signIn(f, 'care1');
  const post = (s: typeof care, payload: Record<string, string>) => f.web.app.inject({ method: 'POST', url: '/homes/h1/video/notes', headers: { cookie: s.cookie }, payload: { _csrf: s.csrf, ...payload } });
  t.equal((await post(care, { mood: 'cheerful, laughing', eating: 'finished lunch', followUp: 'ask about knee pain' })).statusCode, 303, 'the caregiver saves a note');
  t.equal((await post(care, { mood: '', eating: 'x' })).statusCode, 400, 'mood is required');
  const fam = await signIn(f, 'family1');
  t.equal((await post(fam, { mood: 'x', eating: 'x' })).statusCode, 403, 'family cannot write notes');
  const page = (s: typeof care) => f.web.app.inject({ method: 'GET', url: '/homes/h1/video', headers: { cookie: s.cookie, accept: 'text/html' } });
  const coarse = await page(fam);
  t.equal(coarse.statusCode, 200);
  t.notMatch(coarse.body, /knee pain|cheerful|finished lunch/, 'summary consent: no mood, eating or follow-up');
  t.match(coarse.body, /A video check-in took place/, 'only that a check-in happened');
  await f.store.setConsent({ homeId: 'h1', viewerId: 'family1', level: 'detailed', photos: false, updatedAt: f.clock.now(), updatedBy: 'resident1' });
  const detailed = await page(fam);
  t.match(detailed.body, /cheerful, laughing/, 'detailed consent: mood');
  t.match(detailed.body, /knee pain/, 'and follow-up');
  t.match((await page(await signIn(f, 'guardian1'))).body, /knee pain/, 'a guardian sees the details');
  t.match((await page(care)).body, /knee pain/, 'the caregiver sees the details');
  const other = await signIn(f, 'family2');
  t.equal((await page(other)).statusCode, 403, 'family of another home see nothing');
  t.ok((await f.store.listAccess('h1')).some((a) => a.viewerId === 'family1' && a.what === 'video check-ins'), 'reading the page is in the access log');
});

t.test('scheduling: caregivers always, family only with the resident\'s permission', async (t) => {
  const r = await videoRig(t);
  const { f } = r;
  const fam = await signIn(f, 'family1');
  const schedule = (s: typeof fam, due = '2026-11-22T10:00') => f.web.app.inject({ method: 'POST', url: '/homes/h1/video/checkins', headers: { cookie: s.cookie }, payload: { _csrf: s.csrf, due, caller: 'care1' } });
  t.equal((await schedule(fam)).statusCode, 403, 'family without permission cannot schedule');
  const resident = await signIn(f, 'resident1');
  const set = await f.web.app.inject({ method: 'POST', url: '/homes/h1/video/settings', headers: { cookie: resident.cookie }, payload: { _csrf: resident.csrf, account: 'family1', maySchedule: 'on' } });
  t.equal(set.statusCode, 303, 'the resident allows family1 to schedule');
  t.equal((await schedule(fam)).statusCode, 303, 'now family1 can');
  t.equal((await schedule(fam, '2026-11-20T10:00')).statusCode, 400, 'not in the past');
  t.equal((await schedule(fam, 'tomorrow')).statusCode, 400, 'a bad date is refused');
  const bad = await f.web.app.inject({ method: 'POST', url: '/homes/h1/video/checkins', headers: { cookie: fam.cookie }, payload: { _csrf: fam.csrf, due: '2026-11-22T11:00', caller: 'family2' } });
  t.equal(bad.statusCode, 400, 'the caller must be a caregiver of the home');
  t.equal((await f.store.listCheckins('h1')).length, 1);
  const care = await signIn(f, 'care1');
  t.equal((await schedule(care, '2026-11-23T09:30')).statusCode, 303, 'a caregiver schedules');
});

t.test('video settings: only the resident or a guardian; the calls obey them', async (t) => {
  const r = await videoRig(t);
  const { f } = r;
  const fam = await signIn(f, 'family1');
  const set = (s: typeof fam, payload: Record<string, string>) => f.web.app.inject({ method: 'POST', url: '/homes/h1/video/settings', headers: { cookie: s.cookie }, payload: { _csrf: s.csrf, ...payload } });
  t.equal((await set(fam, { account: 'family1', maySchedule: 'on' })).statusCode, 403, 'family without guardian rights cannot change settings');
  t.equal((await f.web.app.inject({ method: 'GET', url: '/homes/h1/video/settings', headers: { cookie: fam.cookie, accept: 'text/html' } })).statusCode, 403);
  const guardian = await signIn(f, 'guardian1');
  const page = await f.web.app.inject({ method: 'GET', url: '/homes/h1/video/settings', headers: { cookie: guardian.cookie, accept: 'text/html' } });
  t.match(page.body, /Name of care1/, 'the guardian sees the people linked to the home');
  t.equal((await set(guardian, { account: 'family2', trusted: 'on' })).statusCode, 400, 'only people linked to this home');
  t.equal((await set(guardian, { account: 'care1', trusted: 'on', lookIn: 'on' })).statusCode, 303, 'the guardian trusts care1');
  const p = await f.store.getVideoPermission('h1', 'care1');
  t.ok(p?.trusted && p.lookIn, 'saved');
  t.ok((await f.store.listAudit('h1')).some((a) => a.action === 'video.permission'), 'audited');
  const tablet = await r.connect('resident1');
  const care = await r.connect('care1');
  care.send({ type: 'call', home: 'h1' });
  t.equal((await tablet.next('incoming')).autoAnswerMs, 10_000, 'care1 is now auto-answered after the warning');
  // Family cannot be given look-in rights (it is for caregivers responding to an alert).
  await set(guardian, { account: 'family1', lookIn: 'on' });
  t.equal((await f.store.getVideoPermission('h1', 'family1'))?.lookIn, false);
});
