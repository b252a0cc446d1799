/**
 * The ecosystem readers on payloads written from each project's public
 * documentation (the page is named above each fixture), plus bad and unknown
 * payloads: each is refused with a reason, never thrown.
 */
import t from 'tap';
import { shellyAdapter, tasmotaAdapter, zigbee2mqttAdapter, type AdaptResult, type MqttAdapter, type NativeFact } from '../../../edge/adapters/index.js';

function read(adapter: MqttAdapter, topic: string, payload: string | object): AdaptResult & { native?: string } {
  const route = adapter.route(topic);
  if (!route) throw new Error(`${adapter.name} does not route ${topic}`);
  const result = adapter.read(route, Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)));
  return { ...result, native: route.native };
}
function facts(adapter: MqttAdapter, topic: string, payload: string | object): { native?: string; facts: NativeFact[] } {
  const r = read(adapter, topic, payload);
  if (!r.ok) throw new Error(`refused ${topic}: ${r.reason} ${r.detail}`);
  return { native: r.native, facts: r.facts };
}

t.test('zigbee2mqtt', async (t) => {
  const z = zigbee2mqttAdapter();
  // https://www.zigbee2mqtt.io/devices/RTCGQ11LM.html (Aqara motion sensor: occupancy, illuminance, battery, linkquality)
  t.same(facts(z, 'zigbee2mqtt/bath_motion', { occupancy: true, illuminance: 12, battery: 91, voltage: 3005, linkquality: 120 }), {
    native: 'bath_motion', facts: [{ fact: 'occupancy', occupied: true }, { fact: 'battery', percent: 91 }, { fact: 'linkquality', lqi: 120 }],
  });
  // https://www.zigbee2mqtt.io/devices/MCCGQ11LM.html (Aqara door/window: contact true = closed)
  t.same(facts(z, 'zigbee2mqtt/hall/front_door', { contact: false, battery: 100, linkquality: 87 }).facts, [{ fact: 'contact', closed: false }, { fact: 'battery', percent: 100 }, { fact: 'linkquality', lqi: 87 }]);
  t.equal(z.route('zigbee2mqtt/hall/front_door')?.native, 'hall/front_door', 'a friendly name may contain "/"');
  // https://www.zigbee2mqtt.io/devices/SJCGQ11LM.html (Aqara water leak sensor)
  t.same(facts(z, 'zigbee2mqtt/0x00158d0001a2b3c4', { water_leak: true, battery: 80 }), { native: '0x00158d0001a2b3c4', facts: [{ fact: 'leak', wet: true }, { fact: 'battery', percent: 80 }] });
  // https://www.zigbee2mqtt.io/devices/WXKG11LM.html (Aqara wireless mini switch: action single/double/hold)
  for (const action of ['single', 'double', 'hold']) t.same(facts(z, 'zigbee2mqtt/help_button', { action, battery: 95 }).facts[0], { fact: 'action', action });
  t.same(facts(z, 'zigbee2mqtt/help_button', { action: '' }).facts, [], 'the legacy empty action after a press is nothing');
  // https://www.zigbee2mqtt.io/devices/S26R2ZB.html (SONOFF smart plug) / https://www.zigbee2mqtt.io/devices/TS011F_plug_1.html (plug with metering: power W, state)
  t.same(facts(z, 'zigbee2mqtt/kettle_plug', { state: 'ON', power: 1245.6, voltage: 101, current: 12.3, energy: 2.51, linkquality: 160 }).facts,
    [{ fact: 'power', watts: 1245.6 }, { fact: 'switch', on: true }, { fact: 'linkquality', lqi: 160 }]);
  // https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html (WSDCGQ01LM temperature & humidity)
  t.same(facts(z, 'zigbee2mqtt/living_climate', { temperature: 27.34, humidity: 44.72 }).facts, [{ fact: 'temperature', celsius: 27.34 }, { fact: 'humidity', percent: 44.72 }]);
  // Same page: zigbee2mqtt/FRIENDLY_NAME/availability — {"state":"online"} since 1.30, plain online/offline before.
  t.same(facts(z, 'zigbee2mqtt/kettle_plug/availability', { state: 'offline' }), { native: 'kettle_plug', facts: [{ fact: 'availability', online: false }] });
  t.same(facts(z, 'zigbee2mqtt/kettle_plug/availability', 'online').facts, [{ fact: 'availability', online: true }]);

  t.equal(z.route('zigbee2mqtt/bridge/state'), undefined, "zigbee2mqtt's own topics are not devices");
  t.equal(z.route('zigbee2mqtt/bridge/devices'), undefined);
  t.equal(z.route('zigbee2mqtt/kettle_plug/set'), undefined, 'commands to devices are not from them');
  t.equal(z.route('tele/plug/SENSOR'), undefined);

  t.match(read(z, 'zigbee2mqtt/x', '{"occupancy": tru'), { ok: false, reason: 'malformed_json' });
  t.match(read(z, 'zigbee2mqtt/x', '[1,2]'), { ok: false, reason: 'not_an_object' });
  t.match(read(z, 'zigbee2mqtt/x', { occupancy: 'yes' }), { ok: false, reason: 'invalid_value', detail: /occupancy/ });
  t.match(read(z, 'zigbee2mqtt/x', { power: -5 }), { ok: false, reason: 'invalid_value', detail: /power/ });
  t.match(read(z, 'zigbee2mqtt/x', { brightness: 254, color_temp: 300 }), { ok: false, reason: 'unknown_payload' });
  t.match(read(z, 'zigbee2mqtt/x/availability', 'maybe'), { ok: false, reason: 'invalid_value' });
  t.match(read(z, 'zigbee2mqtt/x', Buffer.from([0xff, 0xfe, 0x00]).toString('latin1')), { ok: false, reason: 'malformed_json' });

  const custom = zigbee2mqttAdapter('z2m-home');
  t.equal(custom.route('z2m-home/door')?.native, 'door', 'a configured base topic');
  t.equal(custom.route('zigbee2mqtt/door'), undefined);
});

