/** Daily digests in virtual time, by SMS through the real twilio client and the local Twilio server. */
import t, { type Test } from 'tap';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { createSmsChannel } from '../../notifier/channels/sms.js';
import { createNotifier, type DaySummary } from '../../notifier/index.js';
import { createTwilioClient } from '../../notifier/twilio-client.js';
import { digestText } from '../../notifier/digest.js';
import { seedHome, startLocal, tz } from './helpers.js';
import { ownershipOf } from '../support/ownership.js';
import { gate } from '../support/out-of-order-port.js';

const at = (s: string) => Date.parse(`${s}+09:00`);

/** A seeded home, a virtual clock from `start`, the local Twilio server and SMS channels on it (each call a new one). */
async function rig(start: string) {
  const seeded = await seedHome();
  const clock = new VirtualClock(at(start));
  const local = await startLocal(clock);
  const client = createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url });
  const sms = () => createSmsChannel({ client, from: '+815000000000', logger: silentLogger() });
  return { seeded, clock, local, sms };
}

t.test('digest text: kettle, outings, day-care, all normal or what was noticed, in both languages', async (t) => {
  const day: DaySummary = { firstKettleAt: at('2026-11-21T07:12:00'), outings: [{ from: at('2026-11-21T09:30:00'), to: at('2026-11-21T15:10:00') }], dayCare: 'present', noticed: [] };
  t.equal(digestText(day, '山田花子', tz, 'ja'), '【見守り・今日の様子】山田花子さん: ポット 7:12／外出 9:30–15:10／デイケア 出席／いつも通りでした。');
  t.equal(digestText({ outings: [], noticed: [{ ja: '夜間に玄関', en: 'door at night' }] }, 'Hanako', tz, 'en'), '[Mimamori daily] Hanako: kettle not used yet; out none; noticed: door at night');
});

t.test('each contact gets digests at the times they picked, every day', async (t) => {
  const seeded = await seedHome();
  const clock = new VirtualClock(at('2026-11-21T06:00:00'));
  const local = await startLocal(clock);
  const client = createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url });
  const asked: string[] = [];
  const summarizeDay = async (homeId: string, date: string): Promise<DaySummary> => { asked.push(`${homeId} ${date}`); return { firstKettleAt: at('2026-11-21T07:12:00'), outings: [], noticed: [] }; };
  const n = await createNotifier({ store: seeded.store, logger: silentLogger(), clock, sms: createSmsChannel({ client, from: '+815000000000', logger: silentLogger() }), summarizeDay });
  t.teardown(async () => { await n.close(); await local.close(); await seeded.store.close(); });
  await t.rejects(n.setContactPreferences(seeded.taro.id, { digest: { times: ['07:00', '12:00', '18:00', '21:00'] } }), { code: 'MIMAMORI_ERR_INVALID_INPUT' });
  await n.setContactPreferences(seeded.taro.id, { digest: { times: ['08:00', '19:00'], channel: 'sms' } });
  const step = async (to: string) => { while (clock.now() < at(to)) { clock.advanceBy(10 * 60_000); await n.idle(); } };
  await step('2026-11-21T07:50:00');
  t.equal(local.messages().length, 0);
  await step('2026-11-21T08:10:00');
  t.equal(local.messages().length, 1);
  t.match(local.messages()[0]?.body, /^【見守り・今日の様子】山田花子さん: ポット 7:12/);
  t.equal(local.messages()[0]?.to, seeded.taro.phone);
  await step('2026-11-22T08:10:00');
  t.equal(local.messages().length, 3, '19:00 and the next morning');
  t.same(asked, ['home-1 2026-11-21', 'home-1 2026-11-21', 'home-1 2026-11-22']);
});

