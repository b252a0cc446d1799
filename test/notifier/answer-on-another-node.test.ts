/**
 * A person's answer on one cluster node while the home's owner runs an
 * escalation step of the same alert (docs/scale.md, "Not fenced"). Two
 * notifiers share one store, as two nodes share PostgreSQL: node A owns the
 * home (its fence is written) and runs the steps; node B receives the
 * family's "1". The per-home queue orders each node's own work, but nothing
 * orders A's step against B's answer, so the test holds A's step right after
 * it read the alert's lifecycle row (a slow pool connection), lets B's
 * acknowledgement commit, then lets the step go on.
 */
import t, { type Test } from 'tap';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { createSqlStore } from '../../core/store.js';
import type { Channel } from '../../notifier/channel.js';
import { createNotifier } from '../../notifier/index.js';
import { gate, outOfOrderPort } from '../support/out-of-order-port.js';
import { ownershipOf } from '../support/ownership.js';
import { at1942, finding, homeId, seedHome, smsTiersPolicy } from './helpers.js';

const min = 60_000;
const policy = smsTiersPolicy(1);

/** Node A (the home's owner) and node B on one store; A's next read of a lifecycle row is held once `holdNextRead()` is called. */
async function rig(t: Test) {
  const { port } = await outOfOrderPort(t);
  let held = gate();
  let armed = false;
  const storeA = createSqlStore({
    ...port,
    get: async (sql, ...p) => {
      const row = await port.get(sql, ...p);
      if (armed && sql.startsWith('SELECT * FROM alert_lifecycle')) { armed = false; await held.wait(); }
      return row;
    },
  });
  const store = createSqlStore(port);
  const seeded = await seedHome(store);
  const emergency = await store.addContact({ homeId, name: '見守りセンター', role: 'emergency', phone: '+81311112222', language: 'ja', priority: 9 });
  const clock = new VirtualClock(at1942);
  await store.setEscalationPolicy(homeId, policy, clock.now());
  const sent: Array<{ node: string; to: string | undefined; at: number }> = [];
  let n = 0;
  const sms = (node: string): Channel => ({ name: 'sms', send: async (m) => { sent.push({ node, to: m.to.phone, at: clock.now() }); return { status: 'queued', providerId: `SM${++n}` }; } });
  const own = { a: ownershipOf(storeA, 'node-a'), b: ownershipOf(store, 'node-b') };
  t.ok(await own.a.gain(homeId, 1, clock.now()), 'node A runs the home');
  const a = await createNotifier({ store: storeA, logger: silentLogger(), clock, sms: sms('a'), nodeId: 'node-a/1', ownership: own.a });
  const b = await createNotifier({ store, logger: silentLogger(), clock, sms: sms('b'), nodeId: 'node-b/1', ownership: own.b });
  t.teardown(async () => { held.open(); await a.close(); await b.close(); await storeA.close(); });
  const both = async () => { await a.idle(); await b.idle(); };
  return {
    ...seeded, store, emergency, clock, sent, a, b, both,
    /** Moves time on minute by minute, waiting for both nodes after each. */
    async minutes(k: number) { for (let i = 0; i < k; i++) { clock.advanceBy(min); await both(); } },
    /** Holds node A's next read of a lifecycle row (its next step) right after it was read; returns the gate. */
    holdNextRead() { held = gate(); armed = true; return held; },
  };
}