t.test('Shelly Gen2/Gen3 and Gen1', async (t) => {
  const s = shellyAdapter();
  // https://shelly-api-docs.shelly.cloud/gen2/General/Notifications (NotifyStatus over <id>/events/rpc)
  // https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Switch#status (apower, output)
  const notify = { src: 'shellyplusplugs-a8032ab12345', dst: 'shellyplusplugs-a8032ab12345/events', method: 'NotifyStatus', params: { ts: 1764630000.12, 'switch:0': { id: 0, apower: 1310.4, current: 13.1 } } };
  t.same(facts(s, 'shellyplusplugs-a8032ab12345/events/rpc', notify), { native: 'shellyplusplugs-a8032ab12345', facts: [{ fact: 'power', watts: 1310.4 }] });
  // https://shelly-api-docs.shelly.cloud/gen2/General/RPCChannels#mqtt (generic status updates on <id>/status/<component>)
  t.same(facts(s, 'shellyplusplugs-a8032ab12345/status/switch:0', { id: 0, source: 'button', output: true, apower: 0.0, voltage: 100.2, current: 0, aenergy: { total: 512.3 }, temperature: { tC: 38.2, tF: 100.8 } }).facts,
    [{ fact: 'power', watts: 0 }, { fact: 'switch', on: true }]);
  // https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Flood (Shelly Plus Flood: alarm) and DevicePower (battery.percent)
  t.same(facts(s, 'shellyplusflood-c4d8d5001122/events/rpc', { method: 'NotifyFullStatus', params: { ts: 1, 'flood:0': { id: 0, alarm: true, mute: false }, 'devicepower:0': { id: 0, battery: { V: 5.9, percent: 76 }, external: { present: false } }, wifi: { sta_ip: '192.168.1.40', status: 'got ip', rssi: -61 } } }).facts,
    [{ fact: 'leak', wet: true }, { fact: 'battery', percent: 76 }, { fact: 'rssi', dbm: -61 }]);
  // https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Input#status (a reed contact on input:0)
  t.same(facts(s, 'shellyplusi4-0123456789ab/status/input:0', { id: 0, state: false }).facts, [{ fact: 'contact', closed: false }]);
  // https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Temperature and Humidity (Plus H&T)
  t.same(facts(s, 'shellyplusht-aabbccddeeff/events/rpc', { method: 'NotifyStatus', params: { 'temperature:0': { id: 0, tC: 18.5, tF: 65.3 }, 'humidity:0': { id: 0, rh: 61.2 } } }).facts,
    [{ fact: 'temperature', celsius: 18.5 }, { fact: 'humidity', percent: 61.2 }]);
  // https://shelly-api-docs.shelly.cloud/gen2/General/RPCChannels#mqtt (<id>/online: true, false as last will)
  t.same(facts(s, 'shellyplusplugs-a8032ab12345/online', 'false').facts, [{ fact: 'availability', online: false }]);
  t.same(facts(s, 'shellyplusplugs-a8032ab12345/events/rpc', { method: 'NotifyEvent', params: { ts: 1, events: [{ component: 'input:0', event: 'single_push' }] } }).facts, []);
  t.same(facts(s, 'shellyplusplugs-a8032ab12345/events/rpc', { method: 'NotifyStatus', params: { sys: { uptime: 1 } } }).facts, [], 'a status of a component mimamori does not read is understood as nothing');

  // https://shelly-api-docs.shelly.cloud/gen1/#shelly-door-window-1-2-mqtt and #shelly-flood-mqtt, #shelly-plug-s-mqtt
  t.same(facts(s, 'shellies/shellydw2-483FDA825FA2/sensor/state', 'open'), { native: 'shellydw2-483FDA825FA2', facts: [{ fact: 'contact', closed: false }] });
  t.same(facts(s, 'shellies/shellydw2-483FDA825FA2/sensor/battery', '93').facts, [{ fact: 'battery', percent: 93 }]);
  t.same(facts(s, 'shellies/shellyflood-5A2F11/sensor/flood', 'true').facts, [{ fact: 'leak', wet: true }]);
  t.same(facts(s, 'shellies/shellyplug-s-7A1B2C/relay/0/power', '1203.55').facts, [{ fact: 'power', watts: 1203.55 }]);
  t.same(facts(s, 'shellies/shellyplug-s-7A1B2C/relay/0', 'off').facts, [{ fact: 'switch', on: false }]);
  t.same(facts(s, 'shellies/shellyplug-s-7A1B2C/online', 'true').facts, [{ fact: 'availability', online: true }]);
  t.equal(s.route('shellies/shellyplug-s-7A1B2C/announce'), undefined);
  t.equal(s.route('tele/plug/LWT'), undefined, 'not a Shelly topic');
  t.equal(s.route('zigbee2mqtt/online'), undefined);

  t.match(read(s, 'x/events/rpc', { method: 'Switch.Set', params: {} }), { ok: false, reason: 'unknown_payload' });
  t.match(read(s, 'x/events/rpc', { method: 'NotifyStatus', params: [1] }), { ok: false, reason: 'invalid_value' });
  t.match(read(s, 'x/status/switch:0', { id: 0, apower: 'lots' }), { ok: false, reason: 'invalid_value', detail: /apower/ });
  t.match(read(s, 'x/status/sys', { uptime: 5 }), { ok: false, reason: 'unknown_payload' });
  t.match(read(s, 'x/online', 'perhaps'), { ok: false, reason: 'invalid_value' });
  t.match(read(s, 'shellies/x/sensor/state', 'ajar'), { ok: false, reason: 'invalid_value' });
  t.match(read(s, 'shellies/x/relay/0/power', ''), { ok: false, reason: 'invalid_value' });
});

