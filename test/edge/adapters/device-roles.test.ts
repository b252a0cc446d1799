/** Device roles: what facts mean for a device in its role, edge-triggered, with hysteresis where it matters. */
import t from 'tap';
import { deriveEvents, parseDeviceMap, type MappedDevice, type NativeFact, type RoleState } from '../../../edge/adapters/index.js';

const device = (extra: Partial<MappedDevice> & Pick<MappedDevice, 'role'>): MappedDevice => ({ adapter: 'zigbee2mqtt', native: 'n', device: 'd', ...extra });
const power = (watts: number): NativeFact => ({ fact: 'power', watts });

/** Feeds facts one message at a time and returns the kinds of events each produced. */
function run(d: MappedDevice, messages: NativeFact[][], startAt = 0, stepMs = 10_000): { events: unknown[][]; state: RoleState } {
  const state: RoleState = {};
  const events = messages.map((facts, i) => deriveEvents(d, facts, state, startAt + i * stepMs).events);
  return { events, state };
}

t.test('a kettle behind a plug: on above the threshold, off below the lower one, nothing in between', async (t) => {
  const { events } = run(device({ role: 'kettle' }), [[power(2)], [power(3)], [power(1250)], [power(1300)], [power(200)], [power(40)], [power(0)], [power(600)]]);
  t.same(events, [
    [{ kind: 'kettle', state: 'off', watts: 2 }], [], [{ kind: 'kettle', state: 'on', watts: 1250 }], [], [], [{ kind: 'kettle', state: 'off', watts: 40 }], [], [{ kind: 'kettle', state: 'on', watts: 600 }],
  ]);
  const custom = run(device({ role: 'kettle', threshold: { on: 900, off: 300 } }), [[power(600)], [power(950)], [power(400)], [power(250)]]).events;
  t.same(custom, [[], [{ kind: 'kettle', state: 'on', watts: 950 }], [], [{ kind: 'kettle', state: 'off', watts: 250 }]], 'per-device thresholds');
  const switched = run(device({ role: 'kettle' }), [[power(1200)], [{ fact: 'switch', on: false }]]).events;
  t.same(switched[1], [{ kind: 'kettle', state: 'off', watts: 0 }], 'the plug switched off under the kettle');
  t.throws(() => parseDeviceMap({ home: 'h1', devices: [{ adapter: 'tasmota', native: 'p', device: 'k', role: 'kettle', threshold: { on: 50, off: 500 } }] }), /"on" must be above "off"/);
});

