import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toRecordedLine, type Reading } from '../../core/events.js';
import { main, type CliIo } from '../../cli/main.js';
import { createRandom } from '../../edge/random.js';
import { parseHomeSettings, type HomeSettings } from '../../edge/recordings/home-settings.js';
import { scoreFindings, type ScoredFinding, type Truth } from '../../rules/evaluate.js';
import {
  checkRecordingTargets, evaluateRecordings, formatRecordingsReport, homeRuleSet, injectedReadings, injectSilence, pickIncidents,
  type RecordedHome, type RecordingsReport,
} from '../../rules/evaluate-recordings.js';
import { tempDir } from '../hub/helpers.js';

const MIN = 60_000, HOUR = 3_600_000, DAY = 86_400_000;
const tz = 'Asia/Tokyo';
const t0 = Date.parse('2026-01-05T00:00:00+09:00');

const settings = (over: Partial<HomeSettings> = {}): HomeSettings => ({
  format: 'mimamori-home/1', home: 'h1', timezone: tz, frontDoor: 'front', wakingHours: { from: '08:00', to: '22:00' },
  devices: [{ device: 'front-door', kind: 'door', role: 'front-door', sensor: 'reed' }, { device: 'pir', kind: 'motion', role: 'motion', sensor: 'PIR' }],
  ...over,
});

const motion = (home: string, at: number, n: number): Reading => ({ home, device: 'pir', id: `pir-${n}`, kind: 'motion', occupied: true, ts: new Date(at).toISOString(), at });
const door = (home: string, at: number, open: boolean, n: number): Reading => ({ home, device: 'front-door', id: `fd-${n}`, kind: 'door', open, door: 'front', ts: new Date(at).toISOString(), at });

/** `days` days of one resident: movement every 20 min from 08:00 to 21:40, out 13:55–15:05 through the front door. */
function residentDays(home: string, days: number): Reading[] {
  const out: Reading[] = [];
  let n = 0;
  for (let d = 0; d < days; d++) {
    const day = t0 + d * DAY;
    for (let m = 8 * 60; m < 22 * 60; m += 20) {
      if (m >= 14 * 60 && m <= 15 * 60) continue;
      out.push(motion(home, day + m * MIN, ++n));
    }
    out.push(door(home, day + 13 * HOUR + 55 * MIN, true, ++n), door(home, day + 13 * HOUR + 56 * MIN, false, ++n));
    out.push(door(home, day + 15 * HOUR + 5 * MIN, true, ++n), door(home, day + 15 * HOUR + 6 * MIN, false, ++n));
  }
  return out.sort((a, b) => a.at - b.at);
}

t.test('a collapse injected at t removes every reading of that home after t for 12 h, and nothing else', async (t) => {
  const a = residentDays('h1', 3), b = residentDays('h2', 3);
  const all = [...a, ...b].sort((x, y) => x.at - y.at);
  const at = t0 + DAY + 9 * HOUR;
  const out = injectSilence(all, 'h1', at);
  const removed = a.filter((r) => r.at > at && r.at <= at + 12 * HOUR);
  t.equal(removed.length, 36, '09:20–21:00 of the second day: 36 movements less the four while out, and the four door events');
  t.equal(out.length, all.length - removed.length);
  t.equal(out.filter((r) => r.home === 'h1' && r.at > at && r.at <= at + 12 * HOUR).length, 0);
  t.equal(out.filter((r) => r.home === 'h2').length, b.length, 'the other home is untouched');
  t.equal(out.filter((r) => r.home === 'h1' && r.at > at + 12 * HOUR).length, a.filter((r) => r.at > at + 12 * HOUR).length, 'after 12 h the data resumes');
});

