/**
 * The signalling WebSocket and the call rules, with real sockets on loopback:
 * who may connect, who may call, answer, join and relay; auto-answer only for
 * trusted callers; "not now"; the ring timeout on the virtual clock; the
 * emergency look-in only with consent and only for a critical unacknowledged
 * alert, written to the access log; at most four people in a call.
 */
import t from 'tap';
import { VirtualWallClock } from '../../core/clock.js';
import { hashPassword } from '../../dashboards/passwords.js';
import { newTotpSecret } from '../../dashboards/totp.js';
import { password } from '../dashboards/helpers.js';
import { until } from '../support/wait.js';
import { permit, videoRig } from './helpers.js';

t.test('unauthenticated, cross-site, half-signed-in and wrong-role peers are refused', async (t) => {
  const r = await videoRig(t);
  t.equal(await r.refusal({ origin: r.base }), 401, 'no session cookie: 401');
  t.equal(await r.refusal({ origin: r.base, cookie: 'mimamori_session=forged' }), 401, 'unknown session: 401');
  const care = await r.connect('care1');
  await care.close();
  const cookie = r.sessions.care1!.cookie;
  t.equal(await r.refusal({ origin: 'http://evil.example', cookie }), 403, 'another site\'s page riding the cookie: 403');
  t.equal(await r.refusal({ cookie }), 403, 'no Origin at all: 403');
  t.equal(await r.refusal({ origin: r.base, cookie }), 0, 'the same session from our own page is accepted');
  // Password done, second factor not: no signalling.
  const form = await r.f.web.app.inject({ method: 'GET', url: '/signin' });
  const pre = /mimamori_pre=[^;]+/.exec(String(form.headers['set-cookie']))![0];
  const token = /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!;
  const half = await r.f.web.app.inject({ method: 'POST', url: '/signin', headers: { cookie: pre }, payload: { login: 'care1', password, _csrf: token } });
  const halfCookie = /mimamori_session=[^;]+/.exec(String(half.headers['set-cookie']))![0];
  t.equal(await r.refusal({ origin: r.base, cookie: halfCookie }), 401, 'before the second factor: 401');
  await r.connect('staff1').then(() => t.fail('staff connected'), () => t.pass('staff (no video role) refused'));
  t.equal(await r.refusal({ origin: r.base, cookie: r.sessions.staff1!.cookie }), 403, 'staff: 403');
  // A signed-out session is refused at once.
  // (care1 has two sessions made in one virtual millisecond — the signed-in one and the half-signed-in one: take the signed-in one.)
  await r.f.store.deleteSession((await r.f.store.listSessions('care1')).find((x) => x.mfaOk)!.id);
  t.equal(await r.refusal({ origin: r.base, cookie }), 401, 'after sign-out: 401');
});

t.test('unauthorised requests over an accepted socket are refused and change nothing', async (t) => {
  const r = await videoRig(t);
  const tablet = await r.connect('resident1');
  const care = await r.connect('care1');
  const fam = await r.connect('family1');
  const fam2 = await r.connect('family2');
  fam.send({ type: 'call', home: 'h1' });
  t.equal((await fam.next('error')).code, 'forbidden', 'family cannot start a call');
  care.send({ type: 'call', home: 'h2' });
  t.equal((await care.next('error')).code, 'forbidden', 'a caregiver cannot call a home they are not assigned to');
  care.send({ type: 'call', home: 'h1' });
  const { callId } = await care.next('ringing');
  fam2.send({ type: 'answer', callId, auto: false });
  t.equal((await fam2.next('error')).code, 'forbidden', 'only the home\'s tablet answers');
  tablet.send({ type: 'answer', callId, auto: false });
  await tablet.next('joined');
  await care.next('joined');
  fam2.send({ type: 'join', callId });
  t.equal((await fam2.next('error')).code, 'forbidden', 'family of another home cannot join');
  fam.send({ type: 'join', callId });
  t.equal((await fam.next('error')).code, 'forbidden', 'family with summary consent cannot join');
  fam2.send({ type: 'signal', callId, to: tablet.welcome.peerId, data: { candidate: null } });
  t.equal((await fam2.next('error')).code, 'forbidden', 'a non-participant cannot send signalling into the call');
  care.send({ type: 'signal', callId, to: tablet.welcome.peerId, data: { description: { type: 'offer', sdp: 'v=0' } } });
  const relayed = await tablet.next('signal');
  t.equal(relayed.from, care.welcome.peerId, 'participants signal each other');
  care.send({ type: 'nonsense' });
  t.equal((await care.next('error')).code, 'invalid', 'unknown messages are refused with a reason');
  t.notOk(fam2.received.some((m) => m.type === 'incoming' || m.type === 'signal'), 'nothing of h1 reached family of h2');
});

