import t from 'tap';
import { parseDeviceEvent, parseHeartbeat, parseRecordedLine, toRecordedLine, type Reading } from '../../core/events.js';
import { localTime } from '../../core/time.js';
import { toDeviceMessage } from '../../edge/device-message.js';
import { createRandom } from '../../edge/random.js';
import { defaultIncidentTypes, defaultProfile, homeDevices, simulate, simulateStream, type Incident, type SimulationOptions } from '../../edge/simulator.js';

const tz = 'Asia/Tokyo';
const MIN = 60_000;
const HOUR = 60 * MIN;
const lifeKinds = new Set(['kettle', 'water', 'gas', 'power', 'door', 'motion', 'button']);
/** A sign of life: something the resident did. A motion sensor clearing (occupied:false) is the sensor, not her. */
const isLife = (r: Reading): boolean => lifeKinds.has(r.kind) && !(r.kind === 'motion' && !r.occupied);
const local = (at: number) => localTime(at, tz);

t.test('random: same seed, same sequence; different seed, different sequence', async (t) => {
  const draw = (seed: number) => { const r = createRandom(seed); return [r.next(), r.uniform(5, 6), r.int(1, 6), r.normal(0, 1), r.pick(['a', 'b', 'c']), r.poisson(2), r.fork('x').next()]; };
  t.same(draw(7), draw(7));
  t.not(JSON.stringify(draw(7)), JSON.stringify(draw(8)));
  const r = createRandom(1);
  const xs = Array.from({ length: 5000 }, () => r.normal(10, 2));
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  t.ok(Math.abs(mean - 10) < 0.15, `normal mean ≈ 10 (${mean.toFixed(3)})`);
  t.ok(xs.every(Number.isFinite));
  t.throws(() => r.pick([]), RangeError);
});

t.test('the same seed gives identical output; another seed differs', async (t) => {
  const opts: SimulationOptions = { seed: 11, homes: 2, start: '2026-03-02T00:00:00+09:00', days: 3, incidents: 'default' };
  const a = simulate(opts);
  const b = simulate(opts);
  t.equal(JSON.stringify(a), JSON.stringify(b), 'identical readings, incidents and devices');
  const c = simulate({ ...opts, seed: 12 });
  t.not(JSON.stringify(c.readings), JSON.stringify(a.readings));
  t.equal(JSON.stringify([...simulateStream(opts)]), JSON.stringify(a.readings), 'the stream yields exactly the same readings');
});

t.test('homes get varied profiles; homeIds names them', async (t) => {
  const rng = createRandom(3);
  const profiles = Array.from({ length: 6 }, (_, i) => defaultProfile(`h${i}`, rng.fork(i)));
  t.ok(new Set(profiles.map((p) => p.wake.mean)).size > 2, 'wake times differ between homes');
  t.ok(new Set(profiles.map((p) => JSON.stringify(p.dayCareDays))).size > 1, 'day-care schedules differ');
  const s = simulateStream({ seed: 1, homes: 2, homeIds: ['demo-01', 'demo-02'], start: '2026-03-02T00:00:00+09:00', days: 1 });
  t.same([...new Set(s.devices.map((d) => d.home))], ['demo-01', 'demo-02']);
  t.equal(s.devices.length, 2 * homeDevices.length);
});

t.test('bad options are refused with a reason', async (t) => {
  const base: SimulationOptions = { seed: 1, homes: 1, start: '2026-03-02T00:00:00+09:00', days: 1 };
  t.throws(() => simulate({ ...base, start: 'yesterday' }), { code: 'MIMAMORI_ERR_INVALID_INPUT' });
  t.throws(() => simulate({ ...base, incidents: [{ home: 'nobody', type: 'help-button', at: '2026-03-02T10:00:00+09:00' }] }), /unknown home/);
  t.throws(() => simulate({ ...base, incidents: [{ home: 'home-01', type: 'battery-flat', at: '2026-03-02T10:00:00+09:00', device: 'power-meter' }] }), /mains-powered/);
});

// Six homes, two weeks of ordinary life: the constraints every normal day must keep.
const normal = simulateStream({ seed: 2026, homes: 6, start: '2026-01-05T00:00:00+09:00', days: 14, incidents: 'none' });
const normalProfiles = normal.profiles;
const normalReadings = [...normal];