t.test('an acknowledgement on another node while the owner runs a step: no next tier paged, the acknowledgement stays', async (t) => {
  const r = await rig(t);
  const { store: storeB, taro, ken, carer, emergency, clock, sent, a, b, both } = r;
  const res = await a.handleFinding(finding());
  await both();
  t.same(sent.map((s) => s.to).sort(), [ken.phone, taro.phone].sort(), 'node A paged the family');
  await r.minutes(9);

  // The caregiver tier falls due: A's step reads the lifecycle (still running) and is held there.
  const held = r.holdNextRead();
  clock.advanceBy(min);
  await held.reached;
  const ackAt = clock.now();
  const ack = await b.responder.acknowledge({ alertId: res.alertId!, contactId: taro.id, via: 'sms' });
  t.equal(ack.ok && ack.alert.status, 'acknowledged', 'node B acknowledged the alert');
  await b.idle();
  const committed = sent.length;
  t.equal((await storeB.getAlertLifecycle(res.alertId!))?.acknowledgedBy, taro.id, 'the acknowledgement is committed');

  held.open();
  await both();
  const after = () => sent.slice(committed).filter((s) => s.to === carer.phone || s.to === emergency.phone);
  t.same(after(), [], 'no caregiver page after the acknowledgement committed');
  const life = await storeB.getAlertLifecycle(res.alertId!);
  t.equal(life?.acknowledgedBy, taro.id, 'who acknowledged is kept');
  t.equal(life?.acknowledgedVia, 'sms');
  t.equal((life?.state as { phase?: string } | undefined)?.phase, 'acknowledged', 'the escalation stays acknowledged');
  t.equal((await storeB.getAlert(res.alertId!))?.status, 'acknowledged');
  const jobs = await storeB.listJobs(['escalation']);
  t.same(jobs.map((j) => [j.key, j.dueAt]), [[`esc:${res.alertId!}`, ackAt + policy.renotifyMinutes * min]], 'the one job is the acknowledger\'s reminder the acknowledgement scheduled, not the next tier');

  await r.minutes(40);
  t.same(after(), [], 'nobody further is paged: no caregiver, no emergency services');
  const reminders = sent.slice(committed).filter((s) => s.to === taro.phone);
  t.same(reminders.map((s) => [s.node, s.at]), [['a', ackAt + policy.renotifyMinutes * min]], 'the owner reminds the acknowledger once, on time');
  t.same(await storeB.listJobs(['escalation']), [], 'nothing left scheduled');
});

t.test('"arrived" on another node while the owner resumes an "on my way" that ran out: the alert stays acknowledged, nobody is paged', async (t) => {
  const r = await rig(t);
  const { store, taro, carer, emergency, clock, sent, a, b, both } = r;
  const res = await a.handleFinding(finding());
  await both();
  const omw = await a.responder.onMyWay({ alertId: res.alertId!, contactId: taro.id, via: 'sms', etaMinutes: 20 });
  t.equal(omw.ok && omw.alert.status, 'acknowledged');
  await both();
  await r.minutes(29);
  t.same(sent.filter((s) => s.to === carer.phone), [], 'waiting for the ETA and the grace');

  // ETA + grace: A's step reads "on my way" and would reopen the alert and page the caregiver; Taro's arrival comes in on B first.
  const held = r.holdNextRead();
  clock.advanceBy(min);
  await held.reached;
  const arrived = await b.responder.arrived({ alertId: res.alertId!, contactId: taro.id, via: 'door' });
  t.equal(arrived.ok && arrived.alert.status, 'acknowledged', 'node B recorded the arrival');
  await b.idle();
  held.open();
  await both();
  t.equal((await store.getAlert(res.alertId!))?.status, 'acknowledged', 'the step did not reopen the alert');
  t.equal(((await store.getAlertLifecycle(res.alertId!))?.state as { phase?: string }).phase, 'arrived');
  t.notOk((await store.listAudit(res.alertId!)).some((x) => x.action === 'escalation.resume'), 'no resumption recorded');
  await r.minutes(30);
  t.same(sent.filter((s) => s.to === carer.phone || s.to === emergency.phone), [], 'nobody further is paged');
});

t.test('with no answer in between, an "on my way" that ran out still resumes on the owner: the alert opens again and the caregiver is paged', async (t) => {
  const r = await rig(t);
  const { store, taro, carer, sent, a, both } = r;
  const res = await a.handleFinding(finding());
  await both();
  await a.responder.onMyWay({ alertId: res.alertId!, contactId: taro.id, via: 'sms', etaMinutes: 20 });
  await both();
  await r.minutes(30);
  t.equal((await store.getAlert(res.alertId!))?.status, 'open', 'nobody arrived: the alert is open again');
  t.same(sent.filter((s) => s.to === carer.phone).map((s) => s.node), ['a'], 'the owner paged the caregiver once');
  t.ok((await store.listAudit(res.alertId!)).some((x) => x.action === 'escalation.resume'));
});
