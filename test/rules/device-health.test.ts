import t from 'tap';
import { at, harness, heartbeat, HOUR, MIN, motion, normalDay } from './helpers.js';

t.test('a silent device is a device-health warning for the operator, never "no activity"', async (t) => {
  const h = await harness({ rules: [{ type: 'deviceSilent' }] });
  h.feed(heartbeat(at('08:00'), 'motion-hall'), heartbeat(at('08:30'), 'kettle'));
  h.clock.advanceTo(at('09:59'));
  t.same(h.of('deviceSilent'), []);
  h.clock.advanceTo(at('10:00'));
  t.same(h.of('deviceSilent'), ['raised:warning']);
  const f = h.findings[0]!;
  t.equal(f.audience, 'operator');
  t.equal(f.device, 'motion-hall');
  t.match(f.message.en, /Sensor motion-hall has not reported for 2 h 0 min/);
  t.match(f.message.ja, /センサー motion-hall から2時間0分通信がありません/);
  t.notMatch(`${f.message.en} ${f.observed.en} ${f.expected.en}`, /activity|sign of life/i);
  t.notMatch(`${f.message.ja} ${f.observed.ja}`, /生活反応/);
  h.clock.advanceTo(at('10:30'));
  t.same(h.findings.map((x) => x.device), ['motion-hall', 'kettle'], 'each device on its own');
  h.clock.advanceTo(at('15:00'));
  t.equal(h.findings.length, 2, 'edge-triggered');
  h.feed(heartbeat(at('15:10'), 'motion-hall'));
  t.same(h.of('deviceSilent'), ['raised:warning', 'raised:warning', 'cleared:warning']);
  t.match(h.findings[2]!.message.en, /reporting again/);
  h.clock.advanceTo(at('17:10'));
  t.same(h.of('deviceSilent'), ['raised:warning', 'raised:warning', 'cleared:warning', 'raised:warning'], 're-arms');
});

t.test('a silent sensor does not hide no-sign-of-life, and is not worded as one', async (t) => {
  const h = await harness({ rules: [{ type: 'noSignOfLife' }, { type: 'deviceSilent' }] });
  h.feed(motion(at('08:00'), 'motion-living'), heartbeat(at('08:00'), 'kettle'));
  // The kettle keeps heartbeating; the motion sensor goes quiet.
  for (let x = at('08:30'); x <= at('12:00'); x += 30 * MIN) h.feed(heartbeat(x, 'kettle'));
  h.clock.advanceTo(at('12:00'));
  t.same(h.findings.map((f) => `${f.type}:${f.audience}:${f.device ?? ''}`), ['deviceSilent:operator:motion-living', 'noSignOfLife:family:']);
});

t.test('battery low below 15 %, cleared at 20 %, edge-triggered, re-arms', async (t) => {
  const h = await harness({ rules: [{ type: 'batteryLow' }] });
  h.feed(heartbeat(at('08:00'), 'door-front', 40), heartbeat(at('09:00'), 'door-front', 14));
  t.same(h.of('batteryLow'), ['raised:warning']);
  const f = h.findings[0]!;
  t.equal(f.audience, 'operator');
  t.match(f.message.en, /Battery low on sensor door-front: 14%/);
  t.match(f.message.ja, /電池残量が少なくなっています：14%/);
  h.feed(heartbeat(at('10:00'), 'door-front', 12), heartbeat(at('11:00'), 'door-front', 18));
  t.equal(h.findings.length, 1, 'not repeated, and 18 % is inside the hysteresis gap');
  h.feed(heartbeat(at('12:00'), 'door-front', 100));
  t.same(h.of('batteryLow'), ['raised:warning', 'cleared:warning']);
  h.feed(heartbeat(at('12:00') + 30 * 24 * HOUR, 'door-front', 10));
  t.same(h.of('batteryLow'), ['raised:warning', 'cleared:warning', 'raised:warning']);
});

t.test('normal days raise no device-health findings', async (t) => {
  const h = await harness({ rules: [{ type: 'deviceSilent' }, { type: 'batteryLow' }] });
  h.feed(...normalDay(0), ...normalDay(1));
  t.same(h.findings, []);
});
