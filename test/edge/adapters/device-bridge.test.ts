/**
 * End to end, with real parts: a real mosquitto (the home broker) carrying
 * zigbee2mqtt / Shelly / Tasmota payloads → the device bridge → the hub's
 * broker (aedes, per-device logins) → the hub's ingest. The hub goes away and
 * comes back, the bridge is stopped mid-stream and started again: every event
 * arrives exactly once at the ingest, and nothing else does.
 */
import t from 'tap';
import mqtt, { type MqttClient } from 'mqtt';
import type { HomeEvent, Reading } from '../../../core/events.js';
import { silentLogger } from '../../../core/logger.js';
import { provisionDevice, provisionService } from '../../../broker/device-credentials.js';
import { createIngest, type Ingest } from '../../../broker/ingest.js';
import { createDeviceBridge, parseDeviceMap, type DeviceBridge, type DeviceMapInput } from '../../../edge/adapters/index.js';
import { startBroker } from '../../broker/helpers.js';
import { startMosquitto } from '../../support/mosquitto.js';
import { freePort, tempDir, until } from '../../support/wait.js';

const roles = { 'bath-motion': 'motion', kettle: 'kettle', 'front-door': 'door', 'bath-water': 'water', 'help-button': 'button', 'living-climate': 'climate' } as const;

function mapInput(secrets: Record<string, string>): DeviceMapInput {
  return {
    home: 'h1', timezone: 'Asia/Tokyo', heartbeatMinutes: 10,
    devices: [
      { adapter: 'zigbee2mqtt', native: 'bath/motion', device: 'bath-motion', role: 'motion', room: 'bath', secret: secrets['bath-motion'] },
      { adapter: 'zigbee2mqtt', native: 'kettle_plug', device: 'kettle', role: 'kettle', threshold: { on: 800, off: 60 }, secret: secrets.kettle },
      { adapter: 'shelly', native: 'shellyplusi4-0123456789ab', device: 'front-door', role: 'door', door: 'front', secret: secrets['front-door'] },
      { adapter: 'tasmota', native: 'water-meter', device: 'bath-water', role: 'water', litresPerPulse: 1, secret: secrets['bath-water'] },
      { adapter: 'zigbee2mqtt', native: '0x00158d0001a2b3c4', device: 'help-button', role: 'button', secret: secrets['help-button'] },
      { adapter: 'shelly', native: 'shellyplusht-aabbccddeeff', device: 'living-climate', role: 'climate', secret: secrets['living-climate'] },
    ],
  };
}

