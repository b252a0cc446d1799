/**
 * The demo street through the device bridge (`npm start -- --via-bridge`):
 * each simulated home's sensors speak zigbee2mqtt, as bought devices do —
 * they publish zigbee2mqtt-format state messages to a real mosquitto (the
 * home broker), and one device bridge per home maps them to its mimamori
 * devices and forwards them to the hub, as a real installation does
 * (docs/devices.md "The demo street through the bridge").
 *
 * One mosquitto stands in for every home's own broker; each home's
 * zigbee2mqtt has its own base topic (`zigbee2mqtt/<home>`), so each bridge
 * hears its own home only.
 */
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { Clock } from '../core/clock.js';
import type { Reading } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import { createDeviceBridge, parseDeviceMap, type DeviceBridge, type MappedDevice } from '../edge/index.js';

/** The zigbee2mqtt base topic of a demo home. */
export const demoBaseTopic = (home: string) => `zigbee2mqtt/${home}`;

/**
 * A simulated reading as the zigbee2mqtt device of its kind would say it
 * (https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html):
 * a metering plug's `state`/`power`, a contact sensor's `contact` (true =
 * closed), an occupancy sensor, a water-leak style flow sensor, a button's
 * `action`, a temperature/humidity sensor; a heartbeat is a battery and link
 * quality report.
 */
export function zigbee2mqttPayload(r: Reading): Record<string, unknown> {
  switch (r.kind) {
    case 'heartbeat': return { ...(r.battery !== undefined ? { battery: r.battery } : {}), linkquality: 120 };
    case 'kettle': return { state: 'ON', power: r.watts ?? (r.state === 'on' ? 1200 : 0) };
    case 'power': return { state: 'ON', power: r.watts };
    case 'water':
    case 'gas': return { water_leak: r.flowing };
    case 'door': return { contact: !r.open };
    case 'motion': return { occupancy: r.occupied };
    case 'button': return { action: r.press === 'help' ? 'single' : 'double' };
    case 'climate': return { temperature: r.celsius, ...(r.humidity !== undefined ? { humidity: r.humidity } : {}) };
  }
}

/** What each simulated device is in its home's device map. */
function mapEntry(d: { device: string; kind: string }, secret: string): MappedDevice {
  const base = { adapter: 'zigbee2mqtt' as const, native: d.device, device: d.device, role: d.kind as MappedDevice['role'], secret };
  if (d.kind === 'motion' && d.device.startsWith('motion-')) return { ...base, room: d.device.slice('motion-'.length) };
  if (d.kind === 'door') return { ...base, door: 'front' };
  if (d.kind === 'power') return { ...base, minDeltaWatts: 1 };
  return base;
}

export interface StreetBridges {
  /** Publishes a reading as its zigbee2mqtt device would, on the home broker. */
  publish(r: Reading): Promise<void>;
  /** Waits (on the wall clock, via `sleep`) until every bridge took every message and queued what it made of them. */
  caughtUp(sleep: (ms: number) => Promise<void>, stopped: () => boolean): Promise<void>;
  /** Events and heartbeats the bridges handed to the hub path so far. */
  forwarded(): number;
  bridges: ReadonlyMap<string, DeviceBridge>;
  close(): Promise<void>;
}

/** Starts one bridge per home (its devices mapped by their zigbee2mqtt names) and the street's zigbee2mqtt publisher. */
export async function startStreetBridges(o: {
  localUrl: string; hubUrl: string; devices: ReadonlyArray<{ home: string; device: string; kind: string; secret: string }>;
  dataDir: string; clock: Clock; logger: Logger; timezone: string;
}): Promise<StreetBridges> {
  const bridges = new Map<string, DeviceBridge>();
  const homes = [...new Set(o.devices.map((d) => d.home))];
  let publisher: MqttClient | undefined;
  try {
    for (const home of homes) {
      const map = parseDeviceMap({
        home, timezone: o.timezone, zigbee2mqttBaseTopic: demoBaseTopic(home),
        devices: o.devices.filter((d) => d.home === home).map((d) => mapEntry(d, d.secret)),
      });
      bridges.set(home, await createDeviceBridge({ map, localUrl: o.localUrl, hubUrl: o.hubUrl, stateDir: join(o.dataDir, 'bridge', home), clock: o.clock, logger: o.logger.child({ home }) }));
    }
    publisher = await mqtt.connectAsync(o.localUrl, { clientId: 'demo-zigbee2mqtt', reconnectPeriod: 1000 });
  } catch (err) {
    await Promise.all([...bridges.values()].map((b) => b.close().catch(() => undefined)));
    throw err;
  }
  const local = publisher;
  let sent = 0;
  const heard = () => [...bridges.values()].reduce((n, b) => n + b.stats().received + b.stats().unmapped, 0);
  return {
    bridges,
    async publish(r) {
      await local.publishAsync(`${demoBaseTopic(r.home)}/${r.device}`, JSON.stringify(zigbee2mqttPayload(r)), { qos: 1 });
      sent++;
    },
    async caughtUp(sleep, stopped) {
      while (!stopped() && heard() < sent) await sleep(2);
      await Promise.all([...bridges.values()].map((b) => b.settled()));
    },
    forwarded: () => [...bridges.values()].reduce((n, b) => n + b.stats().events + b.stats().heartbeats, 0),
    async close() {
      await local.endAsync();
      await Promise.all([...bridges.values()].map((b) => b.close()));
    },
  };
}
