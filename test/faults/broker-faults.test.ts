/**
 * Fault scenarios at the hub's edges, over the real hub (real MQTT sockets,
 * real SQLite, the managed influxd), each with exact counts:
 * a lockout attack on a help button, retained publishes across a restart,
 * and influxd killed with SIGKILL.
 */
import t from 'tap';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { toLocalIso } from '../../core/time.js';
import { eventTopic } from '../../core/topics.js';
import { provisionDevice } from '../../broker/device-credentials.js';
import { startHub, type Hub } from '../../cli/hub.js';
import { connect, endAllClients } from '../broker/helpers.js';
import { client, countPoints } from '../history/fixtures/helpers.js';
import { tempDir, testConfig, until } from '../hub/helpers.js';

const tz = 'Asia/Tokyo';
const start = Date.parse('2026-11-21T09:00:00+09:00');
const ts = toLocalIso(start, tz);

async function provisionHome(hub: Hub) {
  await hub.store.createHome({ id: 'h1', name: 'Yamada', timezone: tz });
  await hub.store.addResident({ homeId: 'h1', name: '山田 花子', language: 'ja', birthYear: 1940 });
  await hub.store.addContact({ homeId: 'h1', name: '山田 太郎', role: 'family', phone: '+819012340001', language: 'ja', priority: 1 });
}

const helpAlerts = async (hub: Hub) => (await hub.store.listAlerts({ homeId: 'h1' })).filter((a) => a.rule === 'help-button');

t.test('lockout attack on a help button: the device keeps being watched', async (t) => {
  const dir = tempDir(t);
  const hub = await startHub({ config: testConfig(dir), logger: silentLogger(), clock: new VirtualClock(start), http: false });
  t.teardown(async () => { await endAllClients(); await hub.close(); });
  await provisionHome(hub);
  const button = await provisionDevice(hub.store, { homeId: 'h1', deviceId: 'help-button', kind: 'button' });

  // 20 wrong passwords for the button's client id from 127.0.0.2 (default policy: 5 checked, then back-off).
  let bad = 0, backedOff = 0;
  for (let i = 0; i < 20; i++) {
    await connect(hub.mqttUrl, { from: '127.0.0.2', clientId: 'h1/help-button', username: button.username, password: `guess-${i}` })
      .then(() => t.fail('a guess connected'), (err: Error) => { if (/Not authorized/i.test(err.message)) backedOff++; else bad++; });
  }
  t.equal(bad, 5, 'five guesses checked and refused');
  t.equal(backedOff, 15, 'fifteen refused unchecked while the attacker waits');

  // The real button at 127.0.0.1 connects at once and its help press opens exactly one alert.
  const real = await connect(hub.mqttUrl, { clientId: 'h1/help-button', username: button.username, password: button.secret });
  await real.publishAsync(eventTopic('h1', 'help-button'), JSON.stringify({ id: 'press-1', ts, kind: 'button', press: 'help' }), { qos: 1 });
  await until(async () => (await helpAlerts(hub)).length === 1, 10_000, 'the help alert');
  t.equal(hub.ingest.stats().events, 1, 'its event was accepted');
  t.equal((await helpAlerts(hub)).length, 1, 'one help alert opened');
  const stats = hub.broker.stats();
  t.equal(stats.authFailures, 5);
  t.equal(stats.lockedOutLogins, 15);
  t.equal(stats.lockouts, 1, 'only the (client id, attacker address) pair is on back-off');
});

t.test('retained publishes across a restart: 0 messages replayed, 0 alerts re-opened, even after the event id is pruned', async (t) => {
  const dir = tempDir(t);
  const clock = new VirtualClock(start);
  let hub = await startHub({ config: testConfig(dir), logger: silentLogger(), clock, http: false });
  t.teardown(async () => { await endAllClients(); await hub.close(); });
  await provisionHome(hub);
  const button = await provisionDevice(hub.store, { homeId: 'h1', deviceId: 'help-button', kind: 'button' });
  const kettle = await provisionDevice(hub.store, { homeId: 'h1', deviceId: 'kettle', kind: 'kettle' });

  // A device that retains what it publishes (Tasmota-style).
  const dev = await connect(hub.mqttUrl, { clientId: 'h1/help-button', username: button.username, password: button.secret });
  await dev.publishAsync(eventTopic('h1', 'help-button'), JSON.stringify({ id: 'press-old', ts, kind: 'button', press: 'help' }), { qos: 1, retain: true });
  await until(async () => (await helpAlerts(hub)).length === 1, 10_000, 'the help alert');
  t.equal(hub.broker.stats().retainStripped, 1);
  const [alert] = await helpAlerts(hub);
  await hub.store.updateAlertStatus(alert!.id, 'resolved', clock.now());
  await dev.endAsync();
  // Seven days on, the event id is pruned from de-duplication.
  t.equal(await hub.store.pruneSeenEvents(Number.MAX_SAFE_INTEGER), 1);
  await hub.close();

  hub = await startHub({ config: testConfig(dir), logger: silentLogger(), clock, http: false });
  // Barrier: a fresh event from another device; a replayed retained message would have come first.
  const k = await connect(hub.mqttUrl, { clientId: 'h1/kettle', username: kettle.username, password: kettle.secret });
  await k.publishAsync(eventTopic('h1', 'kettle'), JSON.stringify({ id: 'k-1', ts, kind: 'kettle', state: 'on' }), { qos: 1 });
  await until(() => hub.ingest.stats().events === 1, 10_000, 'the kettle event');
  t.equal(hub.ingest.stats().received, 1, '0 retained messages replayed after the restart');
  t.same((await helpAlerts(hub)).map((a) => a.status), ['resolved'], '0 help alerts re-opened');
});

