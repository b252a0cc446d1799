/**
 * The check-in schedule in virtual time: a caregiver schedules through the
 * real route (local time in the home's zone); the reminder reaches the
 * caregiver who will call; a check-in nobody called becomes a finding that the
 * real notifier escalates (alert opened, SMS through the local Twilio server
 * to the family); a check-in whose call connected does not; scheduled
 * check-ins survive a restart.
 */
import t from 'tap';
import { silentLogger } from '../../core/logger.js';
import { createCheckins } from '../../dashboards/checkins.js';
import { remindCaregivers, tellCaregiversCancelled } from '../../hub/checkin-reminders.js';
import { createSmsChannel } from '../../notifier/channels/sms.js';
import { createNotifier, type Notifier } from '../../notifier/index.js';
import { startLocalTwilio } from '../../notifier/local-twilio-server.js';
import { createTwilioClient } from '../../notifier/twilio-client.js';
import { signIn } from '../dashboards/helpers.js';
import { until } from '../support/wait.js';
import { videoRig } from './helpers.js';

const min = 60_000;

t.test('reminder, then a check-in nobody called is missed and escalated by the notifier', async (t) => {
  const hub: { notifier?: Notifier } = {};
  const escalated: string[] = [];
  const r = await videoRig(t, { raiseFinding: async (f) => { escalated.push(f.rule); await hub.notifier!.handleFinding(f); } });
  const { f } = r;
  const local = await startLocalTwilio({ logger: silentLogger(), clock: f.clock });
  t.teardown(() => local.close());
  const client = createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url });
  const phone = '+819011112222';
  await f.store.addContact({ homeId: 'h1', name: '山田太郎', role: 'family', phone, language: 'ja', priority: 1 });
  await f.store.setEscalationPolicy('h1', { tiers: [{ name: 'family', recipients: [{ role: 'family' }], channels: ['sms'], waitMinutes: 10 }], entry: { info: 'family', warning: 'family', critical: 'family' }, renotifyMinutes: 30, renotifyMax: 1, graceMinutes: 10 }, f.clock.now());
  hub.notifier = await createNotifier({ store: f.store, logger: silentLogger(), clock: f.clock, sms: createSmsChannel({ client, from: '+815000000000', logger: silentLogger() }) });
  t.teardown(() => hub.notifier!.close());

  // 09:00 now; the caregiver schedules a check-in for 10:30 Tokyo time.
  const care = await signIn(f, 'care1');
  const res = await f.web.app.inject({ method: 'POST', url: '/homes/h1/video/checkins', headers: { cookie: care.cookie }, payload: { _csrf: care.csrf, due: '2026-11-21T10:30', caller: 'care1' } });
  t.equal(res.statusCode, 303, 'scheduled');
  const [checkin] = await f.store.listCheckins('h1');
  t.equal(checkin?.dueAt, Date.parse('2026-11-21T10:30:00+09:00'), 'the time is read in the home\'s zone');

  const tablet = await signIn(f, 'resident1');
  const page = await f.web.app.inject({ method: 'GET', url: '/tablet', headers: { cookie: tablet.cookie, accept: 'text/html' } });
  t.match(page.body, /id="next-checkin"[^]*2026-11-21 10:30/, 'the tablet shows the next check-in');

  f.clock.advanceTo(Date.parse('2026-11-21T10:14:59+09:00'));
  await f.web.video.checkins.settled();
  t.equal(r.reminders.length, 0, 'no reminder before the lead time');
  f.clock.advanceBy(1000);
  await f.web.video.checkins.settled();
  t.same(r.reminders, [{ checkinId: checkin!.id, homeId: 'h1', callerId: 'care1', dueAt: checkin!.dueAt }], 'the caregiver who will call is reminded 15 minutes before');

  f.clock.advanceTo(Date.parse('2026-11-21T10:59:59+09:00'));
  await f.web.video.checkins.settled();
  t.equal(escalated.length, 0, 'not missed before the grace period ends');
  f.clock.advanceBy(1000);
  await f.web.video.checkins.settled();
  await hub.notifier.idle();
  t.same(escalated, ['video-checkin'], 'nobody called: missed');
  t.equal((await f.store.getCheckin(checkin!.id))?.missedReason, 'not-called');
  const alerts = await f.store.listAlerts({ homeId: 'h1', status: 'open' });
  t.ok(alerts.some((a) => a.rule === 'video-checkin' && a.severity === 'warning'), 'the notifier opened an alert');
  await until(() => local.messages().some((m) => m.to === phone), 5000, 'the family SMS');
  t.match(local.messages().find((m) => m.to === phone)?.body ?? '', /ビデオ/, 'the family is told, in Japanese');
});

t.test('a check-in whose call connected is done and never missed', async (t) => {
  const r = await videoRig(t);
  const { f } = r;
  const checkin = await f.web.video.checkins.schedule({ homeId: 'h1', dueAt: f.clock.now() + 10 * min, callerId: 'care1', createdBy: 'care1' });
  await r.checkinCallConnected(checkin.id);
  t.equal((await f.store.getCheckin(checkin.id))?.status, 'done');
  f.clock.advanceBy(24 * 60 * min);
  await f.web.video.checkins.settled();
  t.equal(r.findings.length, 0, 'no finding');
  t.equal(r.reminders.length, 0, 'no reminder for a check-in already done');
});