t.test('readings are sorted, valid against the event contract, with unique ids per device', async (t) => {
  t.ok(normalReadings.length > 40_000, `${normalReadings.length} readings`);
  let sorted = true;
  for (let i = 1; i < normalReadings.length; i++) {
    const a = normalReadings[i - 1] as Reading, b = normalReadings[i] as Reading;
    if (a.at > b.at || (a.at === b.at && a.home > b.home)) { sorted = false; break; }
  }
  t.ok(sorted, 'sorted by time, then home');
  const devices = new Set<string>(homeDevices.map((d) => d.device));
  const ids = new Set<string>();
  let invalid = 0, dupes = 0, badTs = 0, badRecorded = 0, foreign = 0;
  for (const r of normalReadings) {
    if (!devices.has(r.device)) foreign++;
    const msg = toDeviceMessage(r, tz);
    const ok = msg.channel === 'events' ? parseDeviceEvent(JSON.stringify(msg.event)).ok : parseHeartbeat(JSON.stringify(msg.heartbeat)).ok;
    if (!ok) invalid++;
    if (!parseRecordedLine(toRecordedLine(r)).ok) badRecorded++;
    if (r.kind !== 'heartbeat') {
      const key = `${r.home}/${r.device}/${r.id}`;
      if (ids.has(key)) dupes++;
      ids.add(key);
      if (!r.ts.endsWith('+09:00') || Date.parse(r.ts) !== r.at) badTs++;
    }
  }
  t.equal(foreign, 0, 'only the eleven standard devices');
  t.equal(invalid, 0, 'every payload validates');
  t.equal(badRecorded, 0, 'every reading round-trips through the recorded-line format');
  t.equal(dupes, 0, 'event ids unique per device');
  t.equal(badTs, 0, 'ts is RFC 3339 in +09:00 and equals at');
});

const byHome = new Map<string, Reading[]>();
for (const r of normalReadings) byHome.set(r.home, [...(byHome.get(r.home) ?? []), r]);

t.test('normal days: no front door between 23:00 and 05:00', async (t) => {
  const night = normalReadings.filter((r) => r.kind === 'door' && (local(r.at).hour >= 23 || local(r.at).hour < 5));
  t.same(night, []);
});

t.test('normal days: water never flows longer than 30 minutes', async (t) => {
  let longest = 0, unclosed = 0;
  for (const readings of byHome.values()) {
    let since: number | undefined;
    for (const r of readings) {
      if (r.kind !== 'water') continue;
      if (r.flowing) { if (since !== undefined) unclosed++; since = r.at; } else if (since !== undefined) { longest = Math.max(longest, r.at - since); since = undefined; }
    }
  }
  t.ok(longest > 5 * MIN && longest <= 30 * MIN, `longest flow ${(longest / MIN).toFixed(1)} min`);
  t.equal(unclosed, 0, 'flowing/not flowing alternate');
});

t.test('normal days: never 3 h without a sign of life in waking hours unless out', async (t) => {
  const violations: string[] = [];
  for (const [home, readings] of byHome) {
    const life = readings.filter(isLife);
    for (let i = 1; i < life.length; i++) {
      const a = life[i - 1] as Reading, b = life[i] as Reading;
      if (b.at - a.at <= 3 * HOUR) continue;
      if (a.kind === 'door' && !a.open && b.kind === 'door' && b.open) continue; // out of the home
      // How much of the gap lies within 08:30–20:00, when every profile is surely awake?
      let awake = 0;
      for (let t0 = a.at; t0 < b.at; t0 += MIN) { const m = local(t0).minuteOfDay; if (m >= 510 && m < 1200) awake += MIN; }
      if (awake > 3 * HOUR) violations.push(`${home} ${new Date(a.at).toISOString()} → ${new Date(b.at).toISOString()}`);
    }
  }
  t.same(violations, []);
});

