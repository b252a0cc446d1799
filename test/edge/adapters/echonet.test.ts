/**
 * ECHONET Lite: the frame codec on frames built byte by byte from the
 * specification, the property readers, and the bridge polling a local
 * emulator on loopback UDP into the hub.
 */
import t from 'tap';
import { VirtualClock } from '../../../core/clock.js';
import type { HomeEvent, Reading } from '../../../core/events.js';
import { silentLogger } from '../../../core/logger.js';
import { provisionDevice, provisionService } from '../../../broker/device-credentials.js';
import { createIngest } from '../../../broker/ingest.js';
import { decodeFrame, encodeFrame, ESV, decodeInstanceList, encodeInstanceList } from '../../../edge/adapters/echonet-frame.js';
import { canonicalEchonetNative, readEchonetProperties } from '../../../edge/adapters/echonet.js';
import { createDeviceBridge, parseDeviceMap } from '../../../edge/adapters/index.js';
import { startBroker, start } from '../../broker/helpers.js';
import { startEchonetEmulator } from '../../support/echonet-emulator.js';
import { tempDir, until } from '../../support/wait.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

t.test('frame codec (ECHONET Lite Specification 1.14, Part II, 3.2)', async (t) => {
  // A controller (05FF01) asks the first smart meter (028801) for instantaneous power (EPC E7), TID 1.
  const get = hex('1081 0001 05ff01 028801 62 01 e7 00');
  t.same(decodeFrame(get), { ok: true, frame: { tid: 1, seoj: '05ff01', deoj: '028801', esv: ESV.Get, properties: [{ epc: 0xe7, edt: Buffer.alloc(0) }] } });
  t.same(encodeFrame({ tid: 1, seoj: '05ff01', deoj: '028801', esv: ESV.Get, properties: [{ epc: 0xe7, edt: Buffer.alloc(0) }] }), get);
  // Its answer: Get_Res (72), E7 with PDC 4 = 0x000001F4 = 500 W.
  const res = decodeFrame(hex('1081 0001 028801 05ff01 72 01 e7 04 000001f4'));
  t.ok(res.ok);
  if (res.ok) t.same(readEchonetProperties(res.frame.seoj, res.frame.properties), { ok: true, facts: [{ fact: 'power', watts: 500 }] });
  // Two properties in one INF from an air conditioner: operation status on (0x30), room temperature 26 °C.
  const inf = decodeFrame(hex('1081 00ff 013001 05ff01 73 02 80 01 30 bb 01 1a'));
  t.ok(inf.ok);
  if (inf.ok) {
    t.equal(inf.frame.tid, 255);
    t.same(readEchonetProperties(inf.frame.seoj, inf.frame.properties), { ok: true, facts: [{ fact: 'switch', on: true }, { fact: 'temperature', celsius: 26 }] });
  }
  t.same(decodeInstanceList(encodeInstanceList(['028801', '013001'])), ['028801', '013001']);

  const bad: Array<[string, RegExp]> = [
    ['1081 0001 05ff01', /shorter than the 12-byte header/],
    ['1181 0001 05ff01 028801 62 01 e7 00', /EHD1/],
    ['1082 0001 05ff01 028801 62 01 e7 00', /format 1/],
    ['1081 0001 05ff01 028801 6e 01 e7 00', /SetGet/],
    ['1081 0001 05ff01 028801 99 01 e7 00', /unknown ESV/],
    ['1081 0001 05ff01 028801 62 02 e7 00', /OPC says 2/],
    ['1081 0001 028801 05ff01 72 01 e7 04 0000', /PDC 4/],
    ['1081 0001 05ff01 028801 62 01 e7 00 ff', /left over/],
  ];
  for (const [frame, why] of bad) t.match(decodeFrame(hex(frame)), { ok: false, detail: why }, why.source);
  t.throws(() => encodeFrame({ tid: 70_000, seoj: '05ff01', deoj: '028801', esv: ESV.Get, properties: [] }), RangeError);
  t.throws(() => encodeFrame({ tid: 1, seoj: 'meter', deoj: '028801', esv: ESV.Get, properties: [] }), RangeError);
});

t.test('property readers', async (t) => {
  const one = (eoj: string, epc: number, edt: string) => readEchonetProperties(eoj, [{ epc, edt: hex(edt) }]);
  t.same(one('028801', 0xe7, 'fffffe0c'), { ok: true, facts: [{ fact: 'power', watts: 0 }] }, 'selling solar power (−500 W) is no draw');
  t.same(one('028801', 0xe7, '7ffffffe'), { ok: true, facts: [] }, 'overflow code carries no reading');
  t.same(one('013001', 0xbb, '7e'), { ok: true, facts: [] }, 'room temperature 0x7E: cannot measure');
  t.same(one('013001', 0xbb, 'fb'), { ok: true, facts: [{ fact: 'temperature', celsius: -5 }] });
  t.same(one('013001', 0xba, '3c'), { ok: true, facts: [{ fact: 'humidity', percent: 60 }] });
  t.same(one('013001', 0xba, 'fd'), { ok: true, facts: [] });
  t.same(one('026b01', 0xea, '41'), { ok: true, facts: [{ fact: 'bath', running: true }] }, 'EcoCute filling the bath');
  t.same(one('026b01', 0xea, '43'), { ok: true, facts: [{ fact: 'bath', running: false }] }, 'keeping warm is not water running');
  t.same(one('027201', 0xe3, '41'), { ok: true, facts: [{ fact: 'bath', running: true }] }, 'gas water heater bath auto on');
  t.same(one('013001', 0xbb, ''), { ok: true, facts: [] }, 'Get_SNA: property missing');
  t.match(one('028801', 0xe7, '01f4'), { ok: false, reason: 'invalid_value', detail: /4 byte/ });
  t.match(one('013001', 0x80, '32'), { ok: false, reason: 'invalid_value' });
  t.match(one('05fd01', 0x80, '30'), { ok: false, reason: 'unknown_payload' });
  t.equal(canonicalEchonetNative('192.168.1.30:3610/0288A1'), '192.168.1.30/0288a1');
  t.equal(canonicalEchonetNative('127.0.0.1:40000/028801'), '127.0.0.1:40000/028801');
});

