/**
 * Crash reconciliation must never mistake a send that is still in flight —
 * claimed, recorded `pending`, waiting for the provider's answer — for one a
 * crash left without an outcome: it would send the page a second time. Two
 * ways it did (review of send-reconcile.ts, 2026-12-05):
 *
 * - on one hub, a reconciliation retry (the provider could not be asked at
 *   start) ran on the clock, outside the home's queue, and took an alert's
 *   send started moments before for an unsettled one;
 * - in a cluster, a node that gained a home settled the sends the previous
 *   owner still had in flight.
 *
 * The sends are held before they reach the provider (the local Twilio
 * server, through the real twilio client), so the provider has not seen them.
 */
import t, { type Test } from 'tap';
import { VirtualClock } from '../../core/clock.js';
import { createLogger, silentLogger } from '../../core/logger.js';
import type { Channel } from '../../notifier/channel.js';
import { createSmsChannel } from '../../notifier/channels/sms.js';
import { createNotifier, type Notifier } from '../../notifier/index.js';
import type { LocalTwilio } from '../../notifier/local-twilio-server.js';
import { createTwilioClient } from '../../notifier/twilio-client.js';
import { gate } from '../support/out-of-order-port.js';
import { ownershipOf } from '../support/ownership.js';
import { at1942, finding, homeId, seedHome, smsTiersPolicy, startLocal } from './helpers.js';

const from = '+815000000000';
const text = '【見守り】山田花子さん: 浴室の水が流れたままです';
/** The default settle window (`reconcile.settleAfterMs`) and retry interval (`reconcile.retryMs`). */
const settleMs = 60_000;
const retryMs = 60_000;

/** A real SMS channel whose first send to each number `hold` names waits at a gate before it reaches the provider. */
function heldSms(local: LocalTwilio, hold: (to: string | undefined) => boolean) {
  const client = createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url });
  const sms = createSmsChannel({ client, from, logger: silentLogger() });
  const door = gate();
  let dead = false;
  let held = 0;
  const seen = new Set<string | undefined>();
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const channel: Channel = {
    ...sms,
    async send(m) {
      if (hold(m.to.phone) && !seen.has(m.to.phone)) {
        seen.add(m.to.phone);
        held += 1;
        for (const w of waiters.filter((x) => x.n <= held)) w.resolve();
        await door.wait();
        if (dead) return { status: 'failed', error: 'the node died before its request left' };
      }
      return sms.send(m);
    },
  };
  return {
    sms, channel, open: door.open,
    /** The held sends end without reaching the provider (their node died; its late answers come to nothing). */
    die() { dead = true; door.open(); },
    /** Resolves once `n` sends are waiting at the gate. */
    holding: (n: number) => new Promise<void>((resolve) => { if (held >= n) resolve(); else waiters.push({ n, resolve }); }),
  };
}

const toEach = (local: LocalTwilio, ...phones: Array<string | undefined>) => phones.map((p) => local.messages().filter((m) => m.to === p && m.from === from).length);

t.test('one hub: a reconciliation retry leaves alone a page the alert path has in flight', async (t: Test) => {
  const { store, taro, ken, carer } = await seedHome();
  const clock = new VirtualClock(at1942);
  const local = await startLocal(clock);
  const held = heldSms(local, (to) => to === ken.phone);
  // Ends of reconciliation passes, from the notifier's log: the barrier for "the retry on the clock has run".
  const passes: number[] = [];
  const passEnded: Array<() => void> = [];
  const logger = createLogger({ level: 'info', destination: { write(line: string) {
    if ((JSON.parse(line) as { msg?: string }).msg === 'sends interrupted by a restart reconciled') { passes.push(clock.now()); for (const f of passEnded.splice(0)) f(); }
  } } });
  const nextPassEnd = () => new Promise<void>((resolve) => passEnded.push(resolve));
  await store.setEscalationPolicy(homeId, smsTiersPolicy(1), clock.now());

  // A page to the caregiver a crash left without an outcome; at start the provider cannot be asked about it.
  const f = finding({ rule: 'night-door', type: 'nightDoor' });
  const old = await store.openAlert({ homeId, rule: f.rule, severity: f.severity, message: f.message.en, finding: f, openedAt: f.at });
  await store.claimSendKeys([{ key: `${old.alert.id}:0:1:0:${carer.id}:sms`, alertId: old.alert.id, contactId: carer.id, channel: 'sms', createdAt: clock.now() - settleMs, recipient: carer.phone!, body: text }]);
  let unreachable = 1;
  const channel: Channel = { ...held.channel, async findSent(q) { if (unreachable-- > 0) throw new Error('connect ECONNREFUSED'); return held.sms.findSent!(q); } };
  const notifier: Notifier = await createNotifier({ store, logger, clock, sms: channel, sendWaitMs: 0 });
  t.teardown(async () => { held.open(); await notifier.close(); await local.close(); await store.close(); });
  t.equal(toEach(local, carer.phone)[0], 0, 'the caregiver\'s page is not sent while its fate is unknown');

  // A new alert: Ken's page is handed to the channel and waits for the provider.
  const res = await notifier.handleFinding(finding());
  await held.holding(1);
  t.equal(res.notified, 2, 'Taro and Ken are being paged');

  // The reconciliation retry falls due while Ken's page is in flight.
  const ended = nextPassEnd();
  clock.advanceBy(retryMs);
  await ended;
  t.same(toEach(local, ken.phone), [0], 'Ken\'s page in flight was not sent a second time by reconciliation');

  held.open();
  await notifier.idle();
  await local.settled();
  t.same(toEach(local, ken.phone, taro.phone, carer.phone), [1, 1, 1], 'Ken, Taro and the caregiver each paged exactly once');
  const kens = (await store.listNotifications(res.alertId!)).filter((n) => n.contactId === ken.id);
  t.equal(kens.length, 1, 'one record of Ken\'s page');
  t.equal(kens[0]?.providerId, local.messages().find((m) => m.to === ken.phone)?.sid, 'with the provider id of the one message');
  t.ok(passes.length >= 2, 'the retry ran');
});

