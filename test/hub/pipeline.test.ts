/**
 * End to end through real parts: an edge agent publishes over MQTT to the
 * hub's broker; ingest validates and de-duplicates; the rule engine (virtual
 * time) raises findings; the notifier sends SMS through the real twilio
 * client to the local Twilio-compatible server; InfluxDB keeps the history.
 */
import t from 'tap';
import { join } from 'node:path';
import { InfluxDB } from 'influx';
import mqtt from 'mqtt';
import { systemClock, VirtualClock } from '../../core/clock.js';
import { hashPassword } from '../../dashboards/passwords.js';
import { newTotpSecret } from '../../dashboards/totp.js';
import { password, signIn } from '../dashboards/helpers.js';
import { silentLogger } from '../../core/logger.js';
import { toLocalIso } from '../../core/time.js';
import { provisionDevice } from '../../broker/device-credentials.js';
import { createEdgeAgent } from '../../edge/agent.js';
import { startHub, type Hub } from '../../cli/hub.js';
import { freePort, tempDir, testConfig, until } from './helpers.js';

const tz = 'Asia/Tokyo';
const start = Date.parse('2026-11-21T06:00:00+09:00');

async function provisionHome(hub: Hub, home: string) {
  await hub.store.createHome({ id: home, name: 'Yamada', timezone: tz });
  await hub.store.addResident({ homeId: home, name: '山田 花子', language: 'ja', birthYear: 1940 });
  await hub.store.addContact({ homeId: home, name: '山田 太郎', role: 'family', phone: '+819012340001', language: 'ja', priority: 1 });
  await hub.store.addContact({ homeId: home, name: 'Ken', role: 'family', phone: '+819012340002', language: 'en', priority: 2 });
}

t.test('help button: from the device to an SMS in both languages, and into InfluxDB', async (t) => {
  const dir = tempDir(t);
  const clock = new VirtualClock(start);
  const hub = await startHub({ config: testConfig(dir), logger: silentLogger(), clock, http: true });
  t.teardown(() => hub.close());
  await provisionHome(hub, 'h1');
  const creds = await provisionDevice(hub.store, { homeId: 'h1', deviceId: 'help-button', kind: 'button' });
  const agent = await createEdgeAgent({ url: hub.mqttUrl, home: 'h1', device: 'help-button', secret: creds.secret, queueDir: join(dir, 'q'), logger: silentLogger() });
  t.teardown(() => agent.close());

  await agent.publishEvent({ id: 'b-1', ts: toLocalIso(start, tz), kind: 'button', press: 'help' });
  await until(() => agent.pending() === 0, 20_000, 'the edge queue to drain');
  // The default policy calls the family first (voice, then SMS if the call does not reach them).
  await until(() => hub.localTwilio!.calls().length >= 2, 10_000, 'two calls');
  const calls = hub.localTwilio!.calls();
  t.same(calls.map((c) => c.to).sort(), ['+819012340001', '+819012340002'], 'both family members are called');
  const twiml = calls.map((c) => c.twiml ?? '').join('\n');
  t.match(twiml, /ja-JP/, 'the Japanese-speaking contact hears Japanese');
  t.match(twiml, /en-US/, 'the English-speaking contact hears English');
  t.match(twiml, /<Gather/, 'and can press 1 to acknowledge');
  const alerts = await hub.store.listAlerts({ homeId: 'h1' });
  t.equal(alerts.length, 1, 'one alert');
  t.equal(alerts[0]?.severity, 'critical');

  // The same event again (a resend after reconnect) is dropped by id: no new SMS, no repeat.
  await agent.publishEvent({ id: 'b-1', ts: toLocalIso(start, tz), kind: 'button', press: 'help' });
  await until(() => agent.pending() === 0, 20_000, 'the edge queue to drain');
  await until(() => hub.ingest.stats().duplicates >= 1, 5_000, 'duplicate counted');
  t.equal(hub.localTwilio!.calls().length, 2, 'no second call for a resent event');

  // The status page shows the alert to a signed-in operator (without a session: counts only, test/hub/status-privacy.test.ts).
  const opSecret = newTotpSecret();
  await hub.store.createAccount({ login: 'op', name: 'Op', role: 'operator', language: 'en', passwordHash: await hashPassword(password), totpSecret: opSecret, createdAt: start });
  const { cookie } = await signIn({ web: hub.webApp!, totp: { op: opSecret }, clock: systemClock }, 'op');
  const fetch = (url: string | URL) => globalThis.fetch(url, { headers: { cookie } });
  const html = await (await fetch(`${hub.statusPage!.url}?lang=en`)).text();
  t.match(html, /Open alerts/);
  t.match(html, /critical/);
  t.match(html, /Help button pressed/, 'the alert in English');
  const ja = await (await fetch(`${hub.statusPage!.url}?lang=ja`)).text();
  t.match(ja, /対応中のアラート/);
  t.match(ja, /緊急ボタン/, 'and in Japanese');
  // It refreshes its live region in place (no meta-refresh, which axe rates critical).
  t.notMatch(html, /http-equiv="refresh"/i, 'no meta-refresh');
  t.match(html, /<body data-live-poll="5000">[\s\S]*<div id="status-live" data-live-region>/, 'a polled live region');
  const script = await fetch(new URL('/static/app.js', hub.statusPage!.url));
  t.equal(script.status, 200, 'the page script is served on the status port');
  t.match(await script.text(), /applyLiveRegions/);
  const api = await (await fetch(new URL('/api/status', hub.statusPage!.url))).json() as { alerts: unknown[]; homes: unknown[] };
  t.equal(api.alerts.length, 1, 'the JSON status lists the alert');

  await hub.history.flush();
  const influx = new InfluxDB({ host: new URL(hub.influxUrl).hostname, port: Number(new URL(hub.influxUrl).port), database: hub.config.influx.database });
  const rows = await influx.query('SELECT count(*) FROM "event"');
  t.ok(rows.length > 0, 'events are in InfluxDB');
  const findings = await influx.query('SELECT * FROM "finding"');
  t.ok(findings.length >= 1, 'findings are in InfluxDB');
});

