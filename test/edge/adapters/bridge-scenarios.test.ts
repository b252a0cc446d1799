/**
 * Real-device scenarios all the way to the rules: zigbee2mqtt / Tasmota /
 * Shelly payloads on a real mosquitto → device bridge → hub broker → ingest →
 * rule engine, in virtual time (one VirtualClock for the bridge, the ingest and
 * the rules; each step waits until the hub has every reading before time moves).
 */
import t, { type Test } from 'tap';
import mqtt from 'mqtt';
import type { Finding } from '../../../core/findings.js';
import type { Reading } from '../../../core/events.js';
import { silentLogger } from '../../../core/logger.js';
import { provisionDevice, provisionService } from '../../../broker/device-credentials.js';
import { createIngest } from '../../../broker/ingest.js';
import { createRuleEngine } from '../../../rules/index.js';
import { createDeviceBridge, parseDeviceMap, type DeviceBridge, type MappedDevice } from '../../../edge/adapters/index.js';
import { startBroker } from '../../broker/helpers.js';
import { startMosquitto } from '../../support/mosquitto.js';
import { tempDir, until } from '../../support/wait.js';

const minute = 60_000;

interface HomeUnderTest {
  h: Awaited<ReturnType<typeof startBroker>>;
  bridge: DeviceBridge;
  findings: Finding[];
  got: Reading[];
  /** Publishes like the devices do, then waits until the hub has everything the bridge made of it. */
  publish(messages: Array<[string, object | string]>): Promise<void>;
  raised(type: string): Finding[];
}

/** A hub (broker, ingest, rule engine) and a bridge on a real mosquitto, for one home with these mapped devices. */
async function startHome(t: Test, devices: Array<Omit<MappedDevice, 'secret'>>): Promise<HomeUnderTest> {
  const mosquitto = await startMosquitto(t);
  const h = await startBroker();
  t.teardown(() => h.close());
  await h.store.createHome({ id: 'h1', name: 'home one', timezone: 'Asia/Tokyo' });
  const secrets: Record<string, string> = {};
  for (const d of devices) secrets[d.device] = (await provisionDevice(h.store, { homeId: 'h1', deviceId: d.device, kind: d.role })).secret;
  const svc = await provisionService(h.store, 'ingest');
  const ingest = await createIngest({ url: h.url(), username: svc.username, password: svc.secret, store: h.store, logger: silentLogger(), clock: h.clock });
  t.teardown(() => ingest.close());
  const engine = await createRuleEngine({ clock: h.clock, logger: silentLogger() });
  t.teardown(() => engine.close());
  const findings: Finding[] = [];
  engine.findings.subscribe((f) => findings.push(f));
  const got: Reading[] = [];
  ingest.readings.subscribe((r) => { got.push(r); engine.ingest(r); });

  const map = parseDeviceMap({ home: 'h1', devices: devices.map((d) => ({ ...d, secret: secrets[d.device] })) });
  const bridge = await createDeviceBridge({ map, localUrl: mosquitto.url, hubUrl: h.url(), stateDir: tempDir(t, 'mimamori-scenario-'), clock: h.clock, logger: silentLogger(), hubClientOptions: { reconnectPeriod: 50 } });
  t.teardown(() => bridge.close());
  await until(() => bridge.localConnected(), 10_000, 'bridge subscribed');
  const home = await mqtt.connectAsync(mosquitto.url, { clientId: 'home-devices', reconnectPeriod: 0 });
  t.teardown(() => home.endAsync(true));
  return {
    h, bridge, findings, got,
    async publish(messages) {
      const before = bridge.stats().received;
      for (const [topic, payload] of messages) await home.publishAsync(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), { qos: 1 });
      await until(() => bridge.stats().received === before + messages.length, 10_000, 'the bridge took them');
      await bridge.settled();
      await bridge.drained();
      await until(() => got.length === bridge.stats().events + bridge.stats().heartbeats, 10_000, 'the hub has every reading');
    },
    raised: (type) => findings.filter((f) => f.type === type && f.state === 'raised'),
  };
}

