/**
 * Fault scenarios (issue 11) about event time, through the real hub (edge
 * agents with disk queues, MQTT broker, ingest, rules, notifier, local Twilio
 * server), the hub on a virtual clock:
 * - far-future and far-past timestamps are dead-lettered and the home stays
 *   watched;
 * - an edge offline for 6 h then flushing its queue: no family "no sign of
 *   life" for the gap, one operator "data late", no event lost.
 */
import { join } from 'node:path';
import t from 'tap';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { toLocalIso } from '../../core/time.js';
import { provisionDevice } from '../../broker/device-credentials.js';
import { createEdgeAgent, type EdgeAgent } from '../../edge/agent.js';
import { startHub, type Hub } from '../../cli/hub.js';
import { freePort, tempDir, testConfig, until } from '../hub/helpers.js';

const tz = 'Asia/Tokyo';
const min = 60_000;
const at = (hhmm: string) => Date.parse(`2026-11-21T${hhmm}:00+09:00`);
const taro = '+819055550201';
const operator = '+819055550299';

async function homeWithFamily(hub: Hub): Promise<void> {
  await hub.store.createHome({ id: 'h1', name: '山田家', timezone: tz });
  await hub.store.addResident({ homeId: 'h1', name: '山田 花子', language: 'ja', birthYear: 1940 });
  await hub.store.addContact({ homeId: 'h1', name: '山田 太郎', role: 'family', phone: taro, language: 'ja', priority: 1 });
  const policy = await hub.notifier.getEscalationPolicy('h1');
  await hub.notifier.setEscalationPolicy('h1', { ...policy, tiers: policy.tiers.map((tier) => (tier.name === 'family' ? { ...tier, channels: ['sms'] } : tier)) });
}

/** The motion sensor's edge agent; every instance shares one disk queue, as a restarted agent would. */
function agentFor(hub: Hub, dir: string, url = hub.mqttUrl): Promise<EdgeAgent> {
  return createEdgeAgent({
    url, home: 'h1', device: 'motion-living', secret: secrets.get(hub)!, queueDir: join(dir, 'queue'), logger: silentLogger(),
    clientOptions: { reconnectPeriod: 100, connectTimeout: 1000 }, maxReconnectMs: 500,
  });
}
const secrets = new WeakMap<Hub, string>();