t.test('incidents are drawn from the second half, where she is home and awake, reproducibly; door incidents only with a front door', async (t) => {
  const home: RecordedHome = { settings: settings(), readings: residentDays('h1', 10) };
  const a = pickIncidents(home, 3, createRandom(7)), b = pickIncidents(home, 3, createRandom(7));
  t.same(a, b, 'same seed, same incidents');
  const count = (type: string) => a.filter((i) => i.type === type).length;
  t.same([count('collapse-waking'), count('night-outing'), count('collapse-after-arrival')], [3, 3, 3]);
  const half = t0 + (residentDays('h1', 10).at(-1)!.at - t0) / 2;
  for (const i of a) {
    t.ok(i.at >= half, `${i.type} in the second half`);
    const hour = new Date(i.at + 9 * HOUR).getUTCHours();
    if (i.type === 'collapse-waking') t.ok(hour >= 8 && hour < 22, 'in waking hours');
    if (i.type === 'night-outing') {
      t.ok(hour >= 0 && hour < 4, 'at night');
      t.same(i.extra.map((x) => x.kind === 'door' && `${x.door} ${x.open}`), ['front true', 'front false'], 'the front door opens and closes');
    }
    if (i.type === 'collapse-after-arrival') t.equal(new Date(i.at + 9 * HOUR).toISOString().slice(11, 16), '15:06', 'silence from the door closing after the afternoon outing');
  }
  const noDoor = pickIncidents({ ...home, settings: settings({ frontDoor: undefined }) }, 3, createRandom(7));
  t.same(noDoor.map((i) => i.type), ['collapse-waking', 'collapse-waking', 'collapse-waking']);
  // In bed is not a waking moment: with a bed mat pressed 12:00–21:40 every day (she lies down
  // all afternoon), no collapse is drawn from those hours, nor at the press itself.
  const mat = (at: number, occupied: boolean, n: number): Reading => ({ home: 'h1', device: 'bed-mat', id: `bm-${n}`, kind: 'motion', occupied, ts: new Date(at).toISOString(), at });
  const lying: Reading[] = [...residentDays('h1', 10)];
  for (let d = 0; d < 10; d++) lying.push(mat(t0 + d * DAY + 12 * HOUR, true, 2 * d), mat(t0 + d * DAY + 21 * HOUR + 45 * MIN, false, 2 * d + 1));
  lying.sort((x, y) => x.at - y.at);
  const inBedHome: RecordedHome = { settings: settings({ devices: [...settings().devices, { device: 'bed-mat', kind: 'motion', role: 'mat', sensor: 'pressure mat', room: 'bedroom', held: true }] }), readings: lying };
  const drawn = pickIncidents(inBedHome, 3, createRandom(7)).filter((i) => i.type === 'collapse-waking');
  t.equal(drawn.length, 3);
  for (const i of drawn) {
    const hour = new Date(i.at + 9 * HOUR).getUTCHours();
    t.ok(hour >= 8 && hour < 12, `up and about, not in bed (${new Date(i.at + 9 * HOUR).toISOString().slice(11, 16)})`);
  }
  const night = a.find((i) => i.type === 'night-outing')!;
  const replayed = injectedReadings(home.readings, night);
  t.same(replayed.slice(-2), night.extra, 'the run ends with the door; silence follows');
  t.ok(replayed.slice(0, -2).every((r) => r.at < night.extra[0]!.at));
  // A collapse silences her, not the thermometer: its readings go on through the injected silence
  // (without them a home whose thermometer reports regularly would read as a gap in the data).
  const collapse = a.find((i) => i.type === 'collapse-waking')!;
  const withClimate = [...home.readings, ...Array.from({ length: 14 }, (_, k) => ({ home: home.settings.home, device: 'climate-living', id: `c-${k}`, ts: new Date(collapse.at - HOUR + k * HOUR).toISOString(), at: collapse.at - HOUR + k * HOUR, kind: 'climate' as const, celsius: 20 }))].sort((x, y) => x.at - y.at);
  const silent = injectedReadings(withClimate, collapse).filter((r) => r.at > collapse.at);
  t.ok(silent.length >= 12, `${silent.length} thermometer readings in the 12 h`);
  t.ok(silent.every((r) => r.kind === 'climate'), 'and nothing of hers');
});

t.test('the home settings reach the rules: front door and waking hours', async (t) => {
  const rules = homeRuleSet(settings({ frontDoor: 'entrance', wakingHours: { from: '10:00', to: '01:30' } }), 'learned');
  const nsl = rules.find((r) => r.type === 'noSignOfLife');
  t.same(nsl?.type === 'noSignOfLife' && [nsl.frontDoor, nsl.wakingHours], ['entrance', { from: '10:00', to: '01:30' }]);
  const nd = rules.find((r) => r.type === 'nightDoor');
  t.equal(nd?.type === 'nightDoor' && nd.door, 'entrance');
  t.ok(rules.some((r) => r.type === 'unusualInactivity'), 'the default set has the learned rules');
  t.notOk(homeRuleSet(settings(), 'fixed').some((r) => r.type === 'unusualInactivity'), 'fixed alone has not');
});

