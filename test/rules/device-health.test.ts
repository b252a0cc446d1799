import t from 'tap';
import type { Reading } from '../../core/events.js';
import { at, door, harness, heartbeat, HOUR, MIN, motion, normalDay } from './helpers.js';

t.test('a silent device is a device-health warning for the operator, never "no activity"', async (t) => {
  const h = await harness({ rules: [{ type: 'deviceSilent' }] });
  // The kettle keeps heartbeating every 30 min; the hall sensor and the meter stop.
  h.feed(heartbeat(at('08:00'), 'motion-hall'), heartbeat(at('08:30'), 'meter'));
  for (let x = at('08:31'); x <= at('20:01'); x += 30 * MIN) h.feed(heartbeat(x, 'kettle'));
  const upTo = (hhmm: string) => h.findings.filter((f) => f.at <= at(hhmm));
  // Overdue at 10:00; silent on its own once another device has spoken since: the kettle at 10:01.
  t.same(upTo('10:00').map((f) => f.type), []);
  t.same(upTo('10:01').map((f) => `${f.state}:${f.severity}`), ['raised:warning'], 'seen as the kettle speaks, not a recheck later');
  const f = h.findings[0]!;
  t.equal(f.audience, 'operator');
  t.equal(f.device, 'motion-hall');
  t.match(f.message.en, /Sensor motion-hall has not reported for 2 h 1 min/);
  t.match(f.message.ja, /センサー motion-hall から2時間1分通信がありません/);
  t.match(f.expected.en, /it sends heartbeats/);
  t.notMatch(`${f.message.en} ${f.observed.en} ${f.expected.en}`, /activity|sign of life/i);
  t.notMatch(`${f.message.ja} ${f.observed.ja}`, /生活反応/);
  t.same(upTo('10:45').map((x) => x.device), ['motion-hall', 'meter'], 'each device on its own');
  t.equal(upTo('15:00').length, 2, 'edge-triggered');
  h.feed(heartbeat(at('20:10'), 'motion-hall'));
  t.same(h.of('deviceSilent'), ['raised:warning', 'raised:warning', 'cleared:warning']);
  t.match(h.findings[2]!.message.en, /reporting again/);
  h.feed(heartbeat(at('20:30'), 'kettle'), heartbeat(at('21:00'), 'kettle'), heartbeat(at('21:30'), 'kettle'), heartbeat(at('22:00'), 'kettle'), heartbeat(at('22:30'), 'kettle'));
  h.clock.advanceTo(at('22:45'));
  t.same(h.of('deviceSilent'), ['raised:warning', 'raised:warning', 'cleared:warning', 'raised:warning'], 're-arms');
});

t.test('a device whose limit shrinks (its first heartbeat) is still seen overdue as another speaks', async (t) => {
  const h = await harness({ rules: [{ type: 'deviceSilent' }] });
  // The kettle heartbeats every 30 min. The hall sensor sent events only (no limit of its own yet),
  // then its first heartbeat at 06:50 (now a 2 h limit), then nothing.
  h.feed(motion(at('06:05'), 'motion-hall'), heartbeat(at('06:50'), 'motion-hall'));
  for (let x = at('06:00'); x <= at('12:00'); x += 30 * MIN) h.feed(heartbeat(x + 1000, 'kettle'));

  const raised = h.findings.filter((f) => f.type === 'deviceSilent' && f.state === 'raised');
  t.same(raised.map((f) => `${f.device}@${new Date(f.at).toISOString()}`), [`motion-hall@${new Date(at('09:00') + 1000).toISOString()}`], 'raised as the kettle speaks after 08:50, not later');
});