t.test('no sign of life in virtual time raises warning then critical, and clears on activity', async (t) => {
  const dir = tempDir(t);
  const clock = new VirtualClock(start);
  const hub = await startHub({ config: testConfig(dir), logger: silentLogger(), clock, http: false });
  t.teardown(() => hub.close());
  await provisionHome(hub, 'h2');
  const creds = await provisionDevice(hub.store, { homeId: 'h2', deviceId: 'motion-kitchen', kind: 'motion' });
  const agent = await createEdgeAgent({ url: hub.mqttUrl, home: 'h2', device: 'motion-kitchen', secret: creds.secret, queueDir: join(dir, 'q'), logger: silentLogger() });
  t.teardown(() => agent.close());

  const morning = start + 2 * 3600_000; // 08:00
  clock.advanceTo(morning);
  await agent.publishEvent({ id: 'm-1', ts: toLocalIso(morning, tz), kind: 'motion', occupied: true, room: 'kitchen' });
  await until(() => agent.pending() === 0, 20_000, 'the edge queue to drain');
  await until(() => hub.engine.lastSignOfLife('h2') === morning, 5_000, 'the motion reaches the rules');

  const family = () => hub.recentFindings().filter((f) => f.home === 'h2' && f.audience === 'family');
  clock.advanceBy(2 * 3600_000);
  t.equal(family().length, 0, 'the family hears nothing after two hours');
  clock.advanceBy(5 * 3600_000);
  t.notOk(hub.recentFindings().some((f) => f.home === 'h2' && f.type === 'deviceSilent'), 'nothing for the operator: one event-only sensor quiet for 7 h is no device fault (the whole home is judged after homeSilentMinutes; docs/rules.md)');
  const raised = family().filter((f) => f.state === 'raised');
  t.ok(raised.some((f) => f.severity === 'warning'), 'warning raised');
  t.ok(raised.some((f) => f.severity === 'critical'), 'critical raised');
  t.ok(raised.every((f) => f.expected.en.length > 0 && f.observed.ja.length > 0), 'every finding explains itself in both languages');
  await until(async () => (await hub.store.listAlerts({ homeId: 'h2' })).some((a) => a.rule === 'no-sign-of-life'), 5_000, 'an alert');
  await until(() => hub.localTwilio!.messages().length >= 2, 5_000, 'SMS to the family');

  const later = clock.now();
  await agent.publishEvent({ id: 'm-2', ts: toLocalIso(later, tz), kind: 'motion', occupied: true, room: 'kitchen' });
  await until(() => agent.pending() === 0, 20_000, 'the edge queue to drain');
  await until(() => family().some((f) => f.state === 'cleared'), 5_000, 'cleared');
  // The alert resolves once the finding has stayed clear for the notifier's flap window (docs/escalation.md).
  await hub.notifier.idle();
  clock.advanceBy(5 * 60_000);
  await until(async () => (await hub.store.listAlerts({ homeId: 'h2', status: 'resolved' })).some((a) => a.rule === 'no-sign-of-life'), 5_000, 'alert resolved');
});