/** Node A (owner) and node B on one store and one provider; A's sends to the family wait at the gate. */
async function handover(t: Test) {
  const seeded = await seedHome();
  const { store, taro, ken } = seeded;
  const clock = new VirtualClock(at1942);
  const local = await startLocal(clock);
  await store.setEscalationPolicy(homeId, smsTiersPolicy(1), clock.now());
  const heldA = heldSms(local, (to) => to === taro.phone || to === ken.phone);
  const smsB = heldSms(local, () => false);
  const own = { a: ownershipOf(store, 'node-a'), b: ownershipOf(store, 'node-b') };
  t.ok(await own.a.gain(homeId, 1, clock.now()), 'node A runs the home');
  const a = await createNotifier({ store, logger: silentLogger(), clock, sms: heldA.channel, sendWaitMs: 0, nodeId: 'node-a/1', ownership: own.a });
  const b = await createNotifier({ store, logger: silentLogger(), clock, sms: smsB.channel, sendWaitMs: 0, nodeId: 'node-b/1', ownership: own.b });
  t.teardown(async () => { heldA.open(); await a.close(); await b.close(); await local.close(); await store.close(); });
  return { ...seeded, clock, local, heldA, own, a, b };
}

t.test('cluster: a node that gains a home does not send again the pages the previous owner still has in flight', async (t) => {
  const r = await handover(t);
  const { taro, ken, local, clock, own, a, b } = r;
  const res = await a.handleFinding(finding());
  await r.heldA.holding(2);
  // A loses the home (its lease ran out) while both pages wait for the provider; B takes it on.
  await own.a.lose(homeId, clock.now());
  t.ok(await own.b.gain(homeId, 2, clock.now()), 'node B runs the home');
  await b.idle();
  t.same(toEach(local, taro.phone, ken.phone), [0, 0], 'B sends nothing while A\'s pages may still reach the provider');

  // A's requests reach the provider; once they are older than the settle window, B finds them there.
  r.heldA.open();
  await a.idle();
  clock.advanceBy(settleMs);
  await b.idle();
  await local.settled();
  t.same(toEach(local, taro.phone, ken.phone), [1, 1], 'each person paged exactly once');
  const notes = await r.store.listNotifications(res.alertId!);
  t.equal(notes.length, 2);
  t.same(notes.map((n) => n.providerId).sort(), local.messages().map((m) => m.sid).sort(), 'each record carries its message\'s provider id');
});

t.test('cluster: pages the previous owner never got to the provider (it died) are sent once by the new owner after the settle window', async (t) => {
  const r = await handover(t);
  const { taro, ken, local, clock, own, b } = r;
  const res = await r.a.handleFinding(finding());
  await r.heldA.holding(2);
  await own.a.lose(homeId, clock.now());
  t.ok(await own.b.gain(homeId, 2, clock.now()));
  await b.idle();
  t.same(toEach(local, taro.phone, ken.phone), [0, 0], 'not yet: they may still be on their way');
  clock.advanceBy(settleMs);
  await b.idle();
  await local.settled();
  t.same(toEach(local, taro.phone, ken.phone), [1, 1], 'the new owner sent each page once');
  const sids = local.messages().map((m) => m.sid).sort();
  t.same((await r.store.listNotifications(res.alertId!)).map((n) => n.providerId).sort(), sids, 'recorded with the new owner\'s messages');
  r.heldA.die();
});