t.test('home broker → bridge → hub: exact events through a hub restart and a bridge restart', async (t) => {
  const mosquitto = await startMosquitto(t);
  const hubPort = await freePort();
  const h = await startBroker({ tcpPort: hubPort, requireService: 'ingest' });
  t.teardown(() => h.close());
  await h.store.createHome({ id: 'h1', name: 'home one', timezone: 'Asia/Tokyo' });
  const secrets: Record<string, string> = {};
  for (const [device, kind] of Object.entries(roles)) secrets[device] = (await provisionDevice(h.store, { homeId: 'h1', deviceId: device, kind })).secret;
  const svc = await provisionService(h.store, 'ingest');

  const got: Reading[] = [];
  let ingest: Ingest | undefined;
  const startIngest = async () => {
    ingest = await createIngest({ url: `mqtt://127.0.0.1:${hubPort}`, username: svc.username, password: svc.secret, store: h.store, logger: silentLogger(), clock: h.clock });
    ingest.readings.subscribe((r) => got.push(r));
  };
  await startIngest();
  t.teardown(() => ingest?.close());

  const stateDir = tempDir(t, 'mimamori-bridge-');
  // One clock for the devices and the hub: the ingest bounds event time against it (docs/protocol.md).
  const clock = h.clock;
  const map = parseDeviceMap(mapInput(secrets));
  const fast = { reconnectPeriod: 50, connectTimeout: 2000 };
  const openBridge = () => createDeviceBridge({ map, localUrl: mosquitto.url, hubUrl: `mqtt://127.0.0.1:${hubPort}`, stateDir, clock, logger: silentLogger(), hubClientOptions: fast, localClientOptions: { reconnectPeriod: 100 } });
  let bridge: DeviceBridge = await openBridge();
  t.teardown(() => bridge.close());
  await until(() => bridge.localConnected(), 10_000, 'bridge subscribed to the home broker');

  const devicePublisher: MqttClient = await mqtt.connectAsync(mosquitto.url, { clientId: 'home-devices', reconnectPeriod: 0 });
  t.teardown(() => devicePublisher.endAsync(true));
  const seen = () => bridge.stats().received + bridge.stats().unmapped;
  /** Publishes like a device; while the bridge is up, waits until it took the message, so each is read at its own virtual time. */
  const send = async (topic: string, payload: string | object, waitForBridge = true) => {
    clock.advanceBy(5_000);
    const before = seen();
    await devicePublisher.publishAsync(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), { qos: 1 });
    if (waitForBridge) await until(() => seen() > before, 10_000, `the bridge took ${topic}`);
  };
  const events = () => got.filter((r): r is HomeEvent => r.kind !== 'heartbeat');
  const door = (closed: boolean, waitForBridge = true) => send('shellyplusi4-0123456789ab/status/input:0', { id: 0, state: closed }, waitForBridge);

  // ── Everything up: a morning.
  await send('zigbee2mqtt/bath/motion', { occupancy: true, battery: 90, linkquality: 110 });
  await send('tele/water-meter/SENSOR', { Time: '2026-11-21T07:00:05', COUNTER: { C1: 1000 } });
  await send('tele/water-meter/SENSOR', { Time: '2026-11-21T07:00:10', COUNTER: { C1: 1001 } });
  await send('tele/water-meter/SENSOR', { Time: '2026-11-21T07:00:15', COUNTER: { C1: 1001 } });
  await send('zigbee2mqtt/kettle_plug', { state: 'ON', power: 2, linkquality: 150 });
  await send('zigbee2mqtt/kettle_plug', { state: 'ON', power: 1210, linkquality: 150 });
  await send('zigbee2mqtt/kettle_plug', { state: 'ON', power: 700, linkquality: 150 }); // in the hysteresis band: still on
  await send('zigbee2mqtt/kettle_plug', { state: 'ON', power: 3, linkquality: 150 });
  await door(true);
  await door(false);
  await send('zigbee2mqtt/0x00158d0001a2b3c4', { action: 'single', battery: 97 });
  await send('shellyplusht-aabbccddeeff/events/rpc', { src: 'shellyplusht-aabbccddeeff', method: 'NotifyStatus', params: { ts: 1, 'temperature:0': { id: 0, tC: 15.2 }, 'humidity:0': { id: 0, rh: 55 } } });
  // Garbage and strangers: counted, listed, never forwarded.
  await send('zigbee2mqtt/kettle_plug', '{"power": 12');
  await send('tele/water-meter/SENSOR', { Time: 'x', Switch1: 'ON' });
  await send('zigbee2mqtt/garage_sensor', { contact: true });
  await send('tele/unknown-plug/SENSOR', { ENERGY: { Power: 5 } });
  // motion, water on + off, kettle off (first seen) / on / off, door closed / open, button, climate
  await until(() => events().length === 10, 20_000, '10 morning events at the hub');
  t.same(events().map((e) => `${e.device}:${e.kind}`), [
    'bath-motion:motion', 'bath-water:water', 'bath-water:water', 'kettle:kettle', 'kettle:kettle', 'kettle:kettle',
    'front-door:door', 'front-door:door', 'help-button:button', 'living-climate:climate',
  ], 'in order');
  t.match(events().find((e) => e.kind === 'water' && e.flowing), { rate: 12 }, 'one 1-litre pulse in 5 s is 12 L/min');
  t.same(events().filter((e) => e.kind === 'kettle').map((e) => (e.kind === 'kettle' ? e.state : '')), ['off', 'on', 'off']);
  t.match(events().find((e) => e.kind === 'button'), { press: 'help', device: 'help-button', home: 'h1' });
  t.match(events().find((e) => e.kind === 'climate'), { celsius: 15.2, humidity: 55 });
  t.match(bridge.stats(), { rejected: { malformed_json: 1, unknown_payload: 1 }, unmapped: 2, unusedFacts: 0 });
  await send('zigbee2mqtt/0x00158d0001a2b3c4', { action: 'triple' });
  t.equal(bridge.stats().unusedFacts, 1, 'an action nobody mapped is counted, not sent');
  t.same(bridge.unmapped().map((u) => `${u.adapter}:${u.native}`).sort(), ['tasmota:unknown-plug', 'zigbee2mqtt:garage_sensor']);
  t.match(bridge.devices().find((d) => d.device === 'kettle'), { rejected: 1, messages: 5 });

  // ── Availability: offline is device health, not a heartbeat.
  const heartbeatsOf = (device: string) => got.filter((r) => r.kind === 'heartbeat' && r.device === device).length;
  const before = bridge.stats().heartbeats;
  await send('zigbee2mqtt/kettle_plug/availability', { state: 'offline' });
  await until(() => bridge.devices().find((d) => d.device === 'kettle')?.online === false, 10_000, 'kettle offline');
  t.equal(bridge.stats().heartbeats, before, 'no heartbeat for an offline device');
  clock.advanceBy(11 * 60_000);
  await send('zigbee2mqtt/kettle_plug/availability', { state: 'online' });
  await until(() => bridge.stats().heartbeats === before + 1, 10_000, 'a heartbeat when it is back');
  await until(() => heartbeatsOf('kettle') >= 1, 10_000, 'kettle heartbeat at the hub');

  // ── The hub goes away; the home keeps living.
  await ingest?.close();
  await h.broker.close();
  const receivedBefore = bridge.stats().received;
  await send('zigbee2mqtt/bath/motion', { occupancy: false, battery: 90, linkquality: 110 });
  await send('zigbee2mqtt/kettle_plug', { state: 'ON', power: 1500 });
  await send('zigbee2mqtt/kettle_plug', { state: 'ON', power: 10 });
  await door(true);
  await until(() => bridge.stats().received === receivedBefore + 4, 10_000, 'the bridge took 4 messages while the hub is away');
  await until(() => bridge.pending() === 4, 10_000, 'the 4 events wait on disk for the hub');

  // ── The bridge is stopped mid-stream: door after door, 40 changes in all.
  const stream = (async () => { for (let i = 0; i < 40; i++) await door(i % 2 === 1, false); })();
  await until(() => bridge.stats().received >= receivedBefore + 4 + 10, 10_000, 'part of the stream reached the bridge');
  await bridge.close();
  await stream; // the rest waits in mosquitto for the bridge's session

  await h.restart({ tcpPort: hubPort, requireService: 'ingest' });
  await startIngest();
  bridge = await openBridge();
  const expected = 10 + 4 + 40;
  await until(() => events().length === expected, 30_000, `${expected} events at the hub`);
  await bridge.drained();
  await until(() => bridge.pending() === 0, 10_000, 'queues drained');
  // A moment for anything extra to show up (it must not).
  await new Promise((r) => setTimeout(r, 300));
  const all = events();
  t.equal(all.length, expected, 'every event exactly once at the hub');
  t.equal(new Set(all.map((e) => `${e.device}/${e.id}`)).size, expected, 'ids unique');
  const doors = all.filter((e) => e.kind === 'door').map((e) => (e.kind === 'door' ? e.open : undefined));
  t.same(doors, [false, true, false, ...Array.from({ length: 40 }, (_, i) => i % 2 === 0)], 'every door change, in order, none repeated');
  t.same(all.filter((e) => e.kind === 'kettle').map((e) => (e.kind === 'kettle' ? e.state : '')), ['off', 'on', 'off', 'on', 'off']);
  t.ok(all.every((e) => e.home === 'h1'), 'each forwarded under its own device login');
});