t.test('normal days: outings close the door behind, nothing moves inside until the return', async (t) => {
  let outings = 0;
  for (const [home, readings] of byHome) {
    const doors = readings.filter((r) => r.kind === 'door');
    t.equal(doors.length % 4, 0, `${home}: doors come as leave (open, close) + return (open, close)`);
    for (let i = 0; i + 3 < doors.length; i += 4) {
      const [o1, c1, o2, c2] = doors.slice(i, i + 4) as [Reading & { kind: 'door' }, Reading & { kind: 'door' }, Reading & { kind: 'door' }, Reading & { kind: 'door' }];
      if (!(o1.open && !c1.open && o2.open && !c2.open)) { t.fail(`${home}: door sequence out of order at ${o1.at}`); continue; }
      const inside = readings.filter((r) => r.kind === 'motion' && r.occupied && r.at > c1.at && r.at < o2.at);
      if (inside.length > 0) t.fail(`${home}: motion while out at ${new Date(inside[0]!.at).toISOString()}`);
      t.ok(o2.at - c1.at >= 30 * MIN, 'out for a while');
      outings++;
    }
  }
  t.ok(outings >= 10, `${outings} outings / day-care trips`);
});

t.test('day-care days: leaves 09:00–09:30, back 15:00–16:30', async (t) => {
  const withDayCare = normalProfiles.filter((p) => p.dayCareDays.length > 0);
  t.ok(withDayCare.length > 0, 'some residents go to day-care');
  for (const p of withDayCare) {
    const doors = (byHome.get(p.home) ?? []).filter((r) => r.kind === 'door' && p.dayCareDays.includes(local(r.at).weekday));
    const leave = doors.filter((_, i) => i % 4 === 0), back = doors.filter((_, i) => i % 4 === 2);
    t.ok(leave.length >= 1);
    for (const d of leave) t.ok(local(d.at).minuteOfDay >= 540 && local(d.at).minuteOfDay <= 570, `${p.home} leaves at ${local(d.at).hour}:${local(d.at).minute}`);
    for (const d of back) t.ok(local(d.at).minuteOfDay >= 900 && local(d.at).minuteOfDay <= 990, `${p.home} back at ${local(d.at).hour}:${local(d.at).minute}`);
  }
});

t.test('normal days: kettle on/off pairs, motion clears minutes later, night toilet visits without the door', async (t) => {
  let kettleUses = 0, nightVisits = 0;
  for (const [home, readings] of byHome) {
    const kettle = readings.filter((r) => r.kind === 'kettle');
    for (let i = 0; i + 1 < kettle.length; i += 2) {
      const on = kettle[i] as Reading & { kind: 'kettle' }, off = kettle[i + 1] as Reading & { kind: 'kettle' };
      if (on.state !== 'on' || off.state !== 'off' || off.at - on.at > 10 * MIN) t.fail(`${home}: kettle pair at ${on.at}`);
      kettleUses++;
    }
    for (const device of ['motion-living', 'motion-kitchen', 'motion-bedroom', 'motion-bath']) {
      const m = readings.filter((r): r is Reading & { kind: 'motion' } => r.kind === 'motion' && r.device === device);
      if (m[0] && !m[0].occupied) m.shift(); // cleared just after the run began, for a movement just before it
      const alternating = m.every((r, i) => r.occupied === (i % 2 === 0));
      if (!alternating) t.fail(`${home} ${device}: occupied true/false alternate`);
    }
    nightVisits += readings.filter((r) => r.kind === 'motion' && r.device === 'motion-bath' && r.occupied && local(r.at).hour < 4).length;
  }
  t.ok(kettleUses >= 6 * 14, `kettle used ${kettleUses} times`);
  t.ok(nightVisits > 10, `${nightVisits} night toilet visits`);
  const breakfastKettle = normalReadings.filter((r) => r.kind === 'kettle' && r.state === 'on' && local(r.at).hour < 10).length;
  t.ok(breakfastKettle > 6 * 14 * 0.7, 'the kettle goes on around breakfast on most days');
});

