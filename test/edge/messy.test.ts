// The simulator that lies less (issue #10 item 2): event-only sensors, mats, latched reeds, gaps,
// motion-only and object-only homes, late risers, nappers, sitting, and collapses right after
// coming home or after a visitor leaves — each behind an option, exact where counts matter.
import t from 'tap';
import type { Reading } from '../../core/events.js';
import { localTime } from '../../core/time.js';
import { createRandom } from '../../edge/random.js';
import { defaultProfile, homeDevices, simulate, type HomeProfile } from '../../edge/simulator.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const tz = 'Asia/Tokyo';
// Windows run 04:00 → 04:00, so a run starting at 04:00 holds whole resident days.
const start = '2026-01-05T04:00:00+09:00';
const base = (patch: Partial<HomeProfile> = {}): HomeProfile => ({ ...defaultProfile('h1', createRandom('messy-test')), dayCareDays: [], outingsPerWeek: 0, ...patch });
const lifeKinds = new Set(['kettle', 'water', 'gas', 'power', 'door', 'motion', 'button']);
const isLife = (r: Reading) => lifeKinds.has(r.kind) && !(r.kind === 'motion' && !r.occupied);
// A device's own reports, heartbeats left out.
const of = (readings: Reading[], device: string) => readings.filter((r) => r.device === device && r.kind !== 'heartbeat');
const local = (at: number) => localTime(at, tz);

t.test('event-only home: no heartbeats at all, and a resident sitting still in the living room makes the PIR report only its clearing', async (t) => {
  const sitting = base({ sitting: { perDay: 3, minutes: [180, 180] }, sensors: { heartbeats: false, seatMat: { chatterPerHour: 0 } } });
  const sim = simulate({ seed: 3, homes: [sitting], start, days: 4 });
  t.equal(sim.readings.filter((r) => r.kind === 'heartbeat').length, 0, 'no device sends a heartbeat');
  const withBeats = simulate({ seed: 3, homes: [{ ...sitting, sensors: { seatMat: { chatterPerHour: 0 } } }], start, days: 4 });
  t.ok(withBeats.readings.filter((r) => r.kind === 'heartbeat').length > 4 * 48 * homeDevices.length, 'the same home with heartbeats sends them');

  const mat = of(sim.readings, 'seat-mat');
  const spells: Array<[number, number]> = [];
  for (let i = 0; i + 1 < mat.length; i += 2) {
    t.match(mat[i], { kind: 'motion', occupied: true, room: 'living' });
    t.match(mat[i + 1], { kind: 'motion', occupied: false });
    spells.push([mat[i]!.at, mat[i + 1]!.at]);
  }
  t.ok(spells.length >= 4, `${spells.length} spells in the chair`);
  for (const [from, to] of spells) {
    t.equal(to - from, 178 * MIN, 'pressed for the spell less getting up and down');
    // PIRs hold "occupied" 2–5 min after the last movement: only their clearings may come just after she sits down.
    const settling = sim.readings.filter((r) => r.at > from && r.at <= from + 6 * MIN && r.kind !== 'climate');
    t.ok(settling.every((r) => r.kind === 'motion' && !r.occupied), 'only sensors clearing while she settles');
    t.equal(settling.filter((r) => r.device === 'motion-living').length, 1, 'the living-room PIR clears once after she sat down');
    t.same(sim.readings.filter((r) => r.at > from + 6 * MIN && r.at < to && r.kind !== 'climate'), [], 'then nothing at all until she gets up');
  }
});