t.test('absences entered in the home settings are the home\'s context, as the hub would have them; garbage is refused by name', async (t) => {
  // 20 ordinary days, then out through the front door at 10:01 on day 20 and back at 14:00 on day 22.
  const day20 = t0 + 20 * DAY, day22 = t0 + 22 * DAY;
  const readings = residentDays('h1', 21).filter((r) => r.at < day20 + 10 * HOUR);
  let n = 10_000;
  readings.push(door('h1', day20 + 10 * HOUR, true, ++n), door('h1', day20 + 10 * HOUR + MIN, false, ++n));
  readings.push(door('h1', day22 + 14 * HOUR, true, ++n), door('h1', day22 + 14 * HOUR + MIN, false, ++n), motion('h1', day22 + 14 * HOUR + 3 * MIN, ++n));
  const trip = { from: new Date(day20 + 10 * HOUR).toISOString(), to: new Date(day22 + 14 * HOUR).toISOString(), reason: 'trip' as const };
  const run = async (s: HomeSettings) => (await evaluateRecordings([{ settings: s, readings }], { perType: 0 })).unlabelled;
  const told = await run(settings({ away: [trip] }));
  const untold = await run(settings());
  t.same(untold.learned.familyByRule, { awayContext: 1 }, 'not entered: the two days away are one warning');
  t.equal(told.learned.family, 0, 'entered: no family alarm');
  t.equal(told.fixed.family, untold.fixed.family, 'fixed rules alone know no context either way');

  t.same(parseHomeSettings({ ...settings(), dayCareDays: [2] }).dayCareDays, [2]);
  t.throws(() => parseHomeSettings({ ...settings(), away: [{ from: 'yesterday', to: trip.to, reason: 'trip' }] }), /away\.0\.from/);
  t.throws(() => parseHomeSettings({ ...settings(), away: [{ ...trip, to: trip.from }] }), /away\.0\.to: to must be after from/);
  t.throws(() => parseHomeSettings({ ...settings(), dayCareDays: [7] }), /dayCareDays\.0/);
});

t.test('per home-month arithmetic: escalation is one alarm, operator findings by rule, months from the observed span', async (t) => {
  const f = (home: string, rule: string, type: string, at: number, state: ScoredFinding['state'], severity: ScoredFinding['severity'], audience: ScoredFinding['audience'], device?: string): ScoredFinding => {
    const s: ScoredFinding = { home, rule, type, at, state, severity, audience };
    if (device) s.device = device;
    return s;
  };
  const findings = [
    f('h1', 'nsl', 'noSignOfLife', t0 + HOUR, 'raised', 'warning', 'family'),
    f('h1', 'nsl', 'noSignOfLife', t0 + 2 * HOUR, 'raised', 'critical', 'family'),
    f('h1', 'nsl', 'noSignOfLife', t0 + 3 * HOUR, 'cleared', 'critical', 'family', 'kitchen-door'),
    f('h1', 'nsl', 'noSignOfLife', t0 + 4 * HOUR, 'raised', 'warning', 'family'),
    f('h2', 'flow', 'flowWithoutMotion', t0 + HOUR, 'raised', 'critical', 'family'),
    f('h1', 'ds', 'deviceSilent', t0, 'raised', 'warning', 'operator', 'a'),
    f('h1', 'ds', 'deviceSilent', t0, 'raised', 'warning', 'operator', 'b'),
    f('h1', 'ds', 'deviceSilent', t0 + HOUR, 'cleared', 'warning', 'operator', 'a'),
    f('h1', 'ds', 'deviceSilent', t0 + 5 * HOUR, 'raised', 'warning', 'operator', 'a'),
    f('h1', 'rm', 'routineMissed', t0, 'raised', 'info', 'family'),
  ];
  const truth: Truth = { homes: [], incidents: [], away: [], unannounced: [] };
  const span = new Map([['h1', { first: t0, last: t0 + 30.44 * DAY }], ['h2', { first: t0, last: t0 + 15.22 * DAY }]]);
  const s = scoreFindings('fixed', findings, truth, span);
  t.equal(s.homeMonths, 1.5);
  t.equal(s.falseAlarms, 3, 'warning→critical is one; a raise after the clear (by a sign of life on a device) is another; h2 one');
  t.same(s.falseAlarmsByRule, { noSignOfLife: 2, flowWithoutMotion: 1 });
  t.equal(s.falseAlarmsPerHomeMonth, 2);
  t.equal(s.operatorFalseAlarms, 3);
  t.same(s.operatorFalseAlarmsByRule, { deviceSilent: 3 });
  t.equal(s.noticesPerHomeMonth, 1 / 1.5);
});