t.test('heartbeats every 30 min per device with a slowly draining battery; climate hourly', async (t) => {
  const home = normalProfiles[0]!.home;
  const readings = byHome.get(home) ?? [];
  for (const d of homeDevices) {
    const hbs = readings.filter((r): r is Reading & { kind: 'heartbeat' } => r.kind === 'heartbeat' && r.device === d.device);
    t.ok(hbs.length >= 14 * 48 - 1, `${d.device}: ${hbs.length} heartbeats`);
    t.ok(hbs.every((h, i) => i === 0 || h.at - hbs[i - 1]!.at === 30 * MIN), `${d.device}: every 30 minutes`);
    if (d.battery) {
      const first = hbs[0]!.battery!, last = hbs[hbs.length - 1]!.battery!;
      t.ok(last <= first && first - last < 5 && last >= 10, `${d.device}: battery ${first} → ${last}`);
    } else {
      t.ok(hbs.every((h) => h.battery === undefined), `${d.device} is mains-powered`);
    }
  }
  const climate = readings.filter((r) => r.kind === 'climate');
  t.ok(Math.abs(climate.length - 14 * 24) <= 1, 'hourly');
  const summer = simulate({ seed: 2026, homes: 1, start: '2026-07-20T00:00:00+09:00', days: 2 }).readings.filter((r): r is Reading & { kind: 'climate' } => r.kind === 'climate');
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const winterMean = mean(climate.map((r) => (r as Reading & { kind: 'climate' }).celsius));
  const summerMean = mean(summer.map((r) => r.celsius));
  t.ok(winterMean < 17 && summerMean > 25, `January ${winterMean.toFixed(1)} °C, July ${summerMean.toFixed(1)} °C`);
  const hbOpts = simulate({ seed: 1, homes: 1, start: '2026-07-20T00:00:00+09:00', days: 1, heartbeatMinutes: 10 }).readings.filter((r) => r.kind === 'heartbeat' && r.device === 'kettle');
  t.ok(hbOpts.length >= 143, 'heartbeatMinutes is honoured');
});

// One incident of each kind across six homes and two weeks.
const withIncidents = simulate({ seed: 77, homes: 6, start: '2026-01-05T00:00:00+09:00', days: 14, incidents: 'default' });
const incidentOf = (type: Incident['type']): Incident => withIncidents.incidents.find((i) => i.type === type) as Incident;
const homeReadings = (home: string) => withIncidents.readings.filter((r) => r.home === home);

t.test('the default incidents: one of each type, as ground truth', async (t) => {
  t.same(withIncidents.incidents.map((i) => i.type).sort(), [...defaultIncidentTypes].sort());
  for (const i of withIncidents.incidents) {
    t.ok(i.start.endsWith('+09:00'), `${i.type} start in the home's offset`);
    t.ok(i.note.length > 10, `${i.type} has a note`);
    t.ok(/[ぁ-んァ-ン一-龯]/.test(i.note) && /[a-z]/.test(i.note), `${i.type} note in Japanese and English`);
  }
});

t.test('fall-in-bath: water on, bath motion once, water runs ≥ 90 min, then nothing', async (t) => {
  const inc = incidentOf('fall-in-bath');
  const start = Date.parse(inc.start), end = Date.parse(inc.end!);
  const rs = homeReadings(inc.home).filter((r) => r.at >= start && r.at <= end);
  const water = rs.filter((r) => r.kind === 'water');
  t.match(water[0], { at: start, flowing: true }, 'water starts at the incident start');
  t.match(water[water.length - 1], { at: end, flowing: false });
  t.equal(water.length, 2, 'and keeps running until the end');
  t.ok(end - start >= 90 * MIN);
  const motionOn = rs.filter((r) => r.kind === 'motion' && r.occupied);
  t.equal(motionOn.length, 1, 'one movement in the bath');
  t.equal(motionOn[0]?.device, 'motion-bath');
  const later = rs.filter((r) => isLife(r) && r.at > start + 10 * MIN && !(r.kind === 'water'));
  t.same(later, [], 'no sign of life after going in');
});

t.test('no-sign-of-life: from a morning time, nothing but heartbeats (and room climate) for ≥ 8 h', async (t) => {
  const inc = incidentOf('no-sign-of-life');
  const start = Date.parse(inc.start);
  t.ok(local(start).hour >= 7 && local(start).hour < 10, 'morning');
  const rs = homeReadings(inc.home).filter((r) => r.at >= start && r.at < start + 8 * HOUR);
  t.ok(rs.length > 100, 'devices keep reporting');
  t.same(rs.filter((r) => lifeKinds.has(r.kind)), [], 'no event at all but climate (not even a motion sensor clearing)');
  t.ok(homeReadings(inc.home).some((r) => isLife(r) && r.at < start && r.at > start - 24 * HOUR), 'there was life before');
});

