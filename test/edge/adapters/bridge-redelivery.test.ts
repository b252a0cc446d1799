/**
 * The home broker redelivers messages whose PUBACK it never got — a bridge
 * killed before its socket flushed them. The bridge had already taken them
 * in (the door's state moved on, the events are at the hub), so a
 * redelivery must derive nothing: deriving "open" again against a door
 * remembered closed would send a change that never happened.
 */
import t from 'tap';
import mqtt from 'mqtt';
import { silentLogger } from '../../../core/logger.js';
import { createDeviceBridge, parseDeviceMap } from '../../../edge/adapters/index.js';
import { startBridgeHub } from '../../support/bridge-hub.js';
import { startAckProxy } from '../../support/mqtt-ack-proxy.js';
import { tempDir, until } from '../../support/wait.js';

t.test('messages redelivered after lost PUBACKs reach the hub once', async (t) => {
  const { mosquitto, h, secrets, events } = await startBridgeHub(t, { 'front-door': 'door' });
  const proxy = await startAckProxy(t, mosquitto.url);
  const map = parseDeviceMap({ home: 'h1', devices: [{ adapter: 'zigbee2mqtt', native: 'front_door', device: 'front-door', role: 'door', door: 'front', secret: secrets['front-door'] }] });
  const bridge = await createDeviceBridge({ map, localUrl: proxy.url, hubUrl: h.url(), stateDir: tempDir(t, 'mimamori-redelivery-'), clock: h.clock, logger: silentLogger(), localClientOptions: { reconnectPeriod: 50 }, hubClientOptions: { reconnectPeriod: 50 } });
  t.teardown(() => bridge.close());
  await until(() => bridge.localConnected(), 10_000, 'bridge subscribed');

  const device = await mqtt.connectAsync(mosquitto.url, { clientId: 'front-door-sensor', reconnectPeriod: 0 });
  t.teardown(() => device.endAsync(true));
  proxy.dropAcks = true;
  // Opened, then closed: both taken in and sent on, neither acknowledged to the home broker.
  await device.publishAsync('zigbee2mqtt/front_door', JSON.stringify({ contact: false, battery: 90 }), { qos: 1 });
  await device.publishAsync('zigbee2mqtt/front_door', JSON.stringify({ contact: true, battery: 90 }), { qos: 1 });
  await until(() => events().length === 2, 10_000, 'both changes at the hub');
  await until(() => proxy.dropped() === 2, 10_000, 'both PUBACKs lost');

  proxy.dropAcks = false;
  proxy.cut();
  await until(() => bridge.stats().received + bridge.stats().redelivered === 4, 10_000, 'the home broker redelivering both');
  await bridge.settled();
  await bridge.drained();
  t.equal(bridge.stats().redelivered, 2, 'both recognised as redeliveries');
  t.equal(bridge.stats().received, 2, 'the redeliveries are not taken in again');
  t.same(events().map((e) => (e.kind === 'door' ? e.open : undefined)), [true, false], 'one opening and one closing, nothing more');

  // And the next message is a new change.
  await device.publishAsync('zigbee2mqtt/front_door', JSON.stringify({ contact: false, battery: 90 }), { qos: 1 });
  await until(() => events().length === 3, 10_000, 'the next opening');
  t.match(events()[2], { kind: 'door', open: true });
});
