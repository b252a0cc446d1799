/**
 * A bridge killed in the middle of one message leaves what it had written:
 * the device's new state and that message's events with their ids (the
 * outbox in `role-state.json`), with or without a copy already in the disk
 * queue. The next run queues the outbox again with the same ids and the
 * home broker redelivers the unacknowledged message: exactly one event
 * reaches the hub, whatever instant the kill hit.
 */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { silentLogger } from '../../../core/logger.js';
import { toLocalIso } from '../../../core/time.js';
import { createDeviceBridge, parseDeviceMap } from '../../../edge/adapters/index.js';
import { startBridgeHub } from '../../support/bridge-hub.js';
import { tempDir, until } from '../../support/wait.js';

t.test('the outbox of a killed bridge: its events reach the hub exactly once', async (t) => {
  const { mosquitto, h, ingest, secrets, events } = await startBridgeHub(t, { 'front-door': 'door' });
  const secret = secrets['front-door'];

  const stateDir = tempDir(t, 'mimamori-outbox-');
  const stateFile = join(stateDir, 'role-state.json');
  const map = parseDeviceMap({ home: 'h1', devices: [{ adapter: 'zigbee2mqtt', native: 'front_door', device: 'front-door', role: 'door', door: 'front', secret }] });
  const open = () => createDeviceBridge({ map, localUrl: mosquitto.url, hubUrl: h.url(), stateDir, clock: h.clock, logger: silentLogger(), hubClientOptions: { reconnectPeriod: 50 } });

  // What the kill left: the door remembered open, and the event of that message not yet queued.
  const opened = { kind: 'door', open: true, door: 'front', id: 'front-door-killed-1', ts: toLocalIso(h.clock.now(), 'Asia/Tokyo') };
  const killedState = JSON.stringify({ version: 2, devices: { 'front-door': { open: true } }, outbox: { 'front-door': [opened] } });
  writeFileSync(stateFile, killedState);
  let bridge = await open();
  await until(() => bridge.localConnected(), 10_000, 'bridge subscribed');
  await until(() => events().length === 1, 10_000, 'the outbox event at the hub');
  t.match(events()[0], { id: 'front-door-killed-1', kind: 'door', open: true, device: 'front-door' });
  t.same(JSON.parse(readFileSync(stateFile, 'utf8')).outbox, {}, 'the outbox is emptied once queued');

  // The home broker redelivers the message the killed bridge never acknowledged: nothing new from it.
  const device = await mqtt.connectAsync(mosquitto.url, { clientId: 'front-door-sensor', reconnectPeriod: 0 });
  t.teardown(() => device.endAsync(true));
  const taken = bridge.stats().received;
  await device.publishAsync('zigbee2mqtt/front_door', JSON.stringify({ contact: false, battery: 90 }), { qos: 1 });
  await until(() => bridge.stats().received === taken + 1, 10_000, 'the redelivered message taken');
  await bridge.settled();
  await bridge.drained();
  t.equal(bridge.stats().events, 0, 'the redelivery derives no second opening');

  // Killed later, after the copy reached the disk queue but before the outbox was emptied: the same id twice, the hub keeps one.
  await bridge.close();
  writeFileSync(stateFile, killedState);
  bridge = await open();
  await bridge.drained();
  await until(() => ingest.stats().duplicates === 1, 10_000, 'the second copy dropped by the hub');
  t.equal(events().length, 1, 'exactly one door opening at the hub');

  // And life goes on: the door closes.
  await device.publishAsync('zigbee2mqtt/front_door', JSON.stringify({ contact: true, battery: 90 }), { qos: 1 });
  await until(() => events().length === 2, 10_000, 'the closing');
  t.match(events()[1], { kind: 'door', open: false });
  await bridge.close();
});
