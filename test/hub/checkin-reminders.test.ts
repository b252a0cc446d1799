import t, { type Test } from 'tap';
import { VirtualWallClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { createSqliteStore } from '../../core/store.js';
import { startLocalTwilio } from '../../notifier/local-twilio-server.js';
import { createTwilioClient } from '../../notifier/twilio-client.js';
import { createSmsChannel } from '../../notifier/channels/sms.js';
import { remindCaregivers, tellCaregiversCancelled } from '../../hub/checkin-reminders.js';

/** A store with home h1 and its first caregiver, the local Twilio server and an SMS channel on it, at 09:45 wall-clock time. */
async function rig(t: Test) {
  const clock = new VirtualWallClock(Date.parse('2026-11-21T09:45:00+09:00'));
  const store = createSqliteStore(':memory:');
  t.teardown(() => store.close());
  const lt = await startLocalTwilio({ logger: silentLogger(), clock });
  t.teardown(() => lt.close());
  const sms = createSmsChannel({ client: createTwilioClient({ accountSid: lt.accountSid, authToken: lt.authToken, baseUrl: lt.url }), from: '+815000000000', logger: silentLogger() });
  await store.createHome({ id: 'h1', name: '山田家', timezone: 'Asia/Tokyo' });
  await store.addContact({ homeId: 'h1', name: '木村', role: 'caregiver', phone: '+819011110001', language: 'ja', priority: 1 });
  /** A check-in of h1 due at 10:00, scheduled. */
  const checkin = async () => (await store.addCheckin({ homeId: 'h1', dueAt: Date.parse('2026-11-21T10:00:00+09:00'), callerId: 'care1', createdBy: 'care1', createdAt: clock.now() })).id;
  return { clock, store, lt, sms, checkin };
}

t.test('a check-in reminder reaches the home caregivers by SMS, in their language, and nobody else', async (t) => {
  const { clock, store, lt, sms, checkin } = await rig(t);
  const c1 = await checkin();
  await store.addResident({ homeId: 'h1', name: '山田 花子', language: 'ja' });
  await store.addContact({ homeId: 'h1', name: 'Nurse Lee', role: 'caregiver', phone: '+819011110002', language: 'en', priority: 2 });
  await store.addContact({ homeId: 'h1', name: '太郎', role: 'family', phone: '+819011110003', language: 'ja', priority: 1 });

  const sent = await remindCaregivers({ store, sms, wallClock: clock, logger: silentLogger() }, { checkinId: c1, homeId: 'h1', dueAt: Date.parse('2026-11-21T10:00:00+09:00') });
  t.equal(sent, 2);
  const byTo = new Map(lt.messages().map((m) => [m.to, m.body]));
  t.match(byTo.get('+819011110001'), /10:00 から 山田 花子さんとのビデオ見守り/);
  t.match(byTo.get('+819011110002'), /video check-in with 山田 花子 at 10:00/);
  t.notOk(byTo.has('+819011110003'), 'the family is not reminded');
  t.equal((await store.listAudit(c1))[0]?.action, 'checkin.reminder');
  t.equal(await remindCaregivers({ store, sms, wallClock: clock, logger: silentLogger() }, { checkinId: 'c2', homeId: 'nowhere', dueAt: 0 }), 0, 'an unknown home sends nothing');
});

t.test('each caregiver is reminded once per check-in: a reminder run again sends nothing twice, and a node that lost the home sends nothing', async (t) => {
  const { clock, store, lt, sms, checkin } = await rig(t);
  const deps = { store, sms, wallClock: clock, logger: silentLogger() };
  const due = Date.parse('2026-11-21T10:00:00+09:00');
  const [c1, c2, c3] = [await checkin(), await checkin(), await checkin()];

  t.equal(await remindCaregivers(deps, { checkinId: c1, homeId: 'h1', dueAt: due }), 1);
  t.equal(await remindCaregivers(deps, { checkinId: c1, homeId: 'h1', dueAt: due }), 0, 'the job run again (a failure after the send): not sent again');
  t.equal(lt.messages().length, 1);
  t.equal(await remindCaregivers(deps, { checkinId: c2, homeId: 'h1', dueAt: due }), 1, 'another check-in is reminded');

  // Node B took the home (token 2) while node A was stalled in a reminder with token 1.
  t.ok(await store.fenceHome({ home: 'h1', owner: 'node-a', token: 1 }, clock.now()));
  t.ok(await store.fenceHome({ home: 'h1', owner: 'node-b', token: 2 }, clock.now()));
  await t.rejects(remindCaregivers(deps, { checkinId: c3, homeId: 'h1', dueAt: due, fence: { home: 'h1', owner: 'node-a', token: 1 } }), { code: 'MIMAMORI_ERR_FENCED' });
  t.equal(lt.messages().length, 2, 'the stalled node sent nothing');
  t.equal(await remindCaregivers(deps, { checkinId: c3, homeId: 'h1', dueAt: due, fence: { home: 'h1', owner: 'node-b', token: 2 } }), 1, 'the owner sends it');
});

t.test('a check-in cancelled before its reminder runs reminds nobody; one cancelled between the claim and the SMS sends nothing', async (t) => {
  const { clock, store, lt, sms, checkin } = await rig(t);
  const deps = { store, sms, wallClock: clock, logger: silentLogger() };
  const due = Date.parse('2026-11-21T10:00:00+09:00');
  await store.addContact({ homeId: 'h1', name: 'Nurse Lee', role: 'caregiver', phone: '+819011110002', language: 'en', priority: 2 });

  const early = await checkin();
  t.ok(await store.updateCheckin(early, { status: 'cancelled' }, { status: 'scheduled' }));
  t.equal(await remindCaregivers(deps, { checkinId: early, homeId: 'h1', dueAt: due }), 0, 'cancelled before the reminder: nothing sent');
  t.equal(lt.messages().length, 0);
  t.match((await store.listAudit(early))[0]?.detail, { sent: 0, stoppedBecause: 'cancelled' }, 'the audit says why');

  // The cancel lands while the reminder is under way: after it claimed the first caregiver's key, before the SMS.
  const racing = await checkin();
  const claim = store.claimSendKeys.bind(store);
  store.claimSendKeys = async (...args) => {
    const claimed = await claim(...args);
    if (args[0][0]?.key.startsWith(`checkin:${racing}:remind:`)) await store.updateCheckin(racing, { status: 'cancelled' }, { status: 'scheduled' });
    return claimed;
  };
  t.equal(await remindCaregivers(deps, { checkinId: racing, homeId: 'h1', dueAt: due }), 0, 'the reminder reads the check-in after its claim and stops');
  t.equal(lt.messages().length, 0, 'no reminder for a call that will not come');
});

t.test('a check-in cancelled after its reminder: the caregivers reminded are told, once each, in their language', async (t) => {
  const { clock, store, lt, sms, checkin } = await rig(t);
  const deps = { store, sms, wallClock: clock, logger: silentLogger() };
  const due = Date.parse('2026-11-21T10:00:00+09:00');
  await store.addResident({ homeId: 'h1', name: '山田 花子', language: 'ja' });
  await store.addContact({ homeId: 'h1', name: 'Nurse Lee', role: 'caregiver', phone: '+819011110002', language: 'en', priority: 2 });
  const c1 = await checkin();
  const quiet = await checkin();
  t.equal(await tellCaregiversCancelled(deps, { checkinId: quiet, homeId: 'h1', dueAt: due }), 0, 'nobody was reminded: nobody is told');

  t.equal(await remindCaregivers(deps, { checkinId: c1, homeId: 'h1', dueAt: due }), 2);
  await store.addContact({ homeId: 'h1', name: '佐藤', role: 'caregiver', phone: '+819011110004', language: 'ja', priority: 3 });
  t.ok(await store.updateCheckin(c1, { status: 'cancelled' }, { status: 'scheduled' }));
  t.equal(await tellCaregiversCancelled(deps, { checkinId: c1, homeId: 'h1', dueAt: due }), 2, 'the two reminded caregivers');
  const notices = lt.messages().slice(2);
  const byTo = new Map(notices.map((m) => [m.to, m.body]));
  t.match(byTo.get('+819011110001'), /10:00 からの 山田 花子さんとのビデオ見守りは取り消されました/);
  t.match(byTo.get('+819011110002'), /Cancelled: the video check-in with 山田 花子 at 10:00 will not take place/);
  t.notOk(byTo.has('+819011110004'), 'a caregiver added after the reminder was never reminded: not told');
  t.equal(await tellCaregiversCancelled(deps, { checkinId: c1, homeId: 'h1', dueAt: due }), 0, 'told again (a retried cancel): nothing sent twice');
  t.equal(lt.messages().length, 4);
  t.ok((await store.listAudit(c1)).some((a) => a.action === 'checkin.cancel-notice'), 'audited');
});