t.test('bed mat: pressed at bedtime, released on getting up and for each night toilet visit; chatter flickers only while pressed', async (t) => {
  const quiet = base({ nightToiletVisits: 1.5, sensors: { bedMat: { chatterPerHour: 0 } } });
  const days = 5;
  const sim = simulate({ seed: 4, homes: [quiet], start, days });
  const mat = of(sim.readings, 'bed-mat') as Array<Reading & { kind: 'motion' }>;
  // A night toilet visit is the only time the house draws its base load + 20 W (a night light).
  const nightVisits = sim.readings.filter((r) => r.kind === 'power' && r.watts === quiet.baseLoadWatts + 20).length;
  t.ok(nightVisits > 0, `${nightVisits} night toilet visits`);
  t.equal(mat.length, 2 * days + 2 * nightVisits, 'a release and a press per day, and per night visit');
  t.ok(mat.every((r, i) => r.occupied === (i % 2 === 1)), 'released first (she is in bed at 04:00), then alternating');
  t.ok(mat.every((r) => r.room === 'bedroom'));

  const restless = simulate({ seed: 4, homes: [{ ...quiet, sensors: { bedMat: { chatterPerHour: 30 } } }], start, days });
  const flicker = of(restless.readings, 'bed-mat') as Array<Reading & { kind: 'motion' }>;
  t.ok(flicker.length > mat.length + 100, `${flicker.length} mat reports with chatter vs ${mat.length}`);
  t.ok(flicker.every((r, i) => r.occupied === (i % 2 === 1)), 'still strictly alternating');
  const short = flicker.filter((r, i) => !r.occupied && flicker[i + 1] && flicker[i + 1]!.at - r.at <= 20_000).length;
  t.equal(short, (flicker.length - mat.length) / 2, 'every extra release is pressed again within 20 s');
  // Nothing else changes: the same readings without the mat.
  const strip = (rs: Reading[]) => rs.filter((r) => r.device !== 'bed-mat').map((r) => ('id' in r ? r.id : `${r.device}@${r.at}`));
  t.same(strip(restless.readings), strip(sim.readings), 'the mat adds reports, nothing else moves');
});

t.test('latched reed: on at t, nothing until released hours later; without the option no flow lasts an hour', async (t) => {
  // No night toilet visits: the day's last flush is at bedtime, so a 6 h latch runs at least to 03:59.
  const p = base({ nightToiletVisits: 0, sensors: { latchedWater: { perDay: 1, hours: [6, 6] } } });
  const days = 3;
  const sim = simulate({ seed: 5, homes: [p], start, days });
  const water = of(sim.readings, 'water-meter') as Array<Reading & { kind: 'water' }>;
  t.ok(water.every((r, i) => r.flowing === (i % 2 === 0)), 'on/off alternate');
  const long = [];
  for (let i = 0; i + 1 < water.length; i += 2) if (water[i + 1]!.at - water[i]!.at > HOUR) long.push([water[i]!.at, water[i + 1]!.at] as const);
  t.equal(long.length, days, 'one latched reed a day');
  for (const [on, off] of long) {
    t.ok(off - on >= 4 * HOUR, `stuck ${((off - on) / HOUR).toFixed(1)} h (6 h, or up to the end of the day)`);
    t.same(water.filter((r) => r.at > on && r.at < off), [], 'nothing from the reed until it is released');
  }
  const plain = of(simulate({ seed: 5, homes: [base()], start, days }).readings, 'water-meter');
  let longest = 0;
  for (let i = 0; i + 1 < plain.length; i += 2) longest = Math.max(longest, plain[i + 1]!.at - plain[i]!.at);
  t.ok(longest < 30 * MIN, 'no latch without the option');
});

