/**
 * zigbee2mqtt: every Zigbee device (Aqara, SONOFF, IKEA, …) publishes its
 * state as one JSON object on `zigbee2mqtt/<friendly_name>` and, when
 * availability is enabled, `online` / `offline` on
 * `zigbee2mqtt/<friendly_name>/availability`.
 * https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html
 */
import { FactReader, jsonObject, refused, understood, maxWatts, type AdaptResult, type MqttAdapter, type NativeRoute } from './native-facts.js';

/** The state fields mimamori reads; any other field (brightness, voltage, …) is ignored. */
const knownFields = ['occupancy', 'contact', 'water_leak', 'action', 'power', 'state', 'temperature', 'humidity', 'battery', 'linkquality'];

/** Reads one `<base>/<friendly_name>` state object. */
function readState(payload: Buffer): AdaptResult {
  const json = jsonObject(payload);
  if (!json.ok) return json.result;
  const s = json.value;
  const r = new FactReader();
  r.boolean(s, 'occupancy', (occupied) => ({ fact: 'occupancy', occupied }));
  r.boolean(s, 'contact', (closed) => ({ fact: 'contact', closed })); // zigbee2mqtt: contact true = closed
  r.boolean(s, 'water_leak', (wet) => ({ fact: 'leak', wet }));
  if (s.action !== undefined && s.action !== null && s.action !== '') {
    if (typeof s.action === 'string' && s.action.length <= 64) r.facts.push({ fact: 'action', action: s.action });
    else r.problem ??= `action must be a short string, got ${JSON.stringify(s.action)}`;
  }
  r.number(s, 'power', 0, maxWatts, (watts) => ({ fact: 'power', watts }));
  r.onOff(s, 'state', (on) => ({ fact: 'switch', on }));
  r.number(s, 'temperature', -60, 90, (celsius) => ({ fact: 'temperature', celsius }));
  r.number(s, 'humidity', 0, 100, (percent) => ({ fact: 'humidity', percent }));
  r.number(s, 'battery', 0, 100, (percent) => ({ fact: 'battery', percent }));
  r.number(s, 'linkquality', 0, 255, (lqi) => ({ fact: 'linkquality', lqi }));
  const anyKnown = knownFields.some((k) => k in s);
  return r.result(anyKnown ? undefined : `no field mimamori reads (${knownFields.join(', ')})`);
}

/** Reads an availability message: `{"state":"online"}` (zigbee2mqtt ≥ 1.30) or legacy plain `online` / `offline`. */
function readAvailability(payload: Buffer): AdaptResult {
  const text = payload.toString('utf8').trim();
  let state: unknown = text;
  if (text.startsWith('{')) {
    const json = jsonObject(payload);
    if (!json.ok) return json.result;
    state = json.value.state;
  }
  if (state === 'online' || state === 'offline') return understood([{ fact: 'availability', online: state === 'online' }]);
  return refused('invalid_value', `availability must be "online" or "offline", got ${JSON.stringify(text.slice(0, 40))}`);
}

/** The zigbee2mqtt adapter for a base topic (default `zigbee2mqtt`). */
export function zigbee2mqttAdapter(baseTopic = 'zigbee2mqtt'): MqttAdapter {
  const prefix = `${baseTopic}/`;
  return {
    name: 'zigbee2mqtt',
    subscriptions: [`${baseTopic}/#`],
    route(topic: string): NativeRoute | undefined {
      if (!topic.startsWith(prefix)) return undefined;
      const rest = topic.slice(prefix.length);
      // bridge/* is zigbee2mqtt itself; …/set, …/get are commands to devices, not from them.
      if (rest === '' || rest === 'bridge' || rest.startsWith('bridge/')) return undefined;
      if (/\/(set|get)(\/.*)?$/.test(rest)) return undefined;
      if (rest.endsWith('/availability')) return { native: rest.slice(0, -'/availability'.length), channel: 'availability' };
      return { native: rest, channel: 'state' };
    },
    read(route, payload) {
      return route.channel === 'availability' ? readAvailability(payload) : readState(payload);
    },
  };
}