t.test('night-wandering: the front door opens around 02:00 and stays open ≥ 40 min', async (t) => {
  const inc = incidentOf('night-wandering');
  const start = Date.parse(inc.start);
  const l = local(start);
  t.ok(l.minuteOfDay >= 100 && l.minuteOfDay <= 140, `opened at ${l.hour}:${l.minute}`);
  const doors = homeReadings(inc.home).filter((r) => r.kind === 'door' && r.at >= start);
  t.match(doors[0], { at: start, open: true, door: 'front' });
  t.match(doors[1], { open: false });
  t.ok(doors[1]!.at - start >= 40 * MIN, 'back after at least 40 minutes');
  t.same(homeReadings(inc.home).filter((r) => r.kind === 'motion' && r.occupied && r.at > start && r.at < doors[1]!.at), [], 'nobody home meanwhile');
});

t.test('help-button: a help press at the incident time', async (t) => {
  const inc = incidentOf('help-button');
  const presses = homeReadings(inc.home).filter((r) => r.kind === 'button' && r.press === 'help');
  t.equal(presses.length, 1);
  t.equal(presses[0]?.at, Date.parse(inc.start));
  t.equal(presses[0]?.device, 'help-button');
});

t.test('sensor-silent: the device sends nothing at all, heartbeats included, from then on', async (t) => {
  const inc = incidentOf('sensor-silent');
  const from = Date.parse(inc.silentFrom!);
  const dev = homeReadings(inc.home).filter((r) => r.device === inc.device);
  t.ok(dev.some((r) => r.at < from), 'it was reporting before');
  t.same(dev.filter((r) => r.at >= from), []);
});

t.test('battery-flat: heartbeats drop below 10 % and then the device goes silent', async (t) => {
  const inc = incidentOf('battery-flat');
  const low = Date.parse(inc.start), silent = Date.parse(inc.silentFrom!);
  const hbs = homeReadings(inc.home).filter((r): r is Reading & { kind: 'heartbeat' } => r.kind === 'heartbeat' && r.device === inc.device);
  const before = hbs.filter((h) => h.at < low), after = hbs.filter((h) => h.at >= low);
  t.ok(before.every((h) => (h.battery ?? 0) >= 10), 'at or above 10 % before');
  t.ok(before.slice(-10).some((h) => (h.battery ?? 100) < 20), 'draining towards it');
  t.equal(after[0]?.at, low, 'the first low heartbeat is the incident start');
  t.ok(after.length > 0 && after.every((h) => (h.battery ?? 100) < 10 && h.at < silent), 'below 10 % until it goes quiet');
  t.same(homeReadings(inc.home).filter((r) => r.device === inc.device && r.at >= silent), [], 'then silent');
});

t.test('explicit incident specs are placed where asked', async (t) => {
  const sim = simulate({
    seed: 5, homes: 2, start: '2026-02-02T00:00:00+09:00', days: 3,
    incidents: [
      { home: 'home-01', type: 'help-button', at: '2026-02-03T10:00:00+09:00' },
      { home: 'home-02', type: 'night-wandering', at: '2026-02-04T02:00:00+09:00', durationMinutes: 50 },
      { home: 'home-02', type: 'sensor-silent', at: '2026-02-02T12:00:00+09:00', device: 'motion-kitchen' },
    ],
  });
  t.same(sim.incidents.map((i) => [i.home, i.type, i.start]), [
    ['home-02', 'sensor-silent', '2026-02-02T12:00:00+09:00'],
    ['home-01', 'help-button', '2026-02-03T10:00:00+09:00'],
    ['home-02', 'night-wandering', '2026-02-04T02:00:00+09:00'],
  ]);
  t.equal(sim.incidents[2]?.end, '2026-02-04T02:50:00+09:00');
  t.ok(sim.readings.some((r) => r.home === 'home-01' && r.kind === 'button' && r.press === 'help' && r.ts === '2026-02-03T10:00:00+09:00'));
  t.ok(sim.readings.some((r) => r.home === 'home-02' && r.kind === 'door' && r.open && r.ts === '2026-02-04T02:00:00+09:00'));
  t.notOk(sim.readings.some((r) => r.home === 'home-02' && r.device === 'motion-kitchen' && r.at >= Date.parse('2026-02-02T12:00:00+09:00')));
});