t.test('Tasmota', async (t) => {
  const m = tasmotaAdapter();
  // https://tasmota.github.io/docs/Power-Monitoring-Calibration/ (tele/<topic>/SENSOR with ENERGY)
  t.same(facts(m, 'tele/kettle-plug/SENSOR', { Time: '2026-12-01T07:12:00', ENERGY: { TotalStartTime: '2026-01-01T00:00:00', Total: 12.3, Yesterday: 0.4, Today: 0.1, Period: 3, Power: 1180, ApparentPower: 1190, ReactivePower: 20, Factor: 0.99, Voltage: 100, Current: 11.9 } }),
    { native: 'kettle-plug', facts: [{ fact: 'power', watts: 1180 }] });
  // https://tasmota.github.io/docs/Commands/#counter (COUNTER.C1 in SENSOR)
  t.same(facts(m, 'tele/water-meter/SENSOR', { Time: '2026-12-01T20:00:00', COUNTER: { C1: 40213 } }).facts, [{ fact: 'counter', total: 40213 }]);
  // https://tasmota.github.io/docs/AM2301/ (sensor name as key)
  t.same(facts(m, 'tele/bedroom/SENSOR', { Time: '2026-12-01T20:00:00', AM2301: { Temperature: 14.2, Humidity: 48.1, DewPoint: 3.3 }, TempUnit: 'C' }).facts,
    [{ fact: 'temperature', celsius: 14.2 }, { fact: 'humidity', percent: 48.1 }]);
  // https://tasmota.github.io/docs/MQTT/ (tele/<topic>/STATE with POWER and Wifi.Signal; stat/<topic>/POWER; tele/<topic>/LWT)
  t.same(facts(m, 'tele/kettle-plug/STATE', { Time: '2026-12-01T07:10:00', Uptime: '0T00:10:11', POWER: 'ON', Wifi: { AP: 1, SSId: 'home', Channel: 3, RSSI: 44, Signal: -78 } }).facts,
    [{ fact: 'switch', on: true }, { fact: 'rssi', dbm: -78 }]);
  t.same(facts(m, 'stat/kettle-plug/POWER', 'OFF').facts, [{ fact: 'switch', on: false }]);
  t.same(facts(m, 'stat/kettle-plug/RESULT', { POWER: 'ON' }).facts, [{ fact: 'switch', on: true }]);
  t.same(facts(m, 'tele/kettle-plug/LWT', 'Offline').facts, [{ fact: 'availability', online: false }]);
  t.same(facts(m, 'tele/kettle-plug/LWT', 'Online').facts, [{ fact: 'availability', online: true }]);
  t.equal(m.route('cmnd/kettle-plug/POWER'), undefined, 'commands are not reports');
  t.equal(m.route('tele/kettle-plug/INFO1'), undefined);

  t.match(read(m, 'tele/p/SENSOR', 'not json'), { ok: false, reason: 'malformed_json' });
  t.match(read(m, 'tele/p/SENSOR', { Time: 'x', Switch1: 'ON' }), { ok: false, reason: 'unknown_payload' });
  t.match(read(m, 'tele/p/SENSOR', { ENERGY: { Power: 'high' } }), { ok: false, reason: 'invalid_value', detail: /Power/ });
  t.match(read(m, 'tele/p/LWT', 'online?'), { ok: false, reason: 'invalid_value' });
  t.match(read(m, 'stat/p/POWER', 'TOGGLE'), { ok: false, reason: 'invalid_value' });
});
