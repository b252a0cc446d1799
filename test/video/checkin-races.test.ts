/**
 * Two changes of one check-in that both read it "scheduled" (the family's
 * cancel and the deadline; a call that connects and the deadline): the real
 * web app on SQLite, the deadline on the virtual clock, one of them held at
 * its write with a gate (no sleeps) while the other runs to its end. The
 * one that wrote first decides; the other changes nothing and tells nobody.
 */
import t from 'tap';
import type { Finding } from '../../core/findings.js';
import type { CheckinStatus, VideoStore } from '../../core/store.js';
import { signIn } from '../dashboards/helpers.js';
import { gate } from '../support/out-of-order-port.js';
import { videoRig, type Rig } from './helpers.js';

const min = 60_000;

/** Holds the first write that moves a check-in to `status` at a gate, before it reaches the store. */
function holdWrite(r: Rig, status: CheckinStatus) {
  const g = gate();
  const store = r.f.store as VideoStore;
  const update = store.updateCheckin.bind(store);
  let held = false;
  store.updateCheckin = (async (...args: Parameters<VideoStore['updateCheckin']>) => {
    if (!held && args[1].status === status) { held = true; await g.wait(); }
    return update(...args);
  }) as VideoStore['updateCheckin'];
  return g;
}

/** Holds the `nth` read of check-in `id` from now on at a gate, after it has read the row. */
function holdRead(r: Rig, id: string, nth: number) {
  const g = gate();
  const store = r.f.store as VideoStore;
  const read = store.getCheckin.bind(store);
  let reads = 0;
  store.getCheckin = async (x: string) => {
    const c = await read(x);
    if (x === id && ++reads === nth) await g.wait();
    return c;
  };
  return g;
}

/** A check-in due now (its deadline 30 minutes on) and the caregiver signed in to the web app. */
async function dueNow(r: Rig) {
  const c = await r.f.web.video.checkins.schedule({ homeId: 'h1', dueAt: r.f.clock.now(), callerId: 'care1', createdBy: 'care1' });
  const care = await signIn(r.f, 'care1');
  const cancel = () => r.f.web.app.inject({ method: 'POST', url: `/checkins/${c.id}/cancel`, headers: { cookie: care.cookie }, payload: { _csrf: care.csrf } });
  const cancelAudits = async () => (await r.f.store.listAudit(c.id)).filter((a) => a.action === 'video.checkin.cancel').length;
  return { c, cancel, cancelAudits };
}

t.test('the family cancels while the deadline is marking the check-in missed: cancelled, and nobody is told it was missed', async (t) => {
  const r = await videoRig(t);
  const { c, cancel, cancelAudits } = await dueNow(r);
  const deadlineWrite = holdWrite(r, 'missed');
  r.f.clock.advanceBy(30 * min); // the deadline: it read "scheduled", nobody called
  await deadlineWrite.reached;
  const res = await cancel();
  t.equal(res.statusCode, 303);
  deadlineWrite.open();
  await r.f.web.video.checkins.settled();
  t.equal((await r.f.store.getCheckin(c.id))?.status, 'cancelled', 'the cancel wrote first: the check-in stays cancelled');
  t.equal(r.findings.length, 0, 'no missed finding (the family is not told a cancelled check-in was missed)');
  t.equal(await cancelAudits(), 1, 'the cancel is in the audit log, once');
  t.same(await r.f.store.listJobs(['checkin-reminder', 'checkin-deadline']), [], 'no timer left');
});

t.test('the deadline marks the check-in missed while the family\'s cancel is on its way: missed once, the cancel does nothing and is not audited', async (t) => {
  const r = await videoRig(t);
  const { c, cancel, cancelAudits } = await dueNow(r);
  // The request reads the check-in for its home (access), then to see who may cancel it; the cancel's own
  // read, the third, finds it "scheduled" and is held there.
  const cancelRead = holdRead(r, c.id, 3);
  const pending = cancel();
  await cancelRead.reached;
  r.f.clock.advanceBy(30 * min);
  await r.f.web.video.checkins.settled();
  t.equal(r.findings.length, 1, 'the deadline: missed, the family told');
  cancelRead.open();
  const res = await pending;
  t.equal(res.statusCode, 303);
  t.match(res.headers.location, /notice=/, 'the person who cancelled is told it was too late');
  const after = await r.f.store.getCheckin(c.id);
  t.same([after?.status, after?.missedReason], ['missed', 'not-called'], 'still missed: the late cancel did not overwrite it');
  t.equal(await cancelAudits(), 0, 'no audit line claims a cancel that did not happen');
  t.equal(r.findings.length, 1, 'told once');
});

t.test('a call connects while the deadline is marking the check-in missed: done, never missed', async (t) => {
  const r = await videoRig(t);
  const { c } = await dueNow(r);
  const deadlineWrite = holdWrite(r, 'missed');
  r.f.clock.advanceBy(30 * min); // the deadline read "scheduled" with no call in progress
  await deadlineWrite.reached;
  const { callId } = await r.checkinCallConnected(c.id);
  deadlineWrite.open();
  await r.f.web.video.checkins.settled();
  const after = await r.f.store.getCheckin(c.id);
  t.same([after?.status, after?.callId, after?.missedReason], ['done', callId, undefined], 'the call connected first: done');
  t.equal(r.findings.length, 0, 'no missed finding for a check-in that took place');
});

t.test('the check-in is marked missed but telling the family fails (the notifier down, the hub cut off): the deadline tells them when it runs again', async (t) => {
  // Before: the retried deadline found the check-in already "missed" and did nothing, so the family was never told.
  const told: Finding[] = [];
  let down = true;
  const r = await videoRig(t, { raiseFinding: (f) => { if (down) throw new Error('notifier unavailable'); told.push(f); } });
  const { c } = await dueNow(r);
  r.f.clock.advanceBy(30 * min); // the deadline: nobody called
  await r.f.web.video.checkins.settled();
  t.same([(await r.f.store.getCheckin(c.id))?.status, told.length], ['missed', 0], 'marked missed; the raise failed');
  t.equal((await r.f.store.listJobs(['checkin-deadline'])).length, 1, 'its deadline is still there (taken down only after the raise)');
  down = false;
  r.f.clock.advanceBy(60 * min); // the job's retry
  await r.f.web.video.checkins.settled();
  t.equal(told.length, 1, 'the family is told, once');
  t.match(told[0], { type: 'missedCheckIn', data: { checkinId: c.id, reason: 'not-called' } });
  t.same(await r.f.store.listJobs(['checkin-reminder', 'checkin-deadline']), [], 'then its timers are gone');
  r.f.clock.advanceBy(24 * 60 * min);
  await r.f.web.video.checkins.settled();
  t.equal(told.length, 1, 'and nothing more');
});