t.test('the deadline waits for a call in progress; a cancelled check-in is never missed', async (t) => {
  const r = await videoRig(t, { ringTimeoutMs: 5 * min });
  const { f } = r;
  const busy = await f.web.video.checkins.schedule({ homeId: 'h1', dueAt: f.clock.now(), callerId: 'care1', createdBy: 'care1' });
  const cancelled = await f.web.video.checkins.schedule({ homeId: 'h1', dueAt: f.clock.now(), callerId: 'care1', createdBy: 'care1' });
  const care = await r.connect('care1');
  f.clock.advanceBy(29 * min);
  care.send({ type: 'call', home: 'h1', checkin: busy.id });
  await care.next('ringing');
  const fam = await signIn(f, 'care1');
  const res = await f.web.app.inject({ method: 'POST', url: `/checkins/${cancelled.id}/cancel`, headers: { cookie: fam.cookie }, payload: { _csrf: fam.csrf } });
  t.equal(res.statusCode, 303);
  f.clock.advanceBy(2 * min);
  await f.web.video.checkins.settled();
  t.equal(r.findings.length, 0, 'ringing at the deadline: not missed yet');
  f.clock.advanceBy(3 * min);
  await until(() => r.findings.length === 1, 5000, 'the missed finding');
  t.equal(r.findings[0]?.data?.checkinId, busy.id, 'the ring ran out: missed (no answer)');
  t.equal((await f.store.getCheckin(busy.id))?.missedReason, 'no-answer');
  t.equal((await f.store.getCheckin(cancelled.id))?.status, 'cancelled');
});

t.test('scheduled check-ins are re-armed after a restart', async (t) => {
  const r = await videoRig(t);
  const { f } = r;
  const c = await f.web.video.checkins.schedule({ homeId: 'h1', dueAt: f.clock.now() + 60 * min, callerId: 'care1', createdBy: 'care1' });
  const gone = await f.web.video.checkins.schedule({ homeId: 'h1', dueAt: f.clock.now() + 70 * min, callerId: 'care1', createdBy: 'care1' });
  await f.web.video.checkins.cancel(gone.id);
  t.same((await f.store.listJobs(['checkin-reminder', 'checkin-deadline'])).map((j) => [j.key, j.dueAt - c.dueAt]),
    [[`checkin-reminder:${c.id}`, -15 * min], [`checkin-deadline:${c.id}`, 30 * min]], 'the reminder and deadline are durable jobs; a cancelled check-in has none');
  await f.web.video.checkins.close(); // the old hub stops
  const raised: string[] = [];
  const again = createCheckins({ store: f.store, wallClock: f.clock, clock: f.clock, logger: silentLogger(), raiseFinding: (x) => { raised.push(String(x.data?.checkinId)); } });
  await again.start();
  t.teardown(() => again.close());
  f.clock.advanceBy(91 * min);
  await again.settled();
  t.same(raised, [c.id], 'the restarted schedule decides the check-in');
  t.equal(r.findings.length, 0, 'the stopped one does nothing');
});

t.test('a check-in cancelled after its reminder went out: the caregiver reminded by SMS is told it is cancelled, once (the hub\'s wiring on the real route)', async (t) => {
  const holder: { deps?: Parameters<typeof remindCaregivers>[0] } = {};
  const r = await videoRig(t, {
    remindCaregiver: (x) => remindCaregivers(holder.deps!, x),
    tellCancelled: (x) => tellCaregiversCancelled(holder.deps!, x),
  });
  const { f } = r;
  const local = await startLocalTwilio({ logger: silentLogger(), clock: f.clock });
  t.teardown(() => local.close());
  const client = createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url });
  holder.deps = { store: f.store, sms: createSmsChannel({ client, from: '+815000000000', logger: silentLogger() }), wallClock: f.clock, logger: silentLogger() };
  const phone = '+819011113333';
  await f.store.addContact({ homeId: 'h1', name: '木村', role: 'caregiver', phone, language: 'ja', priority: 1 });

  const c = await f.web.video.checkins.schedule({ homeId: 'h1', dueAt: f.clock.now() + 60 * min, callerId: 'care1', createdBy: 'care1' });
  f.clock.advanceBy(45 * min);
  await f.web.video.checkins.settled();
  t.equal(local.messages().filter((m) => m.to === phone).length, 1, 'reminded 15 minutes before');

  const care = await signIn(f, 'care1');
  const cancel = () => f.web.app.inject({ method: 'POST', url: `/checkins/${c.id}/cancel`, headers: { cookie: care.cookie }, payload: { _csrf: care.csrf } });
  t.equal((await cancel()).statusCode, 303);
  const sent = local.messages().filter((m) => m.to === phone);
  t.equal(sent.length, 2, 'the cancel is told to the caregiver who was reminded');
  t.match(sent[1]?.body, /ビデオ見守りは取り消されました/);
  t.equal((await cancel()).statusCode, 303, 'cancelled again: the page says it was not');
  t.equal(local.messages().filter((m) => m.to === phone).length, 2, 'nothing sent twice');
});