t.test('the whole home silent (hub, gateway, power, a recording gap) → 1 finding, not one per device; cleared when it reports again', async (t) => {
  const h = await harness({ rules: [{ type: 'deviceSilent' }] });
  const devices = ['motion-living', 'motion-bedroom', 'kettle', 'water-meter', 'door-front', 'help-button'];
  for (let x = at('06:00'); x <= at('12:00'); x += 30 * MIN) devices.forEach((d, i) => h.feed(heartbeat(x + i * MIN, d)));
  // Nothing at all from 12:05 until 15:00 two days later (51 h).
  h.clock.advanceTo(at('15:00', 2));
  t.same(h.of('deviceSilent'), ['raised:warning'], 'one finding for the home');
  const f = h.findings[0]!;
  t.equal(f.at, at('14:05'), '2 h after the last message from anything');
  t.match(f.message.en, /No device in the home has reported for 2 h 0 min: hub, gateway, power or connection down\?/);
  t.match(f.message.ja, /すべての機器から2時間0分通信がありません/);
  t.match(f.observed.en, /6 devices, all silent/);
  h.feed(heartbeat(at('15:01', 2), 'kettle'));
  t.same(h.of('deviceSilent'), ['raised:warning', 'cleared:warning'], 'back: one clear');
});

t.test('event-only sensors over two quiet weeks → 0 findings; a dead one among living ones → 1', async (t) => {
  // No heartbeats at all: the living-room PIR reports through the day, the bed mat at night,
  // a cupboard reed every 40 h, the front door every 3rd day.
  const h = await harness({ rules: [{ type: 'deviceSilent' }], start: at('05:00') });
  const days = (from: number, to: number, pir: boolean): Reading[] => {
    const out: Reading[] = [];
    for (let d = from; d < to; d++) {
      if (pir) for (let m = 7 * 60; m <= 21 * 60; m += 45 + ((d * 13) % 30)) out.push(motion(at('00:00', d) + m * MIN, 'motion-living'));
      out.push(motion(at('21:30', d), 'mat-bed'), motion(at('06:40', d + 1), 'mat-bed', 'h1', false));
      if (d % 7 !== 3) out.push(door(at(d % 7 === 4 ? '09:00' : '10:00', d), true, 'door-front'), door(at(d % 7 === 4 ? '09:01' : '10:01', d), false, 'door-front'));
    }
    for (let x = at('11:00'); x < at('00:00', to); x += 40 * HOUR) if (x >= at('00:00', from)) out.push(door(x, true, 'cupboard'), door(x + MIN, false, 'cupboard'));
    return out.sort((a, b) => a.at - b.at);
  };
  h.feed(...days(0, 14, true));
  h.clock.advanceTo(at('06:00', 14));
  t.same(h.of('deviceSilent'), [], 'two weeks of event-only sensors: nothing for the operator');
  // Then the PIR dies while the mat, the door and the cupboard go on: she lives at home about
  // two hours a day that a sensor sees (the mat at night, the door, the cupboard), so the six
  // hours lived past its limit (day 16, 2 × its longest quiet spell, at least 48 h) take days.
  h.feed(...days(14, 22, false));
  t.same(h.of('deviceSilent'), ['raised:warning'], 'one finding for the dead PIR');
  t.equal(h.findings[0]!.device, 'motion-living');
  t.match(h.findings[0]!.expected.en, /reports only on change/);
  t.ok(h.findings[0]!.at > at('00:00', 17) && h.findings[0]!.at < at('00:00', 22), 'after six hours lived past its limit');
});

/** Event-only readings of an ordinary day: the PIR through the day, the cupboard and the fridge at meals, the bed mat. */
function livedDay(d: number, skip: readonly string[] = []): Reading[] {
  const out: Reading[] = [];
  const add = (device: string, r: Reading) => { if (!skip.includes(device)) out.push(r); };
  for (let m = 7 * 60; m <= 21 * 60; m += 50) add('motion-living', motion(at('00:00', d) + m * MIN, 'motion-living'));
  for (const meal of ['07:30', '12:10', '18:40']) {
    add('cupboard', door(at(meal, d), true, 'cupboard', 'h1', 'cupboard'));
    add('cupboard', door(at(meal, d) + MIN, false, 'cupboard', 'h1', 'cupboard'));
    add('fridge', door(at(meal, d) + 2 * MIN, true, 'fridge', 'h1', 'fridge'));
    add('fridge', door(at(meal, d) + 3 * MIN, false, 'fridge', 'h1', 'fridge'));
  }
  add('mat-bed', motion(at('22:00', d), 'mat-bed'));
  add('mat-bed', motion(at('06:50', d + 1), 'mat-bed', 'h1', false));
  return out;
}