t.test('influxd killed with SIGKILL: restarted, 0 points lost, health reported without personal data', async (t) => {
  const dir = tempDir(t);
  const clock = new VirtualClock(start);
  const hub = await startHub({ config: testConfig(dir, { flows: { enabled: false } }), logger: silentLogger(), clock, http: true });
  t.teardown(() => hub.close());
  await provisionHome(hub);
  const health = async () => {
    const res = await fetch(new URL('/health', hub.statusPage!.url));
    return { status: res.status, text: await res.text() };
  };
  const kettle = (i: number) => hub.acceptReading({ kind: 'kettle', state: i % 2 === 0 ? 'on' : 'off', id: `k-${i}`, ts: toLocalIso(start + i * 1000, tz), home: 'h1', device: 'kettle', at: start + i * 1000 });

  const before = await health();
  t.equal(before.status, 200);
  const parts = (JSON.parse(before.text) as { parts: Record<string, { state: string }> }).parts;
  t.same(Object.keys(parts).sort(), ['broker', 'flows', 'history', 'influxd', 'ingest', 'notifier', 'rules', 'video', 'web']);
  t.same(Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, v.state])), {
    broker: 'up', ingest: 'up', rules: 'up', history: 'up', influxd: 'up', notifier: 'up', web: 'up', flows: 'off', video: 'up',
  });

  for (let i = 0; i < 20; i++) kettle(i);
  await hub.history.flush();
  const influxd = hub.influxd!;
  process.kill(influxd.pid, 'SIGKILL');
  await until(() => influxd.health().state === 'restarting', 10_000, 'the supervisor to see influxd die');
  const down = await health();
  t.equal(down.status, 503, 'not ok while influxd is down');
  t.match(JSON.parse(down.text), { ok: false, parts: { influxd: { state: 'down', detail: { exits: 1 } } } });
  for (let i = 20; i < 50; i++) kettle(i);
  await hub.history.flush();
  await until(() => influxd.health().state === 'up', 30_000, 'influxd to be restarted');
  await hub.history.flush();
  t.equal(hub.history.stats().buffered, 0);
  t.equal(await countPoints(client(hub.influxUrl, hub.config.influx.database), 'event', 'id'), 50, 'every reading exactly once');
  const after = await health();
  t.equal(after.status, 200);
  t.match(JSON.parse(after.text), { ok: true, parts: { influxd: { state: 'up', detail: { restarts: 1, exits: 1, troubled: false } } } });
  for (const secret of ['Yamada', '山田', '+8190', 'h1', 'kettle']) t.notOk(down.text.includes(secret) || after.text.includes(secret), `no "${secret}" in /health`);
});

t.test('influxd that keeps dying: the operator gets exactly one SMS, the family none', async (t) => {
  const dir = tempDir(t);
  const clock = new VirtualClock(start);
  const operatorPhone = '+819099998888';
  const hub = await startHub({ config: testConfig(dir, { operatorPhone, flows: { enabled: false } }), logger: silentLogger(), clock, http: true });
  t.teardown(() => hub.close());
  await provisionHome(hub);
  const influxd = hub.influxd!;
  // Three deaths within ten minutes (the default) are "keeps dying".
  for (let death = 1; death <= 3; death++) {
    process.kill(influxd.pid, 'SIGKILL');
    await until(() => influxd.health().restarts === death && influxd.health().state === 'up', 60_000, `restart ${death}`);
  }
  await until(async () => (await hub.store.listAlerts({ homeId: 'hub' })).length === 1, 10_000, 'the operator alert');
  await hub.notifier.idle();
  const alerts = await hub.store.listAlerts({ homeId: 'hub' });
  t.same(alerts.map((a) => [a.rule, a.severity, a.status]), [['influxd-trouble', 'warning', 'open']]);
  const sms = hub.localTwilio!.messages();
  t.same(sms.map((m) => m.to), [operatorPhone], 'one SMS, to the operator');
  t.match(sms[0]?.body, /influxd/);
  t.equal((await hub.store.listAlerts({ homeId: 'h1' })).length, 0, 'nothing for the family');
  t.match(influxd.health(), { restarts: 3, exits: 3, troubled: true });
});
