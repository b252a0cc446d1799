// Simulator extensions for the evaluation corpus: absences, visitors, seasons and trends — and older seeds unchanged.
import { createHash } from 'node:crypto';
import t from 'tap';
import { toRecordedLine, type Reading } from '../../core/events.js';
import { localTime } from '../../core/time.js';
import { createRandom } from '../../edge/random.js';
import { defaultProfile, simulate, simulateStream, type HomeProfile } from '../../edge/simulator.js';
import { buildCorpus } from '../../rules/evaluate-corpus.js';

const start = '2026-01-05T00:00:00+09:00';
const profile = (patch: Partial<HomeProfile> = {}): HomeProfile => ({ ...defaultProfile('h1', createRandom('corpus-test')), dayCareDays: [], ...patch });
const activity = (r: Reading) => r.kind !== 'heartbeat' && r.kind !== 'climate';

t.test('existing seeds give byte-for-byte the same street as before the extensions', async (t) => {
  const sim = simulate({ seed: 7, homes: 6, start, days: 14, incidents: 'default' });
  const hash = createHash('sha256').update(sim.readings.map(toRecordedLine).join('\n')).update(JSON.stringify(sim.incidents)).digest('hex');
  t.equal(hash, '05f99496567ee4e6b392ea4eb3d6d9b82b4e9952471242e367814e5a98fae4e7');
  t.equal(sim.readings.length, 54835);
});

t.test('the evaluation corpus gives byte-for-byte the same readings and truth as before the messy extensions', async (t) => {
  // Recorded on s4-integ (before issue #10 item 2): the first 40 000 readings of each group and its truth.
  const h = createHash('sha256');
  let n = 0;
  for (const g of buildCorpus({ seed: 1, homesPerGroup: 3, days: 30 })) {
    let k = 0;
    for (const r of simulateStream(g.sim)) {
      if (k++ >= 40_000) break;
      h.update(toRecordedLine(r)).update('\n');
      n++;
    }
    h.update(JSON.stringify(g.truth));
  }
  t.equal(n, 80_000);
  t.equal(h.digest('hex'), '81a8e725fc3e88197657f97a546a60caa79b3b19c937d6ca431cfab0032a27fa');
});

t.test('an absence (hospital stay): out through the front door, nothing inside but heartbeats and climate, back through the door', async (t) => {
  const from = Date.parse('2026-01-07T10:00:00+09:00'), to = Date.parse('2026-01-10T14:00:00+09:00');
  const sim = simulate({ seed: 1, homes: [profile()], start, days: 8, absences: [{ home: 'h1', from: '2026-01-07T10:00:00+09:00', to: '2026-01-10T14:00:00+09:00', reason: 'hospital' }] });
  const during = sim.readings.filter((r) => r.at > from + 60_000 && r.at < to && activity(r) && !(r.kind === 'motion' && !r.occupied) && r.kind !== 'power');
  t.same(during.map((r) => `${r.device}@${new Date(r.at).toISOString()}`), [], 'no sign of the resident while away');
  const doors = sim.readings.filter((r) => r.kind === 'door' && (Math.abs(r.at - from) < 60_000 || Math.abs(r.at - to) < 60_000));
  t.equal(doors.length, 4, 'leaves and comes back through the front door');
  t.ok(sim.readings.some((r) => r.kind === 'motion' && r.occupied && r.at > to && r.at < to + 10 * 60_000), 'movement inside on return');
  t.ok(sim.readings.some((r) => r.kind === 'heartbeat' && r.at > from && r.at < to), 'devices keep sending heartbeats');
  t.throws(() => simulate({ seed: 1, homes: [profile()], start, days: 2, absences: [{ home: 'h1', from: '2026-01-07T10:00:00+09:00', to: '2026-01-06T10:00:00+09:00' }] }), /to must be after from/);
});

t.test('visits: explicit and habitual visitors open the door, move about and make tea', async (t) => {
  const sim = simulate({ seed: 2, homes: [profile({ visitorsPerWeek: 7 })], start, days: 4, visits: [{ home: 'h1', at: '2026-01-06T13:00:00+09:00', minutes: 60 }] });
  const at = Date.parse('2026-01-06T13:00:00+09:00');
  const around = sim.readings.filter((r) => r.at >= at && r.at <= at + 60 * 60_000);
  t.ok(around.some((r) => r.kind === 'door' && r.open), 'door opens');
  t.ok(around.some((r) => r.kind === 'kettle' && r.state === 'on'), 'kettle');
  const doorsPerDay = sim.readings.filter((r) => r.kind === 'door' && r.open).length / 4;
  t.ok(doorsPerDay >= 2, `visitors most days (${doorsPerDay} door openings a day)`);
});

t.test('seasons: with seasonalWakeMinutes the resident gets up later in winter than in summer', async (t) => {
  const p = profile({ seasonalWakeMinutes: 45, wake: { mean: '06:30', sdMinutes: 5 } });
  const firstBedroom = (s: string) => {
    const sim = simulate({ seed: 3, homes: [p], start: s, days: 10 });
    const mins: number[] = [];
    for (const r of sim.readings) if (r.kind === 'motion' && r.device === 'motion-bedroom' && r.occupied) {
      const l = localTime(r.at, 'Asia/Tokyo');
      if (l.hour >= 5 && l.hour < 9) mins.push(l.minuteOfDay);
    }
    return mins.reduce((a, b) => a + b, 0) / mins.length;
  };
  const winter = firstBedroom(start), summer = firstBedroom('2026-07-13T00:00:00+09:00');
  t.ok(winter - summer > 60, `winter ${winter.toFixed(0)} vs summer ${summer.toFixed(0)} minutes after midnight`);
});

t.test('trend: night-time toilet visits rise week by week from the trend date', async (t) => {
  const p = profile({ nightToiletVisits: 0.3, nightToiletTrend: { from: '2026-01-19', perWeek: 0.6 } });
  const sim = simulate({ seed: 4, homes: [p], start, days: 42 });
  const nightBath = (fromDay: number, toDay: number) => sim.readings.filter((r) => {
    if (r.kind !== 'motion' || r.device !== 'motion-bath' || !r.occupied) return false;
    const d = Math.floor((r.at - Date.parse(start)) / 86_400_000);
    const h = localTime(r.at, 'Asia/Tokyo').hour;
    return d >= fromDay && d < toDay && h >= 0 && h < 4;
  }).length;
  t.ok(nightBath(28, 42) > nightBath(0, 14) * 2, `${nightBath(0, 14)} early vs ${nightBath(28, 42)} late`);
});