t.test('recording gaps: nothing at all of the home between the bounds, explicit or drawn', async (t) => {
  const from = '2026-01-06T09:00:00+09:00', to = '2026-01-06T17:30:00+09:00';
  const sim = simulate({ seed: 6, homes: [base()], start, days: 3, gaps: [{ home: 'h1', from, to }] });
  const inside = (rs: Reading[], a: number, b: number) => rs.filter((r) => r.at >= a && r.at < b);
  t.equal(inside(sim.readings, Date.parse(from), Date.parse(to)).length, 0, 'nothing in the gap');
  t.ok(inside(simulate({ seed: 6, homes: [base()], start, days: 3 }).readings, Date.parse(from), Date.parse(to)).length > 50, 'the same hours without the gap have readings');
  t.ok(sim.readings.some((r) => r.at < Date.parse(from) && r.at > Date.parse(from) - HOUR) && sim.readings.some((r) => r.at >= Date.parse(to) && r.at < Date.parse(to) + HOUR), 'readings on both sides');
  t.same(sim.gaps, [{ home: 'h1', from, to }]);

  const drawn = simulate({ seed: 6, homes: [base({ sensors: { gaps: { perMonth: 20, hours: [2, 4] } } })], start, days: 10 });
  t.ok(drawn.gaps.length >= 2, `${drawn.gaps.length} drawn gaps`);
  for (const g of drawn.gaps) t.equal(inside(drawn.readings, Date.parse(g.from), Date.parse(g.to)).length, 0, `nothing in ${g.from} → ${g.to}`);
  // A drawn gap never covers an incident: its truth says what the sensors showed ("only heartbeats and room climate").
  const gappy = base({ sensors: { gaps: { perMonth: 30, hours: [8, 24] } } });
  const withIncidents = simulate({ seed: 6, homes: [gappy], start, days: 10, incidents: 'default' });
  const over = (gs: typeof withIncidents.gaps, x: (typeof withIncidents.incidents)[number]) => gs.filter((g) => Date.parse(g.from) < (x.end === undefined ? Infinity : Date.parse(x.end)) && Date.parse(g.to) > Date.parse(x.start));
  t.ok(withIncidents.incidents.length > 0);
  for (const x of withIncidents.incidents) t.same(over(withIncidents.gaps, x), [], `no gap over ${x.type} at ${x.start}`);
  // The same draws without incidents: the gaps dropped are there, the others are the same.
  const drawnAlike = simulate({ seed: 6, homes: [gappy], start, days: 10 }).gaps;
  t.ok(withIncidents.incidents.some((x) => over(drawnAlike, x).length > 0), 'some drawn gap did cover an incident');
  t.same(withIncidents.gaps, drawnAlike.filter((g) => withIncidents.incidents.every((x) => over([g], x).length === 0)), 'the rest stay as drawn');
  t.throws(() => simulate({ seed: 6, homes: [base()], start, days: 1, gaps: [{ home: 'nobody', from, to }] }), /unknown home/);
  t.throws(() => simulate({ seed: 6, homes: [base()], start, days: 1, gaps: [{ home: 'h1', from: to, to: from }] }), /to must be after from/);
});

t.test('motion-only and object-only homes: only the devices they have, in the device list and the readings', async (t) => {
  const motionOnly = base({ sensors: { without: ['kettle', 'water-meter', 'gas-meter', 'power-meter'] } });
  const objectOnly = { ...base({ sensors: { without: ['motion-living', 'motion-kitchen', 'motion-bedroom', 'motion-bath'] } }), home: 'h2' };
  const sim = simulate({ seed: 7, homes: [motionOnly, objectOnly], start, days: 2 });
  t.same(sim.devices.filter((d) => d.home === 'h1').map((d) => d.device), ['front-door', 'motion-living', 'motion-kitchen', 'motion-bedroom', 'motion-bath', 'help-button', 'climate-living']);
  t.same(sim.devices.filter((d) => d.home === 'h2').map((d) => d.device), ['kettle', 'water-meter', 'gas-meter', 'power-meter', 'front-door', 'help-button', 'climate-living']);
  t.equal(sim.readings.filter((r) => r.home === 'h1' && ['kettle', 'water', 'gas', 'power'].includes(r.kind)).length, 0, 'motion-only: no kettle, no meters');
  t.equal(sim.readings.filter((r) => r.home === 'h2' && r.kind === 'motion').length, 0, 'object-only: no motion');
  t.ok(sim.readings.some((r) => r.home === 'h2' && r.kind === 'kettle'), 'object-only still boils the kettle');
  t.throws(() => simulate({ seed: 7, homes: [base({ sensors: { without: ['toaster' as 'kettle'] } })], start, days: 1 }), { code: 'MIMAMORI_ERR_INVALID_INPUT' });
});

t.test('late riser: the bed mat stays pressed until 10–12 and nothing else stirs before; a day-care day still starts in time for the bus', async (t) => {
  const late = base({ wake: { mean: '10:45', sdMinutes: 20 }, wakeLatest: '12:00', nightToiletVisits: 0, outingsPerWeek: 5, dayCareDays: [3], sensors: { bedMat: { chatterPerHour: 0 } } });
  const sim = simulate({ seed: 8, homes: [late], start, days: 7 });
  const releases = (of(sim.readings, 'bed-mat') as Array<Reading & { kind: 'motion' }>).filter((r) => !r.occupied);
  t.equal(releases.length, 7, 'one getting-up a day');
  for (const r of releases) {
    const l = local(r.at);
    const dayStart = Date.parse(`${l.date}T04:00:00+09:00`);
    const before = sim.readings.filter((x) => x.at >= dayStart && x.at < r.at && isLife(x));
    t.same(before, [], `${l.date}: no sign of life before getting up`);
    if (l.weekday === 3) {
      const leave = sim.readings.find((x) => x.kind === 'door' && x.at > r.at)!;
      t.ok(leave.at - r.at >= 75 * MIN && local(leave.at).hour === 9, `day-care: up at ${l.hour}:${l.minute}, out at 09:xx`);
    } else {
      t.ok(l.minuteOfDay >= 540 && l.minuteOfDay <= 720, `${l.date}: up at ${l.hour}:${String(l.minute).padStart(2, '0')}`);
    }
  }
  t.throws(() => simulate({ seed: 8, homes: [base({ wakeLatest: '25:00' })], start, days: 1 }), /HH:MM/);
});