t.test('door, motion, button, water and climate', async (t) => {
  const contact = (closed: boolean): NativeFact => ({ fact: 'contact', closed });
  t.same(run(device({ role: 'door', door: 'front' }), [[contact(true)], [contact(true), { fact: 'battery', percent: 90 }], [contact(false)], [contact(false)], [contact(true)]]).events,
    [[{ kind: 'door', open: false, door: 'front' }], [], [{ kind: 'door', open: true, door: 'front' }], [], [{ kind: 'door', open: false, door: 'front' }]], 'a repeated state is not a second opening');
  t.same(run(device({ role: 'door', invertContact: true }), [[contact(true)]]).events, [[{ kind: 'door', open: true }]], 'inverted contact');

  const occ = (occupied: boolean): NativeFact => ({ fact: 'occupancy', occupied });
  t.same(run(device({ role: 'motion', room: 'bath' }), [[occ(true)], [occ(true)], [occ(false)], [occ(true)]], 0, 30_000).events,
    [[{ kind: 'motion', occupied: true, room: 'bath' }], [], [{ kind: 'motion', occupied: false, room: 'bath' }], [{ kind: 'motion', occupied: true, room: 'bath' }]]);
  t.same(run(device({ role: 'motion' }), [[occ(true)], [occ(true)]], 0, 61_000).events, [[{ kind: 'motion', occupied: true }], [{ kind: 'motion', occupied: true }]], 'still occupied a minute later is a new sign of life');

  const act = (action: string): NativeFact => ({ fact: 'action', action });
  const buttons = deriveEvents(device({ role: 'button' }), [act('single')], {}, 0).events.concat(deriveEvents(device({ role: 'button' }), [act('double')], {}, 0).events);
  t.same(buttons, [{ kind: 'button', press: 'help' }, { kind: 'button', press: 'ok' }]);
  const unknown = deriveEvents(device({ role: 'button' }), [act('triple')], {}, 0);
  t.same([unknown.events, unknown.unused], [[], 1], 'an action nobody mapped is unused, not guessed');
  t.same(deriveEvents(device({ role: 'button', actions: { triple: 'help' } }), [act('triple')], {}, 0).events, [{ kind: 'button', press: 'help' }]);

  const counter = (total: number): NativeFact => ({ fact: 'counter', total });
  t.same(run(device({ role: 'water', litresPerPulse: 0.5 }), [[counter(100)], [counter(140)], [counter(180)], [counter(180)], [counter(5)]], 0, 60_000).events,
    [[], [{ kind: 'water', flowing: true, rate: 20 }], [], [{ kind: 'water', flowing: false }], []], 'a pulse counter: increase → flowing (L/min), still → stopped, reset → nothing');
  t.same(run(device({ role: 'water' }), [[{ fact: 'leak', wet: true }], [{ fact: 'leak', wet: false }]]).events, [[{ kind: 'water', flowing: true }], [{ kind: 'water', flowing: false }]]);
  t.same(run(device({ role: 'water' }), [[{ fact: 'bath', running: true }], [{ fact: 'bath', running: true }]]).events, [[{ kind: 'water', flowing: true }], []]);

  const climate = run(device({ role: 'climate' }), [
    [{ fact: 'temperature', celsius: 31.04 }, { fact: 'humidity', percent: 64.4 }],
    [{ fact: 'temperature', celsius: 31.04 }, { fact: 'humidity', percent: 64.4 }, { fact: 'battery', percent: 80 }],
    [{ fact: 'switch', on: true }],
    [{ fact: 'humidity', percent: 60 }],
  ]).events;
  t.same(climate, [[{ kind: 'climate', celsius: 31, humidity: 64 }], [], [{ kind: 'climate', celsius: 31, humidity: 64, aircon: 'on' }], [{ kind: 'climate', celsius: 31, humidity: 60, aircon: 'on' }]]);

  const unused = deriveEvents(device({ role: 'kettle' }), [{ fact: 'temperature', celsius: 20 }, { fact: 'battery', percent: 50 }, { fact: 'rssi', dbm: -70 }], {}, 0);
  t.same(unused, { events: [], unused: 1, battery: 50, rssi: -70 }, 'a kettle plug has no use for temperature; battery and radio go to the heartbeat');
});

t.test('power readings are sent when they move', async (t) => {
  t.same(run(device({ role: 'power', minDeltaWatts: 50 }), [[power(300)], [power(320)], [power(360)], [power(410)]]).events,
    [[{ kind: 'power', watts: 300 }], [], [{ kind: 'power', watts: 360 }], [{ kind: 'power', watts: 410 }]]);
});

t.test('the device map names every problem', async (t) => {
  t.throws(() => parseDeviceMap({ home: 'H 1', devices: [] }), { code: 'MIMAMORI_ERR_CONFIG', message: /home.*devices: map at least one device/s });
  t.throws(() => parseDeviceMap({ home: 'h1', devices: [
    { adapter: 'zigbee2mqtt', native: 'a', device: 'k', role: 'kettle' },
    { adapter: 'zigbee2mqtt', native: 'a', device: 'k', role: 'door' },
  ] }), /devices\.1\.device: device k is mapped twice.*devices\.1\.native.*mapped twice/s);
  t.throws(() => parseDeviceMap({ home: 'h1', devices: [{ adapter: 'echonet', native: 'meter', device: 'm', role: 'power' }] }), /devices\.0\.native: an ECHONET Lite device/);
  t.throws(() => parseDeviceMap({ home: 'h1', devices: [{ adapter: 'zigbee2mqtt', native: 'a', device: 'k', role: 'toaster' }] }), /devices\.0\.role/);
  t.throws(() => parseDeviceMap({ home: 'h1', timezone: 'Tokyo', devices: [{ adapter: 'tasmota', native: 'p', device: 'p', role: 'power' }] }), /timezone: an IANA time zone/);
  const map = parseDeviceMap({ home: 'h1', devices: [{ adapter: 'echonet', native: '192.168.1.30/028801', device: 'meter', role: 'power' }] });
  t.match(map, { timezone: 'Asia/Tokyo', zigbee2mqttBaseTopic: 'zigbee2mqtt', heartbeatMinutes: 10 });
});