const report = (over: Partial<RecordingsReport['unlabelled']['learned']>, fixedFamily: number): RecordingsReport => ({
  seed: 1, perType: 1, homes: [],
  unlabelled: {
    fixed: { homeMonths: 2, family: fixedFamily, familyByRule: {}, operator: 0, operatorByRule: {}, caregiver: 0, notices: 0, labelled: { homeMonths: 0, family: 0, whileOut: 0 } },
    learned: { homeMonths: 2, family: 4, familyByRule: { noSignOfLife: 4 }, operator: 8, operatorByRule: { deviceSilent: 8 }, caregiver: 0, notices: 0, labelled: { homeMonths: 0, family: 0, whileOut: 0 }, ...over },
  },
  injected: [],
  announced: { homeMonths: 0, family: 0, whileOut: 0, outings: 0 },
  byType: (['collapse-waking', 'night-outing', 'collapse-after-arrival'] as const).flatMap((type) => (['fixed', 'learned'] as const).map((mode) => ({
    type, mode, total: 2, detected: 2, medianMinutes: 150, worstMinutes: type === 'collapse-waking' && mode === 'learned' ? 361 : 200, missed: [],
  }))),
});

t.test('targets: per home-month limits are inclusive; worst detect over 6 h fails; default must beat fixed alone', async (t) => {
  const c = checkRecordingTargets(report({}, 5));
  t.same(c.map((x) => x.met), [true, true, true, false, true]);
  t.equal(c[0]!.detail, '2.00');
  t.equal(c[1]!.detail, '4.0');
  t.match(c[3]!.detail, /worst 6 h 01 min/);
  t.same(checkRecordingTargets(report({ family: 5 }, 5)).map((x) => x.met), [false, true, true, false, false]);
  const text = formatRecordingsReport(report({}, 5)).join('\n');
  t.match(text, /default rules \(fixed \+ learned\) — all homes\s+2\.0\s+4\.0/);
  t.match(text, /family by rule: noSignOfLife 2\.0/);
});

t.test('labelled times out: the family alarms raised while the labels say she was out are counted apart, within the time the labels cover', async (t) => {
  const iso = (at: number) => new Date(at).toISOString();
  const day = (d: number, hhmm: string) => t0 + d * DAY + (Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3))) * MIN;
  // Six days; on day 3 a quiet afternoon at home (16:00–19:40); on day 4 she goes out at 13:55 and is back at 10:00 on day 5.
  let n = 10_000;
  const readings = residentDays('h1', 6).filter((r) => !(r.at > day(3, '15:30') && r.at < day(3, '19:40')) && !(r.at > day(4, '13:56') && r.at < day(5, '10:00')));
  readings.push(door('h1', day(5, '10:00'), true, ++n), door('h1', day(5, '10:01'), false, ++n));
  readings.sort((a, b) => a.at - b.at);
  const out = [0, 1, 2, 3, 5].map((d) => ({ from: iso(day(d, '13:55')), to: iso(day(d, '15:06')) }));
  out.push({ from: iso(day(4, '13:55')), to: iso(day(5, '10:01')) });
  const labels = { from: iso(t0), to: iso(day(5, '12:00')), out };
  const r = await evaluateRecordings([{ settings: settings({ labels }), readings }], { seed: 1, perType: 0 });
  const f = r.unlabelled.fixed;
  t.equal(f.family, 2, 'the quiet afternoon (3 h after 15:20) and the night out (12 h after the door)');
  t.equal(f.labelled.family, 2, 'both in the labelled time');
  t.equal(f.labelled.whileOut, 1, 'the night out');
  t.ok(Math.abs(f.labelled.homeMonths - (day(5, '12:00') - readings[0]!.at) / DAY / 30.44) < 1e-9, 'the labelled time within the recording (from its first reading at 08:00), not the whole recording');
  const text = formatRecordingsReport(r).join('\n');
  t.match(text, /fixed rules alone — all homes[^]*in the labelled time \(5\.2 days\): 2 family alarms, 1 of them while she was out by the labels \(nobody had told the system\); the others 5\.9 per home-month/);
  t.match(text, /h1 .* labelled 5\.2 d: \d+ family, \d+ while out/);
  // Had she told the tablet as she left: the night out (20 h, said as 12 h) warns no more; the
  // quiet afternoon at home is still told.
  const l = r.unlabelled.learned.labelled;
  t.same(r.announced, { homeMonths: l.homeMonths, family: 1, whileOut: 0, outings: 6 }, 'one alarm left: the quiet afternoon at home');
  t.ok(l.whileOut >= 1, 'without it the default rules warn of the night out');
  t.match(text, /had she told the tablet 「出かけます」 as she left for each of the 6 labelled outings \(the shortest of 1\/2\/3\/4\/6\/8\/12 h that covers it\): \d+ family alarms in the labelled time, 0 while out/);

  const unlabelled = await evaluateRecordings([{ settings: settings(), readings }], { seed: 1, perType: 0 });
  t.same(unlabelled.unlabelled.fixed.labelled, { homeMonths: 0, family: 0, whileOut: 0 }, 'no labels: nothing counted apart');
  t.notMatch(formatRecordingsReport(unlabelled).join('\n'), /labelled/);
});