t.test('late riser leaving for a weekend at 10:28: she gets up first, and the bed mat stirs through her morning in bed', async (t) => {
  // Before: her getting-up fell within the departure and was erased with it; no mat change that day
  // meant no chatter either — 04:00 to 10:25 without a sign, read by the rules as a collapse (messy-03).
  const late = base({ wake: { mean: '10:45', sdMinutes: 5 }, wakeLatest: '12:00', nightToiletVisits: 0, sensors: { bedMat: { chatterPerHour: 4 } } });
  const from = Date.parse('2026-01-07T10:28:00+09:00'), to = Date.parse('2026-01-08T16:00:00+09:00');
  const sim = simulate({ seed: 8, homes: [late], start, days: 3, absences: [{ home: 'h1', from: new Date(from).toISOString(), to: new Date(to).toISOString(), reason: 'trip' }] });
  const dayStart = Date.parse('2026-01-07T04:00:00+09:00');
  const mat = (of(sim.readings, 'bed-mat') as Array<Reading & { kind: 'motion' }>).filter((r) => r.at >= dayStart && r.at < from);
  const up = mat.filter((r) => !r.occupied && !mat.some((x) => x.occupied && x.at > r.at));
  t.equal(up.length, 1, 'one getting-up before leaving');
  t.equal(up[0]!.at, from - 75 * MIN, 'up 75 min before the door');
  t.ok(mat.filter((r) => r.at < up[0]!.at).length >= 4, `the mat stirs while she is in bed (${mat.length} changes)`);
  const door = sim.readings.find((r) => r.kind === 'door' && r.at >= dayStart)!;
  t.equal(door.at, from, 'out through the front door at 10:28');
  t.ok(sim.readings.some((r) => r.device === 'motion-bedroom' && r.at > up[0]!.at && r.at < from), 'moving about before she goes');
});

t.test('nap: the bed mat pressed in the afternoon for exactly the nap', async (t) => {
  const napper = base({ nap: { probability: 1, at: { mean: '14:00', sdMinutes: 20 }, minutes: [90, 90] }, sensors: { bedMat: { chatterPerHour: 0 } } });
  const sim = simulate({ seed: 9, homes: [napper], start, days: 5 });
  const mat = of(sim.readings, 'bed-mat') as Array<Reading & { kind: 'motion' }>;
  const naps = mat.filter((r, i) => r.occupied && local(r.at).hour >= 11 && local(r.at).hour < 19 && mat[i + 1] && !mat[i + 1]!.occupied);
  t.equal(naps.length, 5, 'a nap every day');
  for (const n of naps) t.equal(mat[mat.indexOf(n) + 1]!.at - n.at, 90 * MIN, 'pressed for 90 min');
  t.throws(() => simulate({ seed: 9, homes: [base({ nap: { probability: 1, at: { mean: '14:00', sdMinutes: 20 }, minutes: [90, 30] } })], start, days: 1 }), /\[low, high\]/);
});