t.test('edge queue: hub down, then up — every event arrives exactly once in InfluxDB', async (t) => {
  const dir = tempDir(t);
  const port = await freePort();
  const clock = new VirtualClock(start);
  const config = testConfig(dir, { broker: { tcpPort: port, tlsPort: 0, wsPort: 0 } });
  // Provision with the hub up, then take the hub down.
  let hub = await startHub({ config, logger: silentLogger(), clock, http: false });
  await provisionHome(hub, 'h3');
  const creds = await provisionDevice(hub.store, { homeId: 'h3', deviceId: 'power-meter', kind: 'power' });
  await hub.close();

  const agent = await createEdgeAgent({ url: `mqtt://127.0.0.1:${port}`, home: 'h3', device: 'power-meter', secret: creds.secret, queueDir: join(dir, 'q'), logger: silentLogger(), clientOptions: { reconnectPeriod: 100, connectTimeout: 1000 }, maxReconnectMs: 500 });
  t.teardown(() => agent.close());
  const n = 150;
  for (let i = 0; i < n; i++) {
    await agent.publishEvent({ id: `p-${i}`, ts: toLocalIso(start + i * 60_000, tz), kind: 'power', watts: 100 + i });
  }
  t.equal(agent.pending(), n, 'all queued on disk while the hub is down');

  // The hub comes back after the outage: every queued event is in its past (ts ahead of its clock is refused).
  clock.advanceTo(start + n * 60_000);
  hub = await startHub({ config, logger: silentLogger(), clock, http: false });
  t.teardown(() => hub.close());
  // Bounded: a slow hub start under load must fail the test clearly, never hang it.
  await until(() => agent.pending() === 0, 60_000, 'the edge queue to drain after the hub came back');
  t.equal(agent.pending(), 0, 'queue drained after the hub came back');
  await until(() => hub.ingest.stats().events >= n, 10_000, `all events ingested (${JSON.stringify(hub.ingest.stats())}, pending ${agent.pending()})`);
  await hub.history.flush();
  const influx = new InfluxDB({ host: '127.0.0.1', port: Number(new URL(hub.influxUrl).port), database: hub.config.influx.database });
  const rows = await influx.query<{ count: number }>(`SELECT count("watts") FROM "event" WHERE "home" = 'h3'`);
  t.equal(rows[0]?.count, n, 'exactly once in InfluxDB');
});

t.test('bad input over MQTT is refused with a reason, kept, and the hub keeps running', async (t) => {
  const dir = tempDir(t);
  const clock = new VirtualClock(start);
  const hub = await startHub({ config: testConfig(dir), logger: silentLogger(), clock, http: false });
  t.teardown(() => hub.close());
  await provisionHome(hub, 'h4');
  const creds = await provisionDevice(hub.store, { homeId: 'h4', deviceId: 'kettle', kind: 'kettle' });
  const client = await mqtt.connectAsync(hub.mqttUrl, { username: 'h4/kettle', password: creds.secret, reconnectPeriod: 0 });
  t.teardown(() => client.endAsync());
  const topic = 'mimamori/v1/homes/h4/devices/kettle/events';
  await client.publishAsync(topic, '{not json', { qos: 1 });
  await client.publishAsync(topic, JSON.stringify({ id: 'x1', ts: toLocalIso(start, tz), kind: 'toaster' }), { qos: 1 });
  await client.publishAsync(topic, JSON.stringify({ id: 'x2', ts: toLocalIso(start, tz), kind: 'kettle', state: 'boiling' }), { qos: 1 });
  await client.publishAsync(topic, JSON.stringify({ id: 'x3', ts: toLocalIso(start, tz), kind: 'kettle', state: 'on' }), { qos: 1 });
  await until(() => hub.ingest.stats().events >= 1, 5_000, 'the good event');
  const stats = hub.ingest.stats();
  t.equal(stats.events, 1, 'the valid event got through');
  t.same(stats.rejected, { malformed_json: 1, unknown_kind: 1, invalid_fields: 1 }, 'three rejected, each with its reason');
  const kept = await hub.store.listRejected(10);
  t.equal(kept.length, 3, 'rejected payloads are kept in the dead-letter table');
  t.equal(hub.engine.lastSignOfLife('h4'), start, 'and reached the rules');

  const bad = await mqtt.connectAsync(hub.mqttUrl, { username: 'h4/kettle', password: 'wrong', reconnectPeriod: 0 }).then(() => 'connected', (e: Error) => e.message);
  t.not(bad, 'connected', 'a wrong secret is refused');
});