t.test('end to end: a collapse at a waking moment is found by no-sign-of-life 3 h after the last sign', async (t) => {
  const home: RecordedHome = { settings: settings(), readings: residentDays('h1', 4) };
  const r = await evaluateRecordings([home], { seed: 3, perType: 1 });
  t.equal(r.homes.length, 1);
  t.equal(r.unlabelled.fixed.homeMonths, r.homes[0]!.days / 30.44);
  const collapse = r.injected.find((i) => i.type === 'collapse-waking')!;
  t.ok(collapse, 'one collapse injected');
  t.equal(collapse.detectedMinutes.fixed, 180, 'fixed rules: the warning after 180 min of silence in waking hours');
  t.equal(collapse.detectedBy.fixed, 'noSignOfLife');
  const night = r.injected.find((i) => i.type === 'night-outing')!;
  t.equal(night.detectedBy.fixed, 'nightDoor');
  t.equal(night.detectedMinutes.fixed, 15, 'no movement 15 min after the door at night');
});

t.test('mimamori evaluate --recordings DIR: table and --json; --help is help', async (t) => {
  const dir = tempDir(t);
  const rec = join(dir, 'rec');
  mkdirSync(rec);
  writeFileSync(join(rec, 'h1.ndjson'), `${residentDays('h1', 4).map(toRecordedLine).join('\n')}\n{"oops":1}\n`);
  writeFileSync(join(rec, 'h1.home.json'), JSON.stringify(settings()));
  const io = () => { const out: string[] = [], err: string[] = []; return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } satisfies CliIo }; };
  let c = io();
  t.equal(await main(['evaluate', '--recordings', rec, '--per-type', '1', '--seed', '3'], {}, c.io), 0);
  t.match(c.out.join('\n'), /Real recordings: 1 homes/);
  t.match(c.out.join('\n'), /collapse at a waking moment, at home\s+1\/1\s+3 h 00 min/);
  t.match(c.err.join('\n'), /h1\.ndjson:\d+: skipped \(invalid_fields\)/, 'a bad line is reported and skipped');
  c = io();
  t.equal(await main(['evaluate', '--recordings', rec, '--per-type', '1', '--seed', '3', '--json'], {}, c.io), 0);
  const json = JSON.parse(c.out.join('\n')) as RecordingsReport & { targets: unknown[] };
  t.equal(json.injected.filter((i) => i.type === 'collapse-waking').length, 1);
  t.match(json.injected[0]!.time, /^2026-01-0\dT\d\d:\d\d:\d\d\+09:00$/, 'each incident\'s time on the home\'s clock');
  t.equal(json.targets.length, 5);
  c = io();
  t.equal(await main(['evaluate', '--recordings', dir], {}, c.io), 1, 'a folder without settings files');
  t.match(c.err.join('\n'), /no \*\.home\.json in/);
  writeFileSync(join(rec, 'h2.home.json'), JSON.stringify(settings({ home: 'h2', timezone: 'Nowhere/Else' })));
  c = io();
  t.equal(await main(['evaluate', '--recordings', rec], {}, c.io), 1);
  t.match(c.err.join('\n'), /h2\.home\.json: timezone/);
  c = io();
  t.equal(await main(['evaluate', '--help'], {}, c.io), 0, '--help is not an error');
  t.match(c.out.join('\n'), /--recordings D/);
  t.equal(c.err.length, 0);
});