t.test('collapse right after coming home: truth = the last door event + the delay; nothing after it', async (t) => {
  const at = '2026-01-06T14:00:00+09:00';
  const sim = simulate({ seed: 10, homes: [base({ visitorsPerWeek: 0 })], start, days: 3, incidents: [{ home: 'h1', type: 'collapse-after-arrival', at, durationMinutes: 90, delayMinutes: 2 }] });
  t.equal(sim.incidents.length, 1);
  const inc = sim.incidents[0]!;
  const doors = sim.readings.filter((r) => r.kind === 'door' && r.at >= Date.parse(at) - 2 * HOUR && r.at <= Date.parse(at) + HOUR);
  t.same(doors.map((d) => [(d.at - Date.parse(at)) / 1000, (d as Reading & { kind: 'door' }).open]), [[-5400, true], [-5370, false], [0, true], [30, false]], 'out at 12:30, back at 14:00');
  const lastDoor = doors[doors.length - 1]!.at;
  t.equal(Date.parse(inc.start), lastDoor + 2 * MIN, 'the collapse is the last door event + 2 min');
  t.match(inc, { type: 'collapse-after-arrival', severity: 'critical', end: '2026-01-07T04:00:00+09:00', device: 'front-door' });
  t.ok(/帰宅/.test(inc.note) && /coming home/.test(inc.note));
  const dayEnd = Date.parse(inc.end!);
  t.same(sim.readings.filter((r) => r.at > Date.parse(inc.start) && r.at < dayEnd && isLife(r)), [], 'no sign of life after the collapse');
  t.same(sim.readings.filter((r) => r.at > Date.parse(at) - 90 * MIN + MIN && r.at < Date.parse(at) && isLife(r)), [], 'nothing inside while she was out');
  t.ok(sim.readings.some((r) => r.kind === 'motion' && r.occupied && r.at > lastDoor && r.at < Date.parse(inc.start)), 'a few steps inside before');

  const noSteps = simulate({ seed: 10, homes: [base({ visitorsPerWeek: 0 })], start, days: 3, incidents: [{ home: 'h1', type: 'collapse-after-arrival', at, durationMinutes: 90, delayMinutes: 0 }] });
  t.equal(Date.parse(noSteps.incidents[0]!.start), Date.parse(at) + 30_000, 'delay 0: collapse as the door closes');
  t.same(noSteps.readings.filter((r) => r.at > Date.parse(at) && r.at < dayEnd && isLife(r)).map((r) => r.device), ['front-door'], 'only the door closing after she opens it');
  t.throws(() => simulate({ seed: 10, homes: [base()], start, days: 3, incidents: [{ home: 'h1', type: 'collapse-after-arrival', at: '2026-01-06T05:00:00+09:00', durationMinutes: 120 }] }), /same resident day/);
});

t.test('collapse right after a visitor leaves: truth = the visitor\'s last door event + the delay; nothing after it', async (t) => {
  const at = '2026-01-06T11:00:00+09:00';
  const sim = simulate({ seed: 11, homes: [base({ visitorsPerWeek: 0 })], start, days: 3, incidents: [{ home: 'h1', type: 'collapse-after-visitor', at, durationMinutes: 60, delayMinutes: 5 }] });
  const inc = sim.incidents[0]!;
  const doors = sim.readings.filter((r) => r.kind === 'door' && r.at >= Date.parse(at) && r.at <= Date.parse(at) + 2 * HOUR);
  t.same(doors.map((d) => (d.at - Date.parse(at)) / 1000), [0, 30, 3540, 3570], 'the visitor comes in and leaves');
  t.equal(Date.parse(inc.start), doors[3]!.at + 5 * MIN, 'the collapse is the last door event + 5 min');
  t.match(inc, { type: 'collapse-after-visitor', severity: 'critical', end: '2026-01-07T04:00:00+09:00' });
  t.ok(sim.readings.some((r) => r.kind === 'kettle' && r.at > Date.parse(at) && r.at < doors[2]!.at), 'tea with the visitor');
  t.same(sim.readings.filter((r) => r.at > Date.parse(inc.start) && r.at < Date.parse(inc.end!) && isLife(r)), [], 'no sign of life after the collapse');
  const cleared = sim.readings.find((r) => r.device === 'motion-living' && r.kind === 'motion' && !r.occupied && r.at > doors[3]!.at);
  t.ok(cleared && cleared.at >= Date.parse(inc.start), 'the living-room sensor saw her until the collapse');
});

t.test('a bad sensor profile is refused with the field', async (t) => {
  t.throws(() => simulate({ seed: 1, homes: [base({ sensors: { latchedWater: { perDay: 2, hours: [1, 2] } } })], start, days: 1 }), /latchedWater/);
  t.throws(() => simulate({ seed: 1, homes: [base({ sitting: { perDay: 1, minutes: [10, 20] } })], start, days: 1 }), /sitting/);
});