t.test('auto-answer only for trusted callers; others ring until answered', async (t) => {
  const r = await videoRig(t);
  const tablet = await r.connect('resident1');
  const care = await r.connect('care1');
  t.equal(tablet.welcome.autoAnswerWarningMs, 10_000, 'the warning is 10 seconds by default');
  care.send({ type: 'call', home: 'h1' });
  const first = await care.next('ringing');
  const untrusted = await tablet.next('incoming');
  t.equal(untrusted.autoAnswerMs, null, 'an untrusted caller is not auto-answered');
  tablet.send({ type: 'answer', callId: first.callId, auto: true });
  t.equal((await tablet.next('error')).code, 'not-trusted', 'the hub refuses an auto-answer for an untrusted caller');
  t.equal(r.f.web.video.calls.activeCall('h1')?.state, 'ringing', 'still ringing');
  tablet.send({ type: 'answer', callId: first.callId, auto: false });
  await care.next('joined');
  t.equal((await r.f.store.getCall(first.callId))?.answeredBy, 'resident', 'answered by the resident');
  care.send({ type: 'hangup', callId: first.callId });
  t.equal((await tablet.next('ended')).reason, 'ended');

  await permit(r, 'care1', { trusted: true });
  care.send({ type: 'call', home: 'h1' });
  const second = await care.next('ringing');
  const trusted = await tablet.next('incoming');
  t.equal(trusted.autoAnswerMs, 10_000, 'a trusted caller is auto-answered after the 10 s warning');
  t.equal(trusted.from.name, 'Name of care1', 'the tablet shows who calls');
  tablet.send({ type: 'answer', callId: second.callId, auto: true });
  const joined = await care.next('joined');
  t.same(joined.offerTo, [tablet.welcome.peerId], 'the caller offers to the tablet');
  t.equal((await r.f.store.getCall(second.callId))?.answeredBy, 'auto');
});

t.test('"not now": a decline ends the ring; two declines of a check-in make it missed', async (t) => {
  const r = await videoRig(t);
  await permit(r, 'care1', { trusted: true });
  const tablet = await r.connect('resident1');
  const care = await r.connect('care1');
  const checkin = await r.f.web.video.checkins.schedule({ homeId: 'h1', dueAt: r.f.clock.now() + 3600_000, callerId: 'care1', createdBy: 'care1' });
  for (const n of [1, 2]) {
    care.send({ type: 'call', home: 'h1', checkin: checkin.id });
    const { callId } = await care.next('ringing');
    await tablet.next('incoming');
    tablet.send({ type: 'decline', callId });
    t.equal((await care.next('ended')).reason, 'declined', `decline ${n}: the caller hears "not now"`);
    t.equal((await r.f.store.getCall(callId))?.outcome, 'declined');
    if (n === 1) {
      t.equal((await r.f.store.getCheckin(checkin.id))?.declines, 1, 'one decline counted');
      t.equal(r.findings.length, 0, 'one decline is not a missed check-in');
    }
  }
  await until(() => r.findings.length === 1, 5000, 'the missed check-in finding');
  const c = await r.f.store.getCheckin(checkin.id);
  t.equal(c?.status, 'missed');
  t.equal(c?.missedReason, 'declined');
  t.equal(r.findings[0]?.rule, 'video-checkin');
  t.equal(r.findings[0]?.data?.reason, 'declined');
});

