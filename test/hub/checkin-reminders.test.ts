import t, { type Test } from 'tap';
import { VirtualWallClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { createSqliteStore } from '../../core/store.js';
import { startLocalTwilio } from '../../notifier/local-twilio-server.js';
import { createTwilioClient } from '../../notifier/twilio-client.js';
import { createSmsChannel } from '../../notifier/channels/sms.js';
import { remindCaregivers } from '../../hub/checkin-reminders.js';

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
  return { clock, store, lt, sms };
}

t.test('a check-in reminder reaches the home caregivers by SMS, in their language, and nobody else', async (t) => {
  const { clock, store, lt, sms } = await rig(t);
  await store.addResident({ homeId: 'h1', name: '山田 花子', language: 'ja' });
  await store.addContact({ homeId: 'h1', name: 'Nurse Lee', role: 'caregiver', phone: '+819011110002', language: 'en', priority: 2 });
  await store.addContact({ homeId: 'h1', name: '太郎', role: 'family', phone: '+819011110003', language: 'ja', priority: 1 });

  const sent = await remindCaregivers({ store, sms, wallClock: clock, logger: silentLogger() }, { checkinId: 'c1', homeId: 'h1', dueAt: Date.parse('2026-11-21T10:00:00+09:00') });
  t.equal(sent, 2);
  const byTo = new Map(lt.messages().map((m) => [m.to, m.body]));
  t.match(byTo.get('+819011110001'), /10:00 から 山田 花子さんとのビデオ見守り/);
  t.match(byTo.get('+819011110002'), /video check-in with 山田 花子 at 10:00/);
  t.notOk(byTo.has('+819011110003'), 'the family is not reminded');
  t.equal((await store.listAudit('c1'))[0]?.action, 'checkin.reminder');
  t.equal(await remindCaregivers({ store, sms, wallClock: clock, logger: silentLogger() }, { checkinId: 'c2', homeId: 'nowhere', dueAt: 0 }), 0, 'an unknown home sends nothing');
});

t.test('each caregiver is reminded once per check-in: a reminder run again sends nothing twice, and a node that lost the home sends nothing', async (t) => {
  const { clock, store, lt, sms } = await rig(t);
  const deps = { store, sms, wallClock: clock, logger: silentLogger() };
  const due = Date.parse('2026-11-21T10:00:00+09:00');

  t.equal(await remindCaregivers(deps, { checkinId: 'c1', homeId: 'h1', dueAt: due }), 1);
  t.equal(await remindCaregivers(deps, { checkinId: 'c1', homeId: 'h1', dueAt: due }), 0, 'the job run again (a failure after the send): not sent again');
  t.equal(lt.messages().length, 1);
  t.equal(await remindCaregivers(deps, { checkinId: 'c2', homeId: 'h1', dueAt: due }), 1, 'another check-in is reminded');

  // Node B took the home (token 2) while node A was stalled in a reminder with token 1.
  t.ok(await store.fenceHome({ home: 'h1', owner: 'node-a', token: 1 }, clock.now()));
  t.ok(await store.fenceHome({ home: 'h1', owner: 'node-b', token: 2 }, clock.now()));
  await t.rejects(remindCaregivers(deps, { checkinId: 'c3', homeId: 'h1', dueAt: due, fence: { home: 'h1', owner: 'node-a', token: 1 } }), { code: 'MIMAMORI_ERR_FENCED' });
  t.equal(lt.messages().length, 2, 'the stalled node sent nothing');
  t.equal(await remindCaregivers(deps, { checkinId: 'c3', homeId: 'h1', dueAt: due, fence: { home: 'h1', owner: 'node-b', token: 2 } }), 1, 'the owner sends it');
});