t.test('a fall in the bath, a help button and a kettle plug gone offline, from real-device payloads', async (t) => {
  const { h, bridge, got, publish, raised } = await startHome(t, [
    { adapter: 'zigbee2mqtt', native: 'bath_motion', device: 'bath-motion', role: 'motion', room: 'bath' },
    { adapter: 'tasmota', native: 'water-meter', device: 'bath-water', role: 'water' },
    { adapter: 'zigbee2mqtt', native: 'kettle_plug', device: 'kettle', role: 'kettle' },
    { adapter: 'zigbee2mqtt', native: 'help_button', device: 'help-button', role: 'button' },
  ]);
  const t0 = h.clock.now();

  // 07:00 She goes into the bath; the kettle plug reports once and then its Zigbee router is unplugged.
  await publish([
    ['zigbee2mqtt/kettle_plug', { state: 'ON', power: 2, linkquality: 140 }],
    ['zigbee2mqtt/bath_motion', { occupancy: true, battery: 88, linkquality: 120 }],
    ['tele/water-meter/SENSOR', { Time: '2026-11-21T07:00:00', COUNTER: { C1: 5000 } }],
  ]);
  h.clock.advanceBy(30_000);
  await publish([['zigbee2mqtt/kettle_plug/availability', { state: 'offline' }], ['tele/water-meter/SENSOR', { Time: '2026-11-21T07:00:30', COUNTER: { C1: 5006 } }]]);
  h.clock.advanceBy(90_000);
  await publish([['zigbee2mqtt/bath_motion', { occupancy: false, battery: 88, linkquality: 120 }]]);
  t.same(got.filter((r) => r.kind !== 'heartbeat').map((r) => `${r.device}:${r.kind}`), ['kettle:kettle', 'bath-motion:motion', 'bath-water:water', 'bath-motion:motion']);

  // The water keeps running and nobody moves; the sensors keep reporting (battery, counter) every 5 minutes.
  let counter = 5006;
  for (let step = 1; step <= 26; step++) {
    h.clock.advanceBy(5 * minute);
    counter += 40;
    await publish([
      ['zigbee2mqtt/bath_motion', { occupancy: false, battery: 88, linkquality: 118 }],
      ['tele/water-meter/SENSOR', { Time: 'x', COUNTER: { C1: counter } }],
    ]);
  }
  const flow = raised('flowWithoutMotion');
  t.equal(flow.length, 1, 'one flow-without-motion finding');
  t.match(flow[0], { home: 'h1', severity: 'critical' });
  t.ok((flow[0]?.at ?? 0) >= t0 + 60 * minute && (flow[0]?.at ?? 0) <= t0 + 67 * minute, 'about an hour after the last motion');

  const silent = raised('deviceSilent');
  t.same(silent.map((f) => f.device), ['kettle'], 'only the offline kettle plug is a device-health finding; the talking sensors are not');
  t.match(silent[0], { audience: 'operator', severity: 'warning' });
  t.equal(bridge.devices().find((d) => d.device === 'kettle')?.online, false);

  // She presses the Aqara button.
  await publish([['zigbee2mqtt/help_button', { action: 'single', battery: 99 }]]);
  await until(() => raised('helpButton').length === 1, 10_000, 'help finding');
  t.match(raised('helpButton')[0], { home: 'h1', severity: 'critical' });
});

t.test('a Shelly door sensor at night: the front door opens at 02:00 and nobody comes back in', async (t) => {
  const { h, publish, raised, got } = await startHome(t, [
    { adapter: 'shelly', native: 'shellydw2-483FDA825FA2', device: 'front-door', role: 'door', door: 'front' },
    { adapter: 'zigbee2mqtt', native: 'hall_motion', device: 'hall-motion', role: 'motion', room: 'hall' },
  ]);
  h.clock.advanceBy(19 * 60 * minute); // 02:00 the next night
  await publish([['shellies/shellydw2-483FDA825FA2/sensor/battery', '91'], ['shellies/shellydw2-483FDA825FA2/sensor/state', 'open']]);
  h.clock.advanceBy(minute);
  await publish([['shellies/shellydw2-483FDA825FA2/sensor/state', 'close']]);
  t.same(got.filter((r) => r.kind === 'door').map((r) => (r.kind === 'door' ? [r.open, r.door] : [])), [[true, 'front'], [false, 'front']]);
  for (let i = 0; i < 4; i++) h.clock.advanceBy(5 * minute);
  t.equal(raised('nightDoor').length, 1, 'one night-door finding');
  t.match(raised('nightDoor')[0], { home: 'h1', severity: 'warning' });
});