t.test('a digest time that passed while the hub was down is sent once on start, then daily again', async (t) => {
  const seeded = await seedHome();
  const clock = new VirtualClock(at('2026-11-21T06:00:00'));
  const local = await startLocal(clock);
  const client = createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url });
  const summarizeDay = async (): Promise<DaySummary> => ({ outings: [], noticed: [] });
  const open = () => createNotifier({ store: seeded.store, logger: silentLogger(), clock, sms: createSmsChannel({ client, from: '+815000000000', logger: silentLogger() }), summarizeDay });
  t.teardown(async () => { await local.close(); await seeded.store.close(); });
  const first = await open();
  await first.setContactPreferences(seeded.taro.id, { digest: { times: ['08:00'], channel: 'sms' } });
  t.same((await seeded.store.listJobs(['digest'])).map((j) => [j.key, j.dueAt]), [[`digest:${seeded.taro.id}:08:00`, at('2026-11-21T08:00:00')]], 'the digest time is a durable job');
  await first.close(); // the hub is down from 06:00 to 09:30
  clock.advanceTo(at('2026-11-21T09:30:00'));
  t.equal(local.messages().length, 0);
  const second = await open();
  t.teardown(() => second.close());
  const step = async (to: string) => { while (clock.now() < at(to)) { clock.advanceBy(10 * 60_000); await second.idle(); } };
  await step('2026-11-21T09:40:00');
  t.equal(local.messages().length, 1, 'the missed 08:00 digest went out once on start');
  t.same((await seeded.store.listJobs(['digest'])).map((j) => j.dueAt), [at('2026-11-22T08:00:00')], 'and the next day is scheduled');
  await step('2026-11-22T08:10:00');
  t.equal(local.messages().length, 2, 'the next morning');
});

t.test('a digest whose run failed after the send is not sent again when the job runs again', async (t) => {
  const { seeded, clock, local, sms } = await rig('2026-11-21T06:00:00');
  const n = await createNotifier({ store: seeded.store, logger: silentLogger(), clock, sms: sms(), summarizeDay: async () => ({ outings: [], noticed: [] }) });
  t.teardown(async () => { await n.close(); await local.close(); await seeded.store.close(); });
  await n.setContactPreferences(seeded.taro.id, { digest: { times: ['08:00'], channel: 'sms' } });
  // The store fails once just after the message went out (the audit record): the job fails and runs again after a back-off.
  const audit = seeded.store.audit.bind(seeded.store);
  let failed = 0;
  seeded.store.audit = async (e) => {
    if (e.action === 'digest.send' && failed++ === 0) throw new Error('disk full');
    return audit(e);
  };
  const step = async (to: string) => { while (clock.now() < at(to)) { clock.advanceBy(60_000); await n.idle(); } };
  await step('2026-11-21T09:00:00');
  t.equal(failed, 1, 'the run after the send failed');
  t.equal((await seeded.store.listJobs(['digest']))[0]?.dueAt, at('2026-11-22T08:00:00'), 'the job ran again and planned the next day');
  t.equal(local.messages().length, 1, 'the 08:00 digest went out once');
  await step('2026-11-22T08:10:00');
  t.equal(local.messages().length, 2, 'and the next morning again');
});

t.test('in a cluster, a node that stalled in a digest and lost the home sends nothing: the new owner sends it, once', async (t) => {
  const { seeded, clock, local, sms } = await rig('2026-11-21T07:50:00');
  const own = { a: ownershipOf(seeded.store, 'node-a'), b: ownershipOf(seeded.store, 'node-b') };
  const homeId = seeded.taro.homeId;
  t.ok(await own.a.gain(homeId, 1, clock.now()), 'node A runs the home');
  // Node A stalls inside the 08:00 digest (a long GC, a frozen VM) until node B has taken the home and sent it.
  let stalled!: () => void;
  const stall = new Promise<void>((resolve) => { stalled = resolve; });
  let aRan = false;
  const a = await createNotifier({
    store: seeded.store, logger: silentLogger(), clock, sms: sms(), nodeId: 'node-a/1', ownership: own.a,
    summarizeDay: async () => { aRan = true; await stall; return { outings: [], noticed: [] }; },
  });
  const b = await createNotifier({ store: seeded.store, logger: silentLogger(), clock, sms: sms(), nodeId: 'node-b/1', ownership: own.b, summarizeDay: async () => ({ outings: [], noticed: [] }) });
  t.teardown(async () => { stalled(); await a.close(); await b.close(); await local.close(); await seeded.store.close(); });
  await a.setContactPreferences(seeded.taro.id, { digest: { times: ['08:00'], channel: 'sms' } });
  for (let i = 0; i < 30 && !aRan; i++) { clock.advanceBy(60_000); await b.idle(); await new Promise((r) => setImmediate(r)); }
  t.ok(aRan, 'node A began the 08:00 digest');
  t.ok(await own.b.gain(homeId, 2, clock.now()), 'node B takes the home (A still thinks it runs it)');
  // A's job lease runs out; B claims the digest job and sends it.
  for (let i = 0; i < 30 && local.messages().length === 0; i++) { clock.advanceBy(60_000); await b.idle(); }
  t.equal(local.messages().length, 1, 'the new owner sent the 08:00 digest');
  stalled();
  await a.idle();
  await b.idle();
  t.equal(local.messages().length, 1, 'the stalled node, resuming, sent nothing');
});