t.test('no answer: the ring times out on the virtual clock and the check-in is missed', async (t) => {
  const r = await videoRig(t, { ringTimeoutMs: 45_000 });
  const care = await r.connect('care1');
  // The tablet is offline at first and gets the ringing call when it connects.
  const checkin = await r.f.web.video.checkins.schedule({ homeId: 'h1', dueAt: r.f.clock.now(), callerId: 'care1', createdBy: 'care1' });
  care.send({ type: 'call', home: 'h1', checkin: checkin.id });
  const { callId } = await care.next('ringing');
  const tablet = await r.connect('resident1');
  t.equal((await tablet.next('incoming')).callId, callId, 'a tablet that connects while a call rings hears it');
  r.f.clock.advanceBy(44_999);
  t.equal(r.f.web.video.calls.activeCall('h1')?.state, 'ringing', 'still ringing just before the timeout');
  r.f.clock.advanceBy(1);
  t.equal((await care.next('ended')).reason, 'no-answer');
  t.equal((await tablet.next('ended')).reason, 'no-answer', 'the tablet stops ringing');
  await until(() => r.findings.length === 1, 5000, 'the missed check-in finding');
  t.equal((await r.f.store.getCheckin(checkin.id))?.missedReason, 'no-answer');
  t.equal((await r.f.store.getCall(callId))?.outcome, 'no-answer');
});

t.test('the ring lasts its wall-clock time even when the hub\'s clock runs sped up (the demo)', async (t) => {
  const wall = new VirtualWallClock(Date.parse('2026-11-21T09:00:00+09:00'));
  const r = await videoRig(t, { ringTimeoutMs: 45_000 }, { wallClock: wall });
  const care = await r.connect('care1');
  const tablet = await r.connect('resident1');
  const checkin = await r.f.web.video.checkins.schedule({ homeId: 'h1', dueAt: wall.now(), callerId: 'care1', createdBy: 'care1' });
  care.send({ type: 'call', home: 'h1', checkin: checkin.id });
  const { callId } = await care.next('ringing');
  t.equal((await tablet.next('incoming')).callId, callId);
  r.f.clock.advanceBy(6 * 3600_000); // six simulated hours of the hub's clock
  t.equal(r.f.web.video.calls.activeCall('h1')?.state, 'ringing', 'the hub\'s sped-up clock does not end the ring');
  wall.advanceBy(44_999);
  t.equal(r.f.web.video.calls.activeCall('h1')?.state, 'ringing', 'still ringing just before 45 wall-clock seconds');
  wall.advanceBy(1);
  t.equal((await care.next('ended')).reason, 'no-answer', 'ended after 45 wall-clock seconds');
  await until(() => r.findings.length === 1, 5000, 'the missed check-in finding');
  t.equal(r.findings[0]?.at, r.f.clock.now(), 'the missed check-in reaches the alert path in the hub\'s time');
  t.equal((await r.f.store.getCall(callId))?.endedAt, wall.now(), 'the call record is in wall-clock time');
});

