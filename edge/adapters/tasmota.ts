/**
 * Tasmota-flashed plugs and boards (the default FullTopic `%prefix%/%topic%/`):
 * - `tele/<topic>/SENSOR` every TelePeriod: `ENERGY.Power` (W) on metering
 *   plugs, `COUNTER.C1` on a pulse counter (e.g. a water meter's reed
 *   output), `Temperature` / `Humidity` under the sensor's name (`AM2301`,
 *   `SHT3X`, `DS18B20`, …);
 * - `tele/<topic>/STATE`: `POWER` and `Wifi.Signal` (dBm);
 * - `stat/<topic>/POWER` (`ON`/`OFF`) and `stat/<topic>/RESULT` (`{"POWER":"ON"}`);
 * - `tele/<topic>/LWT`: `Online`, and `Offline` as the last will.
 * https://tasmota.github.io/docs/MQTT/  https://tasmota.github.io/docs/Power-Monitoring-Calibration/
 * https://tasmota.github.io/docs/Commands/#counter
 */
import { FactReader, jsonObject, refused, understood, maxWatts, type AdaptResult, type MqttAdapter, type NativeRoute } from './native-facts.js';

function readSensor(s: Record<string, unknown>): AdaptResult {
  const r = new FactReader();
  let known = false;
  for (const [key, value] of Object.entries(s)) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) continue;
    const v = value as Record<string, unknown>;
    if (key === 'ENERGY') {
      known = true;
      r.number(v, 'Power', 0, maxWatts, (watts) => ({ fact: 'power', watts }));
    } else if (key === 'COUNTER') {
      known = true;
      r.number(v, 'C1', 0, Number.MAX_SAFE_INTEGER, (total) => ({ fact: 'counter', total }));
    } else if ('Temperature' in v || 'Humidity' in v) {
      known = true;
      r.number(v, 'Temperature', -60, 90, (celsius) => ({ fact: 'temperature', celsius }));
      r.number(v, 'Humidity', 0, 100, (percent) => ({ fact: 'humidity', percent }));
    }
  }
  return r.result(known ? undefined : 'no ENERGY, COUNTER or temperature sensor in SENSOR');
}

function readState(s: Record<string, unknown>): AdaptResult {
  const r = new FactReader();
  r.onOff(s, 'POWER', (on) => ({ fact: 'switch', on }));
  const wifi = s.Wifi;
  if (wifi !== null && typeof wifi === 'object' && !Array.isArray(wifi)) r.number(wifi as Record<string, unknown>, 'Signal', -120, 0, (dbm) => ({ fact: 'rssi', dbm }));
  return r.result(undefined);
}

/** The Tasmota adapter. */
export function tasmotaAdapter(): MqttAdapter {
  return {
    name: 'tasmota',
    subscriptions: ['tele/+/SENSOR', 'tele/+/STATE', 'tele/+/LWT', 'stat/+/POWER', 'stat/+/RESULT'],
    route(topic: string): NativeRoute | undefined {
      const parts = topic.split('/');
      if (parts.length !== 3 || !parts[1]) return undefined;
      const channel = `${parts[0]}/${parts[2]}`;
      return ['tele/SENSOR', 'tele/STATE', 'tele/LWT', 'stat/POWER', 'stat/RESULT'].includes(channel) ? { native: parts[1], channel } : undefined;
    },
    read(route, payload) {
      const text = payload.toString('utf8').trim();
      if (route.channel === 'tele/LWT') {
        return text === 'Online' || text === 'Offline' ? understood([{ fact: 'availability', online: text === 'Online' }]) : refused('invalid_value', `LWT must be "Online" or "Offline", got ${JSON.stringify(text.slice(0, 40))}`);
      }
      if (route.channel === 'stat/POWER') {
        const u = text.toUpperCase();
        return u === 'ON' || u === 'OFF' ? understood([{ fact: 'switch', on: u === 'ON' }]) : refused('invalid_value', `POWER must be "ON" or "OFF", got ${JSON.stringify(text.slice(0, 40))}`);
      }
      const json = jsonObject(payload);
      if (!json.ok) return json.result;
      if (route.channel === 'tele/SENSOR') return readSensor(json.value);
      return readState(json.value); // tele/STATE and stat/RESULT share POWER
    },
  };
}