t.test('an event-only sensor past its limit while she is away is not reported; once she has lived six hours at home, it is', async (t) => {
  const h = await harness({ rules: [{ type: 'deviceSilent' }], start: at('05:00') });
  const readings: Reading[] = [];
  for (let d = 0; d < 16; d++) readings.push(...livedDay(d));
  // Away for five days (a visit to her daughter's): only the fridge's reed chatters once a night.
  for (let d = 16; d < 21; d++) readings.push(door(at('03:00', d), true, 'fridge', 'h1', 'fridge'), door(at('03:01', d), false, 'fridge', 'h1', 'fridge'));
  h.feed(...readings.sort((a, b) => a.at - b.at));
  h.clock.advanceTo(at('12:00', 21));
  // A sensor's own finding names it when raised (the home's names no device).
  const ofDevices = () => h.findings.filter((f) => f.type === 'deviceSilent' && f.state === 'raised' && f.device !== undefined);
  t.same(ofDevices(), [], 'five days away: the PIR, cupboard and mat are past their limits, but nobody lived there (the home finding covers a whole silent day)');
  // Home again on day 21 — but the cupboard's reed has fallen off: the rest of her day goes on.
  h.feed(...livedDay(21, ['cupboard']).filter((r) => r.at > at('12:00', 21)), ...livedDay(22, ['cupboard']));
  const raised = ofDevices();
  t.same(raised.map((f) => f.device), ['cupboard'], 'the cupboard only: the others spoke again');
  t.ok(raised[0]!.at >= at('17:00', 21), 'not before she has lived six hours at home again');
});

t.test('most of the home\'s event-only sensors quiet for a day at once is her absence: none is reported on its own', async (t) => {
  const h = await harness({ rules: [{ type: 'deviceSilent', eventOnlyLivedHours: 0 }], start: at('05:00') });
  const readings: Reading[] = [];
  for (let d = 0; d < 16; d++) readings.push(...livedDay(d));
  // Away for a week; a neighbour waters the plants every afternoon (the PIR sees her for an hour).
  for (let d = 16; d < 23; d++) for (let m = 0; m < 60; m += 10) readings.push(motion(at('15:00', d) + m * MIN, 'motion-living'));
  h.feed(...readings.sort((a, b) => a.at - b.at));
  h.clock.advanceTo(at('20:00', 22));
  t.same(h.findings.filter((f) => f.state === 'raised' && f.device !== undefined).map((f) => f.device), [], 'cupboard, fridge and mat all quiet for days: her absence, not three broken sensors');
});

t.test('a silent sensor does not hide no-sign-of-life, and is not worded as one', async (t) => {
  const h = await harness({ rules: [{ type: 'noSignOfLife' }, { type: 'deviceSilent' }] });
  h.feed(heartbeat(at('07:59'), 'motion-living'), motion(at('08:00'), 'motion-living'), heartbeat(at('08:00'), 'kettle'));
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

t.test('while the home is new (fewer than eventOnlyLearningDays), an event-only device is not judged on its own', async (t) => {
  // A washing machine's reed used in a burst on day 0, then not for 5 days, while the PIR goes on.
  const h = await harness({ rules: [{ type: 'deviceSilent' }], start: at('05:00') });
  const readings: Reading[] = [];
  for (let i = 0; i < 25; i++) readings.push(door(at('10:00') + i * MIN, i % 2 === 0, 'washing-machine'));
  for (let d = 0; d < 6; d++) for (let m = 7 * 60; m <= 21 * 60; m += 60) readings.push(motion(at('00:00', d) + m * MIN));
  h.feed(...readings.sort((a, b) => a.at - b.at));
  h.clock.advanceTo(at('22:00', 5));
  t.same(h.of('deviceSilent'), [], 'its quiet spells are not known yet: 5 days without it is no fault');
  const old = await harness({ rules: [{ type: 'deviceSilent', eventOnlyLearningDays: 0 }], start: at('05:00') });
  old.feed(...readings);
  old.clock.advanceTo(at('22:00', 5));
  t.same(old.of('deviceSilent'), ['raised:warning'], 'judged at once without a learning period (the old behaviour)');
});