t.test('emergency look-in: only with consent, only for a critical unacknowledged alert, and logged', async (t) => {
  const r = await videoRig(t, { autoAnswerWarningMs: 3000 });
  const tablet = await r.connect('resident1');
  const care = await r.connect('care1');
  care.send({ type: 'call', home: 'h1', lookIn: r.f.ids.alert1 });
  t.equal((await care.next('error')).code, 'forbidden', 'no look-in without the resident\'s consent');
  await permit(r, 'care1', { lookIn: true });
  care.send({ type: 'call', home: 'h1', lookIn: r.f.ids.alert2 });
  t.equal((await care.next('error')).code, 'forbidden', 'not with another home\'s alert');
  t.equal((await r.f.store.listAccess('h1')).filter((a) => /look-in/.test(a.what)).length, 0, 'refusals are not logged as look-ins');
  care.send({ type: 'call', home: 'h1', lookIn: r.f.ids.alert1 });
  const { callId } = await care.next('ringing');
  const incoming = await tablet.next('incoming');
  t.ok(incoming.lookIn, 'the tablet is told it is an emergency look-in');
  t.equal(incoming.autoAnswerMs, 3000, 'a look-in connects after the warning (configured 3 s here), even for an untrusted caller');
  const log = await r.f.store.listAccess('h1');
  t.ok(log.some((a) => a.viewerId === 'care1' && a.what === 'emergency video look-in'), 'the look-in is in the access log');
  t.ok((await r.f.store.listAudit(r.f.ids.alert1)).some((a) => a.action === 'video.look-in'), 'and in the audit log');
  care.send({ type: 'hangup', callId });
  await care.next('ended');
  // Once someone acknowledged the alert, no more look-ins.
  await r.f.store.updateAlertStatus(r.f.ids.alert1, 'acknowledged', r.f.clock.now());
  care.send({ type: 'call', home: 'h1', lookIn: r.f.ids.alert1 });
  t.equal((await care.next('error')).code, 'forbidden', 'no look-in for an acknowledged alert');
});

t.test('family with detailed consent joins; at most four people in a call', async (t) => {
  const r = await videoRig(t);
  const secret = newTotpSecret();
  await r.f.store.createAccount({ id: 'care2', login: 'care2', name: 'Name of care2', role: 'caregiver', language: 'ja', passwordHash: await hashPassword(password), totpSecret: secret, createdAt: r.f.clock.now() });
  await r.f.store.linkAccount({ accountId: 'care2', kind: 'home', targetId: 'h1' });
  r.f.totp.care2 = secret;
  await r.f.store.setConsent({ homeId: 'h1', viewerId: 'family1', level: 'detailed', photos: false, updatedAt: r.f.clock.now(), updatedBy: 'resident1' });
  const tablet = await r.connect('resident1');
  const care = await r.connect('care1');
  const fam = await r.connect('family1');
  const guardian = await r.connect('guardian1');
  const care2 = await r.connect('care2');
  care.send({ type: 'call', home: 'h1' });
  const { callId } = await care.next('ringing');
  fam.send({ type: 'join', callId });
  t.equal((await fam.next('error')).code, 'not-connected', 'nobody joins a call that is still ringing');
  tablet.send({ type: 'answer', callId, auto: false });
  await care.next('joined');
  fam.send({ type: 'join', callId });
  const famJoined = await fam.next('joined');
  t.same(new Set(famJoined.offerTo), new Set([care.welcome.peerId, tablet.welcome.peerId]), 'the newcomer offers to everyone already there');
  t.equal((await tablet.next('peer-joined')).peer, fam.welcome.peerId, 'the others hear who joined');
  guardian.send({ type: 'join', callId });
  t.equal((await guardian.next('joined')).offerTo.length, 3, 'a guardian joins as the fourth');
  care2.send({ type: 'join', callId });
  t.equal((await care2.next('error')).code, 'full', 'a fifth person is refused');
  t.ok((await r.f.store.listAccess('h1')).some((a) => a.viewerId === 'family1' && a.what === 'video call'), 'joining is in the access log');
  // Family leaving does not end the call; the tablet leaving does.
  fam.send({ type: 'hangup', callId });
  t.equal((await care.next('peer-left')).peer, fam.welcome.peerId);
  t.equal(r.f.web.video.calls.activeCall('h1')?.participants, 3);
  await tablet.close();
  t.equal((await care.next('ended')).reason, 'ended', 'the call ends when the tablet goes away');
  t.equal((await r.f.store.getCall(callId))?.outcome, 'connected');
});