/**
 * Two notifiers on one store (two hub nodes; the same happens to two requests on one hub), each
 * re-planning after a person saved their digest times. `heldPlan` holds the first plan that reads
 * the preferences from now on at a gate, after its read, while the other saves and plans to its end.
 */
async function twoPlanners(t: Test, start: string) {
  const { seeded, clock, local, sms } = await rig(start);
  const summarizeDay = async (): Promise<DaySummary> => ({ outings: [], noticed: [] });
  const a = await createNotifier({ store: seeded.store, logger: silentLogger(), clock, sms: sms(), nodeId: 'node-a/1', summarizeDay });
  const b = await createNotifier({ store: seeded.store, logger: silentLogger(), clock, sms: sms(), nodeId: 'node-b/1', summarizeDay });
  t.teardown(async () => { await a.close(); await b.close(); await local.close(); await seeded.store.close(); });
  const heldPlan = () => {
    const g = gate();
    const read = seeded.store.listContactPreferences.bind(seeded.store);
    let held = false;
    seeded.store.listContactPreferences = async () => {
      const prefs = await read();
      if (!held) { held = true; await g.wait(); }
      return prefs;
    };
    return g;
  };
  const step = async (to: string) => { while (clock.now() < at(to)) { clock.advanceBy(10 * 60_000); await a.idle(); await b.idle(); } };
  const digestJobs = async () => (await seeded.store.listJobs(['digest'])).map((j) => [j.key, j.dueAt]);
  const to = (phone: string) => local.messages().filter((m) => m.to === phone).length;
  return { seeded, clock, a, b, heldPlan, step, digestJobs, to };
}

t.test('two people save digest times at once: a plan that read before the other\'s save does not cancel the digest that save planned', async (t) => {
  const { seeded, a, b, heldPlan, step, digestJobs, to } = await twoPlanners(t, '2026-11-21T06:00:00');
  const { taro, ken } = seeded;
  const taroPlan = heldPlan();
  // Taro saves 08:00; his plan reads everyone's preferences (Ken has none yet) and is held there.
  const taroSaved = a.setContactPreferences(taro.id, { digest: { times: ['08:00'], channel: 'sms' } });
  await taroPlan.reached;
  // Ken saves 19:00 on the other node; its plan reads both and plans both.
  await b.setContactPreferences(ken.id, { digest: { times: ['19:00'], channel: 'sms' } });
  taroPlan.open();
  await taroSaved;
  t.same(await digestJobs(), [[`digest:${taro.id}:08:00`, at('2026-11-21T08:00:00')], [`digest:${ken.id}:19:00`, at('2026-11-21T19:00:00')]], 'both digest times are planned');
  await step('2026-11-22T08:10:00');
  t.same([to(taro.phone!), to(ken.phone!)], [2, 1], 'Taro\'s two mornings and Ken\'s evening, each once');
});

t.test('one person saves twice at once (a time dropped, then put back): the earlier save\'s plan does not cancel the time put back', async (t) => {
  const { seeded, a, b, heldPlan, step, digestJobs, to } = await twoPlanners(t, '2026-11-21T06:00:00');
  const { taro } = seeded;
  await a.setContactPreferences(taro.id, { digest: { times: ['08:00', '19:00'], channel: 'sms' } });
  const dropPlan = heldPlan();
  // Taro drops 19:00 (on node A; its plan reads [08:00] and is held), then, on node B, puts it back.
  const dropped = a.setContactPreferences(taro.id, { digest: { times: ['08:00'], channel: 'sms' } });
  await dropPlan.reached;
  await b.setContactPreferences(taro.id, { digest: { times: ['08:00', '19:00'], channel: 'sms' } });
  dropPlan.open();
  await dropped;
  t.same(await digestJobs(), [[`digest:${taro.id}:08:00`, at('2026-11-21T08:00:00')], [`digest:${taro.id}:19:00`, at('2026-11-21T19:00:00')]], 'what he saved last is planned');
  await step('2026-11-22T08:10:00');
  t.equal(to(taro.phone!), 3, '08:00, 19:00 and the next 08:00, each once');
});
