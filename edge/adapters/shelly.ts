/**
 * Shelly Wi-Fi relays, plugs and sensors over MQTT.
 *
 * Gen2 / Gen3 (Plus, Pro, Mini, Gen3): the topic prefix is the device id
 * (e.g. `shellyplusplugs-a8032ab12345`).
 * - `<id>/events/rpc`: JSON-RPC notifications; `NotifyStatus` carries the
 *   changed part of each component's status under `params["switch:0"]` etc.
 *   https://shelly-api-docs.shelly.cloud/gen2/General/Notifications
 * - `<id>/status/<component>` (e.g. `status/switch:0`): the component's
 *   whole status when "generic status update over MQTT" is on.
 *   https://shelly-api-docs.shelly.cloud/gen2/General/RPCChannels#mqtt
 * - `<id>/online`: `true`, and `false` as the last will.
 * Components read: `switch:N` (`apower` W, `output`), `pm1:N` (`apower`),
 * `input:N` (`state`, a reed contact wired to the input), `flood:N` (`alarm`),
 * `temperature:N` (`tC`), `humidity:N` (`rh`), `devicepower:N`
 * (`battery.percent`), `wifi` (`rssi`).
 * https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Switch#status
 *
 * Gen1 (cheap to support): one value per topic under `shellies/<id>/`:
 * `relay/0` (`on`/`off`), `relay/0/power` (W), `sensor/state`
 * (`open`/`close`, Door/Window 2), `sensor/flood` (`true`/`false`),
 * `sensor/battery`, `sensor/temperature`, `online`.
 * https://shelly-api-docs.shelly.cloud/gen1/#shelly-door-window-1-2-mqtt
 */
import { FactReader, jsonObject, refused, understood, maxWatts, type AdaptResult, type MqttAdapter, type NativeRoute } from './native-facts.js';

/** Reads the component statuses mimamori understands from an object keyed by component (`switch:0`, `flood:0`, …). */
function readComponents(components: Record<string, unknown>, requireSome: boolean): AdaptResult {
  const r = new FactReader();
  let known = false;
  for (const [key, value] of Object.entries(components)) {
    const type = key.split(':')[0];
    if (value === null || typeof value !== 'object' || Array.isArray(value)) continue;
    const c = value as Record<string, unknown>;
    switch (type) {
      case 'switch':
      case 'pm1':
        known = true;
        r.number(c, 'apower', -maxWatts, maxWatts, (watts) => ({ fact: 'power', watts: Math.max(0, watts) })); // a tiny negative reading at idle is metering noise
        r.boolean(c, 'output', (on) => ({ fact: 'switch', on }));
        break;
      case 'input':
        known = true;
        r.boolean(c, 'state', (closed) => ({ fact: 'contact', closed }));
        break;
      case 'flood':
        known = true;
        r.boolean(c, 'alarm', (wet) => ({ fact: 'leak', wet }));
        break;
      case 'temperature':
        known = true;
        r.number(c, 'tC', -60, 90, (celsius) => ({ fact: 'temperature', celsius }));
        break;
      case 'humidity':
        known = true;
        r.number(c, 'rh', 0, 100, (percent) => ({ fact: 'humidity', percent }));
        break;
      case 'devicepower': {
        known = true;
        const battery = c.battery;
        if (battery !== null && typeof battery === 'object') r.number(battery as Record<string, unknown>, 'percent', 0, 100, (percent) => ({ fact: 'battery', percent }));
        break;
      }
      case 'wifi':
        known = true;
        r.number(c, 'rssi', -120, 0, (dbm) => ({ fact: 'rssi', dbm }));
        break;
      default:
        break; // sys, cloud, mqtt, ble, …: nothing for mimamori
    }
  }
  return r.result(requireSome && !known ? 'no component mimamori reads (switch, pm1, input, flood, temperature, humidity, devicepower, wifi)' : undefined);
}

/** `true` / `false` as text (Gen1 and Gen2 `online`, Gen1 `sensor/flood`). */
function textBoolean(payload: Buffer, what: string): boolean | string {
  const text = payload.toString('utf8').trim();
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  return `${what} must be true or false, got ${JSON.stringify(text.slice(0, 40))}`;
}

function textNumber(payload: Buffer, what: string, min: number, max: number): number | string {
  const text = payload.toString('utf8').trim();
  const n = text === '' ? NaN : Number(text);
  return Number.isFinite(n) && n >= min && n <= max ? n : `${what} must be a number from ${min} to ${max}, got ${JSON.stringify(text.slice(0, 40))}`;
}