t.test('far-future and far-past timestamps are dead-lettered; no-sign-of-life still fires at the right time', async (t) => {
  const dir = tempDir(t);
  const clock = new VirtualClock(at('08:00'));
  const hub = await startHub({ config: testConfig(dir), logger: silentLogger(), clock, http: false });
  t.teardown(() => hub.close());
  await homeWithFamily(hub);
  secrets.set(hub, (await provisionDevice(hub.store, { homeId: 'h1', deviceId: 'motion-living', kind: 'motion' })).secret);
  const agent = await agentFor(hub, dir);
  t.teardown(() => agent.close());

  await agent.publishEvent({ id: 'm-0800', ts: toLocalIso(at('08:00'), tz), kind: 'motion', occupied: true });
  await agent.publishEvent({ id: 'm-2300', ts: '2300-01-01T09:00:00+09:00', kind: 'motion', occupied: true });
  await agent.publishEvent({ id: 'm-old', ts: toLocalIso(at('08:00') - 30 * 24 * 60 * min, tz), kind: 'motion', occupied: true });
  // The broker's PUBACK empties the edge queue; the ingest's own count says the hub has them.
  await until(() => hub.ingest.stats().received === 3, 20_000, 'all three at the ingest');

  t.same(hub.ingest.stats().rejected, { ts_in_future: 1, ts_too_old: 1 }, 'both refused, with their reasons');
  const dead = await hub.store.listRejected(10);
  t.same(dead.map((d) => d.reason).sort(), ['ts_in_future', 'ts_too_old']);
  t.ok(dead.every((d) => d.homeId === 'h1' && d.deviceId === 'motion-living' && d.payload !== undefined && /hub's clock/.test(d.detail ?? '')), 'kept whole, with a clear detail');
  t.equal(hub.engine.lastSignOfLife('h1'), at('08:00'), 'last sign of life untouched by either');

  clock.advanceTo(at('10:59'));
  t.equal(hub.recentFindings().filter((f) => f.type === 'noSignOfLife').length, 0);
  clock.advanceTo(at('11:00'));
  const raised = hub.recentFindings().filter((f) => f.type === 'noSignOfLife' && f.state === 'raised');
  t.same(raised.map((f) => `${f.severity}@${new Date(f.at).toISOString()}`), [`warning@${new Date(at('11:00')).toISOString()}`], 'the home is still watched: warning at 08:00 + 3 h');
  await until(async () => (await hub.store.listAlerts({ homeId: 'h1' })).some((a) => a.rule === 'no-sign-of-life'), 10_000, 'the alert');
  await hub.notifier.idle();
  t.same((await hub.store.listAlerts({ homeId: 'h1' })).map((a) => a.rule).sort(), ['no-sign-of-life'], 'its alert, and nothing for the operator: an event-only sensor quiet for 3 h is no device fault (docs/rules.md)');
  t.equal(hub.localTwilio!.messages().filter((m) => m.to === taro).length, 1, 'one SMS to the family');
});

t.test('an edge offline for 6 h then flushing its queue: 0 family alarms, 1 operator "data late", 0 lost events', async (t) => {
  const dir = tempDir(t);
  const clock = new VirtualClock(at('07:00'));
  const hub = await startHub({ config: testConfig(dir, { operatorPhone: operator }), logger: silentLogger(), clock, http: false });
  t.teardown(() => hub.close());
  await homeWithFamily(hub);
  secrets.set(hub, (await provisionDevice(hub.store, { homeId: 'h1', deviceId: 'motion-living', kind: 'motion' })).secret);
  let published = 0, sent = 0;
  const delivered = (what: string) => until(() => hub.ingest.stats().received === sent, 30_000, what);
  /** Her day as the edge sees it: movement every 10 minutes, a heartbeat every 30. */
  async function live(agent: EdgeAgent, from: number, to: number, online: boolean): Promise<void> {
    for (let x = from; x <= to; x += 10 * min) {
      // Online, the hub keeps up: each reading is delivered before the clock moves on.
      if (online) await delivered('delivery');
      clock.advanceTo(x);
      if (x % (30 * min) === 0) { await agent.publishHeartbeat({ ts: toLocalIso(x, tz), battery: 90 }); sent++; }
      await agent.publishEvent({ id: `m-${x}`, ts: toLocalIso(x, tz), kind: 'motion', occupied: true });
      published++; sent++;
    }
  }

  const online = await agentFor(hub, dir);
  await live(online, at('07:00'), at('09:00'), true);
  await delivered('the morning delivered');
  const morning = sent;
  await online.close();

  // 09:00–15:00: the home's internet is out. The edge keeps queueing on disk; the hub hears nothing.
  const offline = await agentFor(hub, dir, `mqtt://127.0.0.1:${await freePort()}`);
  await live(offline, at('09:10'), at('15:00'), false);
  t.equal(offline.pending() > 0, true, 'the gap is queued at the edge');
  await offline.close();
  await hub.notifier.idle();
  t.equal(hub.ingest.stats().received, morning, 'nothing of the gap reached the hub yet');
  const dataLate = () => hub.recentFindings().filter((f) => f.type === 'dataLate');
  t.same(dataLate().map((f) => `${f.state}:${f.audience}@${new Date(f.at).toISOString()}`), [`raised:operator@${new Date(at('10:15')).toISOString()}`], 'operator told at 09:00 + 75 min of silence');
  t.same(hub.recentFindings().filter((f) => f.audience === 'family'), [], 'six hours without data: nothing to the family');

  // Back online at 15:00: the queue flushes, then live data goes on.
  const back = await agentFor(hub, dir);
  t.teardown(() => back.close());
  await delivered('the queue to flush');
  t.equal(hub.engine.lastSignOfLife('h1'), at('15:00'), 'every queued sign of life reached the rules');
  await live(back, at('15:10'), at('16:00'), true);
  await delivered('the afternoon delivered');
  await hub.notifier.idle();

  t.equal(hub.ingest.stats().events, published, `0 lost events: all ${published} ingested`);
  t.same(hub.ingest.stats().rejected, {}, 'nothing refused: 6 h late is well inside the 7-day bound');
  t.same(dataLate().map((f) => f.state), ['raised', 'cleared'], 'exactly 1 operator "data late", cleared once caught up');
  t.same(hub.recentFindings().filter((f) => f.audience === 'family'), [], '0 family "no sign of life" caused by the gap, no all-clear either');
  const alerts = await hub.store.listAlerts({ homeId: 'h1' });
  t.same(alerts.map((a) => `${a.rule}:${a.status}`), ['data-late:resolved'], 'one alert, the operator\'s, resolved by catching up');
  t.equal(hub.localTwilio!.messages().filter((m) => m.to === taro).length, 0, '0 SMS to the family');
  t.equal(hub.localTwilio!.messages().filter((m) => m.to === operator).length, 2, 'the operator: "late", then "caught up"');
});
