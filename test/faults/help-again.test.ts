/**
 * Fault scenario (issue 11): help pressed → alert → a family member resolves
 * it → help pressed again with a new event id. The second cry for help must
 * open a second alert and reach the family — through the real hub: edge
 * agent, MQTT broker, ingest, rules, notifier, local Twilio server.
 */
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { toLocalIso } from '../../core/time.js';
import { provisionDevice } from '../../broker/device-credentials.js';
import { createEdgeAgent } from '../../edge/agent.js';
import { startHub } from '../../cli/hub.js';
import { tempDir, testConfig, until } from '../hub/helpers.js';

const tz = 'Asia/Tokyo';
const start = Date.parse('2026-11-21T10:00:00+09:00');
const taro = '+819055550101';

async function helpHome(t: Test) {
  const dir = tempDir(t);
  const clock = new VirtualClock(start);
  const hub = await startHub({ config: testConfig(dir), logger: silentLogger(), clock, http: false });
  t.teardown(() => hub.close());
  await hub.store.createHome({ id: 'h1', name: '山田家', timezone: tz });
  await hub.store.addResident({ homeId: 'h1', name: '山田 花子', language: 'ja', birthYear: 1940 });
  await hub.store.addContact({ homeId: 'h1', name: '山田 太郎', role: 'family', phone: taro, language: 'ja', priority: 1 });
  const policy = await hub.notifier.getEscalationPolicy('h1');
  await hub.notifier.setEscalationPolicy('h1', { ...policy, tiers: policy.tiers.map((tier) => (tier.name === 'family' ? { ...tier, channels: ['sms'] } : tier)) });
  const creds = await provisionDevice(hub.store, { homeId: 'h1', deviceId: 'help-button', kind: 'button' });
  const agent = await createEdgeAgent({ url: hub.mqttUrl, home: 'h1', device: 'help-button', secret: creds.secret, queueDir: join(dir, 'q'), logger: silentLogger() });
  t.teardown(() => agent.close());
  const toTaro = () => hub.localTwilio!.messages().filter((m) => m.to === taro);
  const alerts = () => hub.store.listAlerts({ homeId: 'h1' });
  const [contact] = await hub.store.listContacts('h1').then((cs) => cs.filter((c) => c.phone === taro));
  /** The first press: one alert, one SMS to Taro; returns that alert. */
  const firstPress = async () => {
    await agent.publishEvent({ id: 'press-1', ts: toLocalIso(clock.now(), tz), kind: 'button', press: 'help' });
    await until(async () => (await alerts()).length === 1, 10_000, 'the first alert');
    await hub.notifier.idle();
    t.equal(toTaro().length, 1, 'the first press: one SMS to Taro');
    return (await alerts())[0]!;
  };
  return { hub, clock, agent, toTaro, alerts, contact: contact!, firstPress };
}

t.test('help, resolved, help again with a new event id: exactly 2 alerts and 2 SMS to the family', async (t) => {
  const { hub, clock, agent, toTaro, alerts, contact, firstPress } = await helpHome(t);
  const first = await firstPress();

  clock.advanceBy(5 * 60_000);
  const resolved = await hub.notifier.responder.resolve({ alertId: first.id, contactId: contact.id, via: 'dashboard', note: 'she is fine' });
  t.equal(resolved.ok, true, 'Taro resolves it');
  await hub.notifier.idle();
  t.equal(toTaro().length, 1, 'Taro resolved it himself: no notice to him');

  clock.advanceBy(10 * 60_000);
  await agent.publishEvent({ id: 'press-2', ts: toLocalIso(clock.now(), tz), kind: 'button', press: 'help' });
  await until(() => agent.pending() === 0, 20_000, 'the edge queue to drain');
  await until(async () => (await alerts()).length === 2, 10_000, 'a second alert');
  await hub.notifier.idle();

  const all = await alerts();
  t.same(all.map((a) => `${a.rule}:${a.status}:${a.severity}`), ['help-button:open:critical', 'help-button:resolved:critical'], 'exactly 2 alerts: the new one open');
  t.equal(hub.ingest.stats().events, 2, 'both presses ingested, none lost');
  t.equal(toTaro().length, 2, 'the second press: one more SMS to Taro');
  t.match(toTaro()[1]!.body, /緊急ボタン|助け|ヘルプ/, 'and it is the help alert');
  t.equal(hub.recentFindings().filter((f) => f.type === 'helpButton' && f.state === 'raised').length, 2, 'two raised findings, no all-clear in between');
  t.equal(hub.recentFindings().filter((f) => f.type === 'helpButton' && f.state === 'cleared').length, 0);
});

t.test('help, acknowledged, help again: the alert opens again and pages the family afresh', async (t) => {
  const { hub, clock, agent, toTaro, alerts, contact, firstPress } = await helpHome(t);
  const first = await firstPress();

  clock.advanceBy(2 * 60_000);
  const acked = await hub.notifier.responder.acknowledge({ alertId: first.id, contactId: contact.id, via: 'dashboard' });
  t.equal(acked.ok, true, 'Taro acknowledges it');
  await hub.notifier.idle();
  t.equal((await hub.store.getAlert(first.id))?.status, 'acknowledged');
  const afterAck = toTaro().length;

  clock.advanceBy(10 * 60_000);
  await agent.publishEvent({ id: 'press-2', ts: toLocalIso(clock.now(), tz), kind: 'button', press: 'help' });
  await until(() => agent.pending() === 0, 20_000, 'the edge queue to drain');
  await until(async () => (await hub.store.getAlert(first.id))?.status === 'open', 10_000, 'the alert to open again');
  await hub.notifier.idle();

  t.equal((await alerts()).length, 1, 'one alert, opened again (not a second one beside an acknowledged one)');
  t.equal(toTaro().length, afterAck + 1, 'the second press pages Taro again: exactly one more SMS');
  t.match(toTaro().at(-1)!.body, /緊急ボタン/, 'and it is the help alert, with the new time');
  const actions = (await hub.store.listAudit(first.id)).map((a) => a.action);
  t.equal(actions.filter((a) => a === 'alert.reopen').length, 1, 'the timeline says it opened again');
  t.equal(hub.ingest.stats().events, 2, 'both presses ingested, none lost');
});