function readGen2(route: NativeRoute, payload: Buffer): AdaptResult {
  if (route.channel === 'online') {
    const b = textBoolean(payload, 'online');
    return typeof b === 'string' ? refused('invalid_value', b) : understood([{ fact: 'availability', online: b }]);
  }
  const json = jsonObject(payload);
  if (!json.ok) return json.result;
  if (route.channel === 'rpc') {
    const { method, params } = json.value;
    if (method === 'NotifyEvent') return understood([]); // button/script events; nothing mimamori reads yet
    if (method !== 'NotifyStatus' && method !== 'NotifyFullStatus') return refused('unknown_payload', `unexpected method ${JSON.stringify(method)}; expected NotifyStatus, NotifyFullStatus or NotifyEvent`);
    if (params === null || typeof params !== 'object' || Array.isArray(params)) return refused('invalid_value', 'params must be an object');
    return readComponents(params as Record<string, unknown>, false);
  }
  // status/<component>: the component's status object itself.
  return readComponents({ [route.channel.slice('status/'.length)]: json.value }, true);
}

function readGen1(route: NativeRoute, payload: Buffer): AdaptResult {
  const channel = route.channel.slice('gen1:'.length);
  const bad = (detail: string) => refused('invalid_value', detail);
  switch (channel) {
    case 'online': {
      const b = textBoolean(payload, 'online');
      return typeof b === 'string' ? bad(b) : understood([{ fact: 'availability', online: b }]);
    }
    case 'relay/0': {
      const text = payload.toString('utf8').trim();
      return text === 'on' || text === 'off' ? understood([{ fact: 'switch', on: text === 'on' }]) : bad(`relay must be "on" or "off", got ${JSON.stringify(text.slice(0, 40))}`);
    }
    case 'relay/0/power': {
      const n = textNumber(payload, 'power', 0, maxWatts);
      return typeof n === 'string' ? bad(n) : understood([{ fact: 'power', watts: n }]);
    }
    case 'sensor/state': {
      const text = payload.toString('utf8').trim();
      return text === 'open' || text === 'close' ? understood([{ fact: 'contact', closed: text === 'close' }]) : bad(`sensor/state must be "open" or "close", got ${JSON.stringify(text.slice(0, 40))}`);
    }
    case 'sensor/flood': {
      const b = textBoolean(payload, 'flood');
      return typeof b === 'string' ? bad(b) : understood([{ fact: 'leak', wet: b }]);
    }
    case 'sensor/battery': {
      const n = textNumber(payload, 'battery', 0, 100);
      return typeof n === 'string' ? bad(n) : understood([{ fact: 'battery', percent: n }]);
    }
    default: { // sensor/temperature
      const n = textNumber(payload, 'temperature', -60, 90);
      return typeof n === 'string' ? bad(n) : understood([{ fact: 'temperature', celsius: n }]);
    }
  }
}

const gen1Channels = new Set(['online', 'relay/0', 'relay/0/power', 'sensor/state', 'sensor/flood', 'sensor/battery', 'sensor/temperature']);
/** First topic levels that belong to other ecosystems (or to Gen1) and are never a Gen2 device id. */
const notGen2 = new Set(['shellies', 'tele', 'stat', 'cmnd', 'zigbee2mqtt', 'mimamori']);

/** The Shelly adapter (Gen2/Gen3 by device id, Gen1 under `shellies/`). */
export function shellyAdapter(): MqttAdapter {
  return {
    name: 'shelly',
    subscriptions: ['+/events/rpc', '+/status/+', '+/online', 'shellies/+/online', 'shellies/+/relay/0', 'shellies/+/relay/0/power', 'shellies/+/sensor/+'],
    route(topic: string): NativeRoute | undefined {
      const parts = topic.split('/');
      if (parts[0] === 'shellies' && parts.length >= 3) {
        const channel = parts.slice(2).join('/');
        return gen1Channels.has(channel) && parts[1] ? { native: parts[1], channel: `gen1:${channel}` } : undefined;
      }
      const id = parts[0];
      if (!id || notGen2.has(id)) return undefined;
      if (parts.length === 3 && parts[1] === 'events' && parts[2] === 'rpc') return { native: id, channel: 'rpc' };
      if (parts.length === 3 && parts[1] === 'status' && parts[2]) return { native: id, channel: `status/${parts[2]}` };
      if (parts.length === 2 && parts[1] === 'online') return { native: id, channel: 'online' };
      return undefined;
    },
    read(route, payload) {
      return route.channel.startsWith('gen1:') ? readGen1(route, payload) : readGen2(route, payload);
    },
  };
}