t.test('bridge ← ECHONET Lite emulator on loopback → hub: meter power, air conditioner climate, bath water', async (t) => {
  const node = await startEchonetEmulator({
    '028801': { 0x80: hex('30'), 0xe7: hex('0000015e') }, // 350 W
    '013001': { 0x80: hex('30'), 0xbb: hex('1c'), 0xba: hex('3c') }, // on, 28 °C, 60 %
    '026b01': { 0x80: hex('30'), 0xea: hex('42') }, // bath stopped
    '05fd01': { 0x80: hex('30') }, // a switch nobody mapped
  });
  t.teardown(() => node.close());
  const h = await startBroker();
  t.teardown(() => h.close());
  await h.store.createHome({ id: 'h1', name: 'home one', timezone: 'Asia/Tokyo' });
  const secrets: Record<string, string> = {};
  for (const [device, kind] of [['meter', 'power'], ['aircon', 'climate'], ['bath-water', 'water']]) secrets[device as string] = (await provisionDevice(h.store, { homeId: 'h1', deviceId: device as string, kind: kind as string })).secret;
  const svc = await provisionService(h.store, 'ingest');
  const ingest = await createIngest({ url: h.url(), username: svc.username, password: svc.secret, store: h.store, logger: silentLogger(), clock: h.clock });
  t.teardown(() => ingest.close());
  const got: Reading[] = [];
  ingest.readings.subscribe((r) => got.push(r));

  const at = `127.0.0.1:${node.port}`;
  const map = parseDeviceMap({
    home: 'h1', echonet: { addresses: [at], multicast: false, pollSeconds: 60 },
    devices: [
      { adapter: 'echonet', native: `${at}/028801`, device: 'meter', role: 'power', secret: secrets.meter },
      { adapter: 'echonet', native: `${at}/013001`, device: 'aircon', role: 'climate', secret: secrets.aircon },
      { adapter: 'echonet', native: `${at}/026B01`, device: 'bath-water', role: 'water', secret: secrets['bath-water'] },
    ],
  });
  const clock = new VirtualClock(start);
  const bridge = await createDeviceBridge({ map, hubUrl: h.url(), stateDir: tempDir(t, 'mimamori-echonet-'), clock, logger: silentLogger(), echonetBindPort: 0 });
  t.teardown(() => bridge.close());
  const events = () => got.filter((r): r is HomeEvent => r.kind !== 'heartbeat');

  await until(() => events().length === 3, 10_000, 'the first poll: 3 events');
  t.same(events().map((e) => ({ ...e, id: undefined, ts: undefined, at: undefined })).sort((a, b) => a.device.localeCompare(b.device)), [
    { kind: 'climate', celsius: 28, humidity: 60, aircon: 'on', home: 'h1', device: 'aircon', id: undefined, ts: undefined, at: undefined },
    { kind: 'water', flowing: false, home: 'h1', device: 'bath-water', id: undefined, ts: undefined, at: undefined },
    { kind: 'power', watts: 350, home: 'h1', device: 'meter', id: undefined, ts: undefined, at: undefined },
  ]);
  await until(() => bridge.unmapped().length === 1, 10_000, 'discovery lists the unmapped switch');
  t.match(bridge.unmapped()[0], { adapter: 'echonet', native: `${at}/05fd01` });

  // The next poll, a minute later, sees the meter's new reading; an unchanged air conditioner sends nothing new.
  node.set('028801', 0xe7, hex('000004b0')); // 1200 W
  const gets = node.gets('028801');
  clock.advanceBy(60_000);
  await until(() => node.gets('028801') === gets + 1, 10_000, 'polled again');
  await until(() => events().length === 4, 10_000, 'power 1200');
  t.match(events()[3], { kind: 'power', watts: 1200, device: 'meter' });

  // The water heater tells us by itself (INF) that it is filling the bath.
  node.set('026b01', 0xea, hex('41'));
  await node.notify('026b01', [0xea], bridge.echonetPort() as number);
  await until(() => events().length === 5, 10_000, 'bath filling');
  t.match(events()[4], { kind: 'water', flowing: true, device: 'bath-water' });

  // Garbage on the ECHONET Lite port is counted, never a crash.
  await node.sendRaw(hex('1081 00'), bridge.echonetPort() as number);
  await node.sendRaw(hex('dead beef 0000 0000 0000 00'), bridge.echonetPort() as number);
  await until(() => bridge.stats().rejected.malformed_frame === 2, 10_000, 'two bad datagrams counted');
  node.set('028801', 0xe7, hex('01f4')); // a meter answering with a 2-byte EDT
  clock.advanceBy(60_000);
  await until(() => bridge.stats().rejected.invalid_value === 1, 10_000, 'a wrong-size EDT is refused');
  await bridge.drained();
  t.equal(events().length, 5, 'exactly five events');
});
