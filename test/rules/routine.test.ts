// Learned-routine rules on a virtual clock: silent while learning, then routine missed,
// unusual inactivity (sooner than the fixed rule), night activity, trends, context and visitors.
import t from 'tap';
import type { Reading } from '../../core/events.js';
import type { Finding } from '../../core/findings.js';
import { ZoneClock } from '../../rules/rules/rule.js';
import { at, button, door, harness, kettle, MIN, motion, water } from './helpers.js';

const tokyoAt = at;

/** An ordinary day `d`: up ~06:50, kettle ~07:30, busy in the living room every 30 min until 21:00, bed 21:30, a night toilet visit. */
function ordinaryDay(d: number, opts: { kettle?: boolean; toilets?: number; at?: typeof at } = {}): Reading[] {
  const at = opts.at ?? tokyoAt;
  const jitter = ((d * 7) % 21) - 10;
  const out: Reading[] = [
    motion(at('06:50', d) + jitter * MIN, 'motion-bedroom'),
    motion(at('07:00', d), 'motion-bath'), motion(at('07:06', d), 'motion-bath', 'h1', false),
    water(at('07:02', d), true), water(at('07:03', d), false),
  ];
  if (opts.kettle !== false) out.push(kettle(at('07:30', d) + jitter * MIN), kettle(at('07:34', d) + jitter * MIN, 'off'));
  for (let m = 8 * 60; m <= 21 * 60; m += 30) out.push(motion(at('00:00', d) + m * MIN + ((d * 3) % 7) * MIN, 'motion-living'));
  out.push(motion(at('21:30', d), 'motion-bedroom'));
  for (let i = 0; i < (opts.toilets ?? 1); i++) {
    const tt = at('01:00', d + 1) + i * 40 * MIN;
    out.push(motion(tt, 'motion-bedroom'), motion(tt + 2 * MIN, 'motion-bath'), motion(tt + 6 * MIN, 'motion-bath', 'h1', false), motion(tt + 8 * MIN, 'motion-bedroom'));
  }
  return out.sort((a, b) => a.at - b.at);
}

async function learned(days = 15) {
  const h = await harness({ start: at('05:00', 0) });
  for (let d = 0; d < days; d++) h.feed(...ordinaryDay(d));
  return h;
}

const learnedTypes = new Set(['routineMissed', 'unusualInactivity', 'unusualNightActivity', 'routineTrend']);
const explained = (f: Finding) => [f.message, f.expected, f.observed].every((l) => l.en.length > 10 && l.ja.length > 5 && /[぀-ヿ一-龯]/.test(l.ja));

t.test('learned rules stay silent while learning; progress is visible', async (t) => {
  const h = await harness({ start: at('05:00', 0) });
  for (let d = 0; d < 5; d++) h.feed(...ordinaryDay(d));
  h.feed(...ordinaryDay(5, { kettle: false }).filter((r) => r.at < at('12:00', 5)));
  h.clock.advanceTo(at('12:00', 5));
  t.same(h.findings.filter((f) => learnedTypes.has(f.type)), [], 'no learned finding before the learning period is over');
  const r = h.engine.routineOf('h1');
  t.equal(r.learning.ready, false);
  t.equal(r.learning.days, 5);
  t.match(r.learning.text.en, /day 5 of 14/);
  t.match(r.learning.text.ja, /14日中5日目/);
});

t.test('routine missed: "usually uses the kettle by 07:30 ± …; nothing yet at …", gentle, cleared when the kettle is used', async (t) => {
  const h = await learned();
  const r = h.engine.routineOf('h1');
  t.equal(r.learning.ready, true, 'ready after 14 days');
  const kettleSig = r.profiles.other.signals.find((s) => s.signal === 'firstKettle');
  t.ok(kettleSig && Math.abs(kettleSig.median - (7 * 60 + 30 - 240)) <= 3, 'usual kettle time learned (minutes after 04:00)');
  const day = ordinaryDay(15, { kettle: false }).filter((x) => x.at < at('11:00', 15));
  h.feed(...day);
  h.clock.advanceTo(at('11:00', 15));
  const missed = h.findings.filter((f) => f.type === 'routineMissed' && f.state === 'raised');
  t.equal(missed.length, 1, 'one routine-missed finding');
  const f = missed[0]!;
  t.equal(f.severity, 'info', 'gentle');
  t.equal(f.audience, 'family');
  t.ok(f.at >= at('08:00', 15) && f.at <= at('08:45', 15), `raised well after the usual 07:30 (at ${new Date(f.at).toISOString()})`);
  t.match(f.expected.en, /usually uses the kettle by 07:[23]\d ± \d+ min \(learned from 1[45] ordinary days/);
  t.match(f.observed.en, /Nothing yet at 08:\d\d/);
  t.match(f.expected.ja, /電気ポット/);
  t.ok(explained(f));
  h.feed(kettle(at('11:05', 15)));
  const cleared = h.findings.filter((x) => x.type === 'routineMissed' && x.state === 'cleared');
  t.equal(cleared.length, 1, 'cleared when the kettle is used');
  t.match(cleared[0]!.observed.en, /kettle was used at 11:05/);
});

t.test('unusual inactivity: raised sooner than the fixed 3-hour rule when she is normally busy, with odds; escalates', async (t) => {
  const h = await learned();
  h.feed(...ordinaryDay(15).filter((x) => x.at <= at('10:00', 15)));
  h.clock.advanceTo(at('16:00', 15));
  const ui = h.findings.filter((f) => f.type === 'unusualInactivity' && f.state === 'raised');
  const fixed = h.findings.filter((f) => f.type === 'noSignOfLife' && f.state === 'raised');
  t.equal(ui[0]?.severity, 'warning');
  t.ok(ui[0]!.at < at('13:00', 15), `learned warning (${(ui[0]!.at - at('10:00', 15)) / MIN} min) before the fixed one would be (3 h)`);
  t.same(fixed, [], 'one quiet spell, one alarm: the fixed net does not repeat what the learned rule already said');
  t.ok(ui[0]!.at - at('10:00', 15) <= 150 * MIN, 'within 2.5 hours of a busy morning');
  t.match(ui[0]!.expected.en, /some sign of life in \d+% of the hours between 09:\d\d and/);
  t.match(ui[0]!.expected.en, /happens on (about 1 in [\d,]+ days|fewer than)/);
  t.match(ui[0]!.expected.ja, /普段は/);
  t.ok(explained(ui[0]!));
  t.equal(ui[1]?.severity, 'critical', 'escalates to critical');
  t.ok(ui[1]!.at < at('16:00', 15));
});

t.test('going to bed early is sleep, not inactivity', async (t) => {
  const h = await learned();
  h.feed(...ordinaryDay(15).filter((x) => x.at <= at('19:00', 15)), motion(at('19:05', 15), 'motion-bedroom'));
  h.clock.advanceTo(at('06:00', 16));
  t.same(h.findings.filter((f) => f.type === 'unusualInactivity'), [], 'no alarm through the night');
});

t.test('going to bed after midnight is sleep too: the quiet counts from her usual time of getting up that morning', async (t) => {
  const h = await learned();
  // A late evening: busy in the living room until 00:40, to bed at 01:20 (after the day's 04:00 boundary is still ahead).
  const late: Reading[] = [];
  for (let m = 21 * 60 + 30; m <= 24 * 60 + 40; m += 20) late.push(motion(at('00:00', 15) + m * MIN, 'motion-living'));
  h.feed(...ordinaryDay(15).filter((x) => x.at <= at('21:00', 15)), ...late, motion(at('01:20', 16), 'motion-bedroom'));
  h.clock.advanceTo(at('06:30', 16));
  t.same(h.findings.filter((f) => f.type === 'unusualInactivity'), [], 'no alarm while she sleeps, before her usual time of getting up');
  h.clock.advanceTo(at('12:00', 16));
  const ui = h.findings.filter((f) => f.type === 'unusualInactivity' && f.state === 'raised');
  t.equal(ui[0]?.severity, 'warning', 'she does not get up: the learned rule still warns');
  const since = ui[0]!.data!.quietSince as number;
  t.ok(since >= at('06:30', 16) && since <= at('07:10', 16), `the quiet counts from her usual time of getting up (${new Date(since).toISOString()})`);
});

t.test('context: a hospital stay set by staff suppresses inactivity findings (learned and fixed)', async (t) => {
  const h = await learned();
  h.feed(...ordinaryDay(15).filter((x) => x.at <= at('10:00', 15)));
  const res = h.engine.setContext('h1', { away: [{ from: new Date(at('10:30', 15)).toISOString(), to: new Date(at('15:00', 19)).toISOString(), reason: 'hospital' }] });
  t.same(res.errors, []);
  h.feed(door(at('10:30', 15), true), door(at('10:31', 15), false));
  h.clock.advanceTo(at('14:59', 19));
  t.same(h.findings.filter((f) => f.state === 'raised' && f.severity !== 'info' && f.audience === 'family'), [], 'nothing raised while in hospital');
  t.same(h.engine.setContext('h1', { away: [{ from: 'soon', to: 'later', reason: 'moon' }] }).errors.length > 0, true, 'bad context is refused with reasons');
});

t.test('context: home early from a trip entered ahead, she is watched from her return; a hospital stay holds to its end', async (t) => {
  // A trip entered 10:30 on day 15 to 15:00 on day 17; she leaves at 10:30 and is home on day 16
  // at 14:00, then nothing moves (a fall in the hall). Held to the trip's end, the family would
  // hear nothing until day 17.
  const away = async (reason: 'trip' | 'day-care' | 'hospital') => {
    const h = await learned();
    h.feed(...ordinaryDay(15).filter((x) => x.at <= at('10:00', 15)));
    t.same(h.engine.setContext('h1', { away: [{ from: new Date(at('10:30', 15)).toISOString(), to: new Date(at('15:00', 17)).toISOString(), reason }] }).errors, []);
    h.feed(door(at('10:30', 15), true), door(at('10:31', 15), false));
    h.clock.advanceTo(at('14:00', 16));
    h.feed(door(at('14:00', 16), true), door(at('14:01', 16), false), motion(at('14:03', 16), 'motion-living'));
    return h;
  };
  const family = (h: Awaited<ReturnType<typeof learned>>) => h.findings.filter((f) => f.state === 'raised' && f.severity !== 'info' && f.audience === 'family');

  const trip = await away('trip');
  trip.clock.advanceTo(at('20:00', 16));
  const told = family(trip);
  // The learned rule speaks first (she is seldom quiet for long at this time of day; the fixed
  // rule does not repeat a silence already told).
  t.ok(told.length > 0 && told[0]!.at > at('14:03', 16) && told[0]!.at <= at('17:03', 16), `home at 14:01, silent since 14:03: the family is told by 17:03, not after day 17 15:00 (${told.map((f) => `${f.type}:${f.severity}@${new Date(f.at).toISOString()}`).join(', ')})`);
  t.ok(told[0] !== undefined && explained(told[0]), 'explained in both languages');
  t.equal(trip.engine.lastSignOfLife('h1'), at('14:03', 16));
  // The trip stays over for her: the next ticks do not enter it again.
  trip.feed(motion(at('20:05', 16), 'motion-living'));
  trip.clock.advanceTo(at('23:59', 16));
  t.ok(trip.findings.some((f) => f.state === 'cleared' && f.type === told[0]?.type && f.at === at('20:05', 16)), 'her movement at 20:05 answers the alarm, as at home');
  trip.clock.advanceTo(at('14:00', 17));
  t.ok(family(trip).some((f) => f.at > at('20:05', 16) && f.at < at('15:00', 17)), 'and the trip is not entered again behind it: the next morning\'s silence is told before the trip\'s end');

  const dayCare = await away('day-care');
  dayCare.clock.advanceTo(at('20:00', 16));
  t.ok(family(dayCare).some((f) => f.at <= at('17:03', 16)), 'the same for day-care entered ahead');

  // Day-care entered ahead from 09:00 on day 15, in a home whose outings are learned (10:00–11:30
  // daily): she presses 「元気です」 at 09:10, before the van at 09:30. That is her before going,
  // not her back: the day-care day holds. Ended by the button, her leaving would have read as an
  // outing nobody announced, "longer than usual" by 12:30.
  const van = await harness({ start: at('05:00', 0) });
  const outing = (d: number): Reading[] => [door(at('10:00', d), true), door(at('10:01', d), false), door(at('11:30', d), true), door(at('11:31', d), false), motion(at('11:33', d))];
  for (let d = 0; d < 15; d++) van.feed(...[...ordinaryDay(d).filter((x) => x.at < at('10:00', d) || x.at > at('11:40', d)), ...outing(d)].sort((a, b) => a.at - b.at));
  van.feed(...ordinaryDay(15).filter((x) => x.at <= at('08:50', 15)));
  t.same(van.engine.setContext('h1', { away: [{ from: new Date(at('09:00', 15)).toISOString(), to: new Date(at('16:00', 15)).toISOString(), reason: 'day-care' }] }).errors, []);
  van.clock.advanceTo(at('09:10', 15));
  van.feed(button(at('09:10', 15), 'ok'));
  van.clock.advanceTo(at('09:31', 15));
  van.feed(door(at('09:30', 15), true), door(at('09:31', 15), false));
  van.clock.advanceTo(at('15:59', 15));
  t.same(family(van).filter((f) => f.at > at('09:00', 15)).map((f) => `${f.type}@${new Date(f.at).toISOString()}`), [], 'a button before she left did not end the day-care day: nothing while she is there');

  // A hospital stay is held: the door and movement at 14:00 may be a relative fetching her things.
  const hospital = await away('hospital');
  hospital.feed(door(at('14:20', 16), true), door(at('14:21', 16), false));
  hospital.clock.advanceTo(at('14:59', 17));
  t.same(family(hospital), [], 'nothing raised while she is entered in hospital, whoever comes in');
});

t.test('context: back from an entered hospital stay — her outing is counted from the stay\'s end, not from the door she left by', async (t) => {
  // Tidy corpus: every stay ended with "went out and has not come back for 4 days" at its end.
  const stay = async () => {
    const h = await learned();
    h.feed(...ordinaryDay(15).filter((x) => x.at <= at('10:00', 15)));
    t.same(h.engine.setContext('h1', { away: [{ from: new Date(at('10:30', 15)).toISOString(), to: new Date(at('15:00', 19)).toISOString(), reason: 'hospital' }] }).errors, []);
    h.feed(door(at('10:30', 15), true), door(at('10:31', 15), false));
    return h;
  };
  const family = (h: Awaited<ReturnType<typeof learned>>) => h.findings.filter((f) => f.state === 'raised' && f.severity !== 'info' && f.audience === 'family').map((f) => `${f.type}:${f.severity}@${new Date(f.at).toISOString()}`);

  const back = await stay();
  back.clock.advanceTo(at('15:20', 19));
  back.feed(door(at('15:20', 19), true), door(at('15:21', 19), false), motion(at('15:23', 19)), ...ordinaryDay(19).filter((x) => x.at > at('15:30', 19)), ...ordinaryDay(20).filter((x) => x.at <= at('12:00', 20)));
  back.clock.advanceTo(at('12:00', 20));
  t.same(family(back), [], 'home 20 min after the stay ended: no family alarm');

  const late = await stay();
  late.clock.advanceTo(at('02:59', 20));
  t.same(family(late), [], 'not back: nothing before the fixed out-of-home limit (12 h) has passed since the stay ended');
  late.clock.advanceTo(at('03:00', 20));
  t.same(family(late), [`noSignOfLife:warning@${new Date(at('03:00', 20)).toISOString()}`], 'one warning 12 h after the stay ended');
  const w = late.findings.find((f) => f.type === 'noSignOfLife' && f.state === 'raised')!;
  t.match(w.message.en, /^Not back 12 h 0 min after the entered absence ended at 15:00/);
  t.match(w.message.ja, /登録された不在期間が 15:00 に終わってから12時間0分、戻っていません/);
  t.match(w.observed.en, /front door last closed at 10:31 when she left/);
  t.ok(explained(w));
  const notice = late.findings.find((f) => f.type === 'awayContext' && f.state === 'raised')!;
  t.equal(notice.at, at('01:00', 20), 'the info notice 10 h after the stay ended');
  t.match(notice.expected.en, /^Movement inside within 10 h 0 min after the entered absence ended at 15:00/);

  // A resident whose outings are learned (90 min a day): a trip entered 10:30 → day 17 15:00, not back.
  const h = await harness({ start: at('05:00', 0) });
  const outing = (d: number): Reading[] => [door(at('10:00', d), true), door(at('10:01', d), false), door(at('11:30', d), true), door(at('11:31', d), false), motion(at('11:33', d))];
  for (let d = 0; d < 15; d++) h.feed(...[...ordinaryDay(d).filter((x) => x.at < at('10:00', d) || x.at > at('11:40', d)), ...outing(d)].sort((a, b) => a.at - b.at));
  h.feed(...ordinaryDay(15).filter((x) => x.at <= at('10:00', 15)));
  t.same(h.engine.setContext('h1', { away: [{ from: new Date(at('10:30', 15)).toISOString(), to: new Date(at('15:00', 17)).toISOString(), reason: 'trip' }] }).errors, []);
  h.feed(door(at('10:30', 15), true), door(at('10:31', 15), false));
  h.clock.advanceTo(at('17:59', 17));
  t.same(family(h), [], 'nothing before 3 h past the trip\'s end');
  h.clock.advanceTo(at('12:00', 18));
  t.same(family(h), [`awayContext:warning@${new Date(at('18:00', 17)).toISOString()}`], 'one warning, 3 h after the trip ended (usually back within 1 h 30 min); the fixed rule does not repeat it');
  const a = h.findings.find((f) => f.type === 'awayContext' && f.state === 'raised' && f.severity === 'warning')!;
  t.match(a.message.en, /^Not back 3 h 0 min after the entered absence ended at 15:00 — usually back within 1 h 30 min of going out/);
  t.match(a.message.ja, /登録された不在期間が 15:00 に終わってから3時間0分、戻っていません/);
  t.ok(explained(a));
});

t.test('a late riser\'s bed mat stirring in the small hours continues her night: a still spell in bed before her usual getting-up is sleep', async (t) => {
  // To bed at 23:00 (bed mat pressed), the mat stirs every 30 min, up at 10:00 (released, bedroom, then about the house).
  const h = await harness({ start: at('05:00', 0) });
  const day = (d: number, stirUntil = '09:30'): Reading[] => {
    const out: Reading[] = [];
    const until = at(stirUntil, d + 1);
    for (let m = 23 * 60 + 30; at('00:00', d) + m * MIN <= until; m += 30) out.push(motion(at('00:00', d) + m * MIN, 'bed-mat'));
    out.push(motion(at('10:00', d + 1), 'bed-mat', 'h1', false), motion(at('10:01', d + 1), 'motion-bedroom'));
    for (let m = 10 * 60 + 30; m <= 22 * 60 + 30; m += 30) out.push(motion(at('00:00', d + 1) + m * MIN + ((d * 3) % 7) * MIN, 'motion-living'));
    out.push(motion(at('23:00', d + 1), 'motion-bedroom'), motion(at('23:00', d + 1) + 30_000, 'bed-mat'));
    return out;
  };
  h.feed(motion(at('23:00', 0), 'motion-bedroom'), motion(at('23:00', 0) + 30_000, 'bed-mat'));
  for (let d = 0; d < 16; d++) h.feed(...day(d));
  t.ok(h.engine.routineOf('h1').learning.ready, 'the routine is learned');
  const wake = h.engine.routineOf('h1').profiles.other.signals.find((s) => s.signal === 'firstActivity')?.median ?? NaN;
  t.ok(Math.abs(wake - 6 * 60) <= 1, `usually up at 10:00-10:01, not when the mat stirs (${wake} min after 04:00)`);
  const before = h.findings.length;
  // Night 16 → 17: the mat stirs until 05:30, then lies still until she gets up at 10:00.
  h.feed(...day(16, '05:30'));
  t.same(h.findings.slice(before).filter((f) => f.state === 'raised' && f.audience === 'family' && f.severity !== 'info').map((f) => `${f.type}@${new Date(f.at).toISOString()}`), [], 'a still spell in bed 05:30–10:00 raises nothing, nor the day after it');
  // Night 17 → 18: the mat stirs until 05:30 and she does not get up: told once her usual morning has passed.
  const next = h.findings.length;
  h.feed(...day(17, '05:30').filter((r) => r.at <= at('05:30', 18)));
  h.clock.advanceTo(at('14:00', 18));
  const told = h.findings.slice(next).filter((f) => f.state === 'raised' && f.audience === 'family' && f.severity !== 'info');
  t.ok(told.length > 0 && told[0]!.at > at('10:00', 18) && told[0]!.at <= at('13:00', 18), `not up: a family alarm after 10:00 (${told.map((f) => `${f.type}@${new Date(f.at).toISOString()}`).join(', ')})`);
});

/** Her days with a day-care Monday: an outing 10:01–11:30 on other days, day-care 09:01–15:30 on Mondays. */
const outingDay = (d: number): Reading[] => [door(at('10:00', d), true), door(at('10:01', d), false), door(at('11:30', d), true), door(at('11:31', d), false), motion(at('11:33', d))];
const dayCareTrip = (d: number): Reading[] => [door(at('09:00', d), true), door(at('09:01', d), false), door(at('15:30', d), true), door(at('15:31', d), false), motion(at('15:33', d))];
const tripDay = (d: number, trip: (d: number) => Reading[]) => [...ordinaryDay(d).filter((x) => x.at < at('08:50', d) || x.at > at('15:40', d)), ...trip(d)].sort((a, b) => a.at - b.at);
const isMonday = (d: number) => new Date(at('12:00', d)).getUTCDay() === 1;

/** 16 days of `tripDay` (two day-care Mondays: too few for their own profile), day-care days set to Mondays. */
async function dayCareHome() {
  const h = await harness({ start: at('05:00', 0) });
  const errors = h.engine.setContext('h1', { dayCareDays: [1] }).errors;
  for (let d = 0; d < 16; d++) h.feed(...tripDay(d, isMonday(d) ? dayCareTrip : outingDay));
  return { h, errors };
}

t.test('context: a day-care day before day-care days are learned is not "longer than usual" after her daily outings', async (t) => {
  // Tidy corpus: a six-hour day-care trip warned at 3 h from the short outings of her other days.
  const { h, errors } = await dayCareHome();
  t.same(errors, []);
  t.ok(h.engine.routineOf('h1').learning.ready, 'the routine is learned');
  t.equal(h.engine.routineOf('h1').profiles.other.signals.find((s) => s.signal === 'longestOuting')?.median, 90, 'other days: longest outing 90 min');
  t.equal(new Date(at('12:00', 16)).getUTCDay(), 1, 'day 16 is a Monday, a day-care day');
  const before = h.findings.length;
  h.feed(...tripDay(16, dayCareTrip));
  h.clock.advanceTo(at('18:00', 16));
  t.same(h.findings.slice(before).filter((f) => f.state === 'raised' && f.audience === 'family' && f.severity !== 'info'), [], 'the day-care trip (09:01–15:30) raises nothing');
});

t.test('context: an outing is judged by the day she left — one from a day-care day is not held to the next day\'s walks when 04:00 passes', async (t) => {
  const { h, errors } = await dayCareHome();
  t.same(errors, []);
  t.equal(h.engine.routineOf('h1').profiles.other.signals.find((s) => s.signal === 'longestOuting')?.median, 90, 'other days: longest outing 90 min');
  // Day 16, a day-care Monday (its own profile not learned yet: 10 h): day-care, then at 21:00 she
  // leaves again to spend the night at her daughter's, unannounced, and is back at 06:30 on Tuesday.
  h.feed(...tripDay(16, dayCareTrip).filter((x) => x.at < at('21:00', 16)), door(at('21:00', 16), true), door(at('21:01', 16), false));
  const before = h.findings.length;
  h.clock.advanceTo(at('06:29', 17));
  t.same(h.findings.slice(before).filter((f) => f.state === 'raised' && f.audience === 'family').map((f) => `${f.type}:${f.severity}`), [],
    'nothing at 04:00, when Tuesday began (before: "not back for 6 h 59 min, usually back within 1 h 30 min" — Tuesday\'s walks applied to Monday night)');
  h.feed(door(at('06:30', 17), true), door(at('06:31', 17), false), motion(at('06:33', 17)), ...ordinaryDay(17).filter((x) => x.at > at('06:40', 17) && x.at < at('12:00', 17)));
  h.clock.advanceTo(at('12:00', 17));
  t.same(h.findings.slice(before).filter((f) => f.state === 'raised' && f.audience === 'family').map((f) => `${f.type}:${f.severity}`), [], 'back at 06:30, within the day-care day\'s 10 h: nothing');
  // Not back at all: the day-care day's limit (10 h) still speaks, and the fixed net after it.
  const { h: away } = await dayCareHome();
  away.feed(...tripDay(16, dayCareTrip).filter((x) => x.at < at('21:00', 16)), door(at('21:00', 16), true), door(at('21:01', 16), false));
  const from = away.findings.length;
  away.clock.advanceTo(at('09:01', 17));
  t.same(away.findings.slice(from).filter((f) => f.state === 'raised' && f.audience === 'family').map((f) => `${f.type}:${f.severity}@${new Date(f.at).toISOString().slice(11, 16)}`),
    ['awayContext:info@22:01', 'noSignOfLife:warning@00:01'], 'the "seems to be away" notice at 07:01 (10 h) and the fixed 12 h warning at 09:01 (Tokyo; UTC shown)');
});

t.test('context: a resident whose usual longest outing is as long as the notice (10 h) is never told she is out "longer than usual" at 10 h', async (t) => {
  // Learned: out 09:00–20:30 (11 h 30) every day — at work, or at her daughter's.
  const h = await harness({ start: at('05:00', 0) });
  const outing = (d: number): Reading[] => [door(at('09:00', d), true), door(at('09:01', d), false), door(at('20:30', d), true), door(at('20:31', d), false), motion(at('20:33', d))];
  for (let d = 0; d < 15; d++) h.feed(...[...ordinaryDay(d).filter((x) => x.at < at('09:00', d) || x.at > at('20:40', d)), ...outing(d)].sort((a, b) => a.at - b.at));
  t.ok(h.engine.routineOf('h1').profiles.other.signals.find((s) => s.signal === 'longestOuting')!.median >= 600, 'learned: longest outing at least 10 h');
  h.feed(...ordinaryDay(15).filter((x) => x.at < at('09:00', 15)), door(at('09:00', 15), true), door(at('09:01', 15), false));
  h.clock.advanceTo(at('21:00', 15));
  const told = h.findings.filter((f) => f.at > at('09:01', 15) && f.state === 'raised' && f.audience === 'family');
  t.same(told.map((f) => `${f.type}:${f.severity}`), ['awayContext:info'], 'at 10 h the "seems to be away" notice, not a warning');
  t.notMatch(told[0]!.message.en, /longer than usual/);
  h.clock.advanceTo(at('21:01', 15));
  t.same(h.findings.filter((f) => f.at > at('09:01', 15) && f.state === 'raised' && f.audience === 'family' && f.severity === 'warning').map((f) => `${f.type}@${new Date(f.at).toISOString().slice(11, 16)}`), ['noSignOfLife@12:01'], 'the out-of-home warning at 12 h (21:01 Tokyo; UTC shown)');
});

t.test('context: an unannounced absence never pauses the safety net; longer than her usual longest outing → one warning', async (t) => {
  // Learned: out 10:00–11:30 (door, then the door again on coming home, then movement) every day.
  const h = await harness({ start: at('05:00', 0) });
  const outing = (d: number): Reading[] => [door(at('10:00', d), true), door(at('10:01', d), false), door(at('11:30', d), true), door(at('11:31', d), false), motion(at('11:33', d))];
  for (let d = 0; d < 15; d++) h.feed(...[...ordinaryDay(d).filter((x) => x.at < at('10:00', d) || x.at > at('11:40', d)), ...outing(d)].sort((a, b) => a.at - b.at));
  t.equal(h.engine.routineOf('h1').profiles.other.signals.find((s) => s.signal === 'longestOuting')?.median, 90, 'learned: longest outing 90 min');
  h.feed(...ordinaryDay(15).filter((x) => x.at <= at('09:00', 15)), door(at('09:30', 15), true), door(at('09:31', 15), false));
  h.clock.advanceTo(at('12:30', 15));
  t.same(h.findings.filter((f) => f.at > at('09:31', 15) && f.state === 'raised' && f.audience === 'family'), [], 'nothing at 3 h');
  h.clock.advanceTo(at('12:31', 15));
  const warned = h.findings.filter((f) => f.at > at('09:31', 15) && f.state === 'raised' && f.audience === 'family');
  t.same(warned.map((f) => `${f.type}:${f.severity}`), ['awayContext:warning'], 'one family warning after 3 h (usually back within 1 h 30 min)');
  t.match(warned[0]!.message.en, /longer than usual — usually back within 1 h 30 min/);
  t.match(warned[0]!.message.ja, /出かけたまま、いつもより長く戻っていません（3時間0分）— いつもは1時間30分以内に戻ります/);
  t.match(warned[0]!.observed.en, /safety checks stay on/);
  h.clock.advanceTo(at('12:00', 16));
  t.same(h.findings.filter((f) => f.at > at('09:31', 15) && f.state === 'raised' && f.audience === 'family').length, 1, 'the fixed rule does not warn again about the same outing');
  h.feed(door(at('13:00', 16), true), door(at('13:01', 16), false));
  const back = h.findings.filter((f) => f.type === 'awayContext' && f.state === 'cleared');
  t.equal(back.length, 1, 'back home: the door again');
  t.match(back[0]!.message.en, /Back home: the front door closed again at 13:01/);
  t.equal(h.engine.routineOf('h1').away.length, 0, 'nothing was entered as away');
});

t.test('context: a resident who stays away a night every few days is not "longer than usual" after her daily outing length (learned limits)', async (t) => {
  // Out 10:00–11:30 most days, and out 10:00 → 06:00 the next morning (20 h) on days 4, 10 and 16:
  // the routine is learned (the nights away are not ordinary days) and so are the nights away.
  const h = await harness({ start: at('05:00', 0) });
  const nightsAway = new Set([4, 10, 16]);
  const outing = (d: number): Reading[] => [door(at('10:00', d), true), door(at('10:01', d), false), door(at('11:30', d), true), door(at('11:31', d), false), motion(at('11:33', d))];
  for (let d = 0; d < 22; d++) {
    if (nightsAway.has(d - 1)) continue; // the day she comes back is in the night away below
    if (nightsAway.has(d)) {
      h.feed(...ordinaryDay(d).filter((x) => x.at < at('10:00', d)), door(at('10:00', d), true), door(at('10:01', d), false));
      h.feed(door(at('06:00', d + 1), true), door(at('06:01', d + 1), false), ...ordinaryDay(d + 1).filter((x) => x.at > at('06:02', d + 1)));
      continue;
    }
    h.feed(...[...ordinaryDay(d).filter((x) => x.at < at('10:00', d) || x.at > at('11:40', d)), ...outing(d)].sort((a, b) => a.at - b.at));
  }
  t.ok(h.engine.routineOf('h1').learning.ready, 'the routine is learned');
  const before = h.findings.length;
  h.feed(...ordinaryDay(22).filter((x) => x.at <= at('09:00', 22)), door(at('09:30', 22), true), door(at('09:31', 22), false));
  const family = () => h.findings.slice(before).filter((f) => f.state === 'raised' && f.audience === 'family' && f.severity !== 'info');
  h.clock.advanceTo(at('10:30', 23));
  t.same(family(), [], 'no warning at 3 h (her daily outings) nor at 12 h: her nights away last 20 h');
  h.clock.advanceTo(at('10:31', 23));
  t.same(family().map((f) => `${f.type}:${f.severity}`), ['noSignOfLife:warning'], 'one warning at 25 h (1.25 × her longest recent outing)');
  t.match(family()[0]!.message.en, /her longest recent outing was 20 h 0 min/);
});

t.test('context: before the routine is learned, an unannounced absence is an info notice, and the fixed rule still warns', async (t) => {
  const h = await harness({ start: at('05:00', 0) });
  h.feed(...ordinaryDay(0).filter((x) => x.at <= at('09:00', 0)), door(at('09:30', 0), true), door(at('09:31', 0), false));
  h.clock.advanceTo(at('12:00', 1));
  const raised = h.findings.filter((f) => f.state === 'raised' && f.audience === 'family');
  t.same(raised.map((f) => `${f.type}:${f.severity}`), ['awayContext:info', 'noSignOfLife:warning'], 'info at 10 h, the fixed warning at 12 h; no critical');
  t.equal(raised[1]!.at, at('21:31', 0));
});

t.test('a visitor after a critical inactivity alarm is not taken for the resident; her OK button is', async (t) => {
  const h = await learned();
  h.feed(...ordinaryDay(15).filter((x) => x.at <= at('09:00', 15)));
  h.clock.advanceTo(at('15:00', 15));
  t.ok(h.findings.some((f) => f.type === 'unusualInactivity' && f.severity === 'critical'), 'critical');
  h.feed(door(at('15:10', 15), true), door(at('15:11', 15), false), motion(at('15:12', 15)), kettle(at('15:20', 15)));
  const after = h.findings.filter((f) => f.type === 'unusualInactivity' && f.at >= at('15:10', 15));
  t.same(after.map((f) => `${f.state}:${f.severity}`), ['raised:info'], 'a "someone came in" notice, not a clear');
  t.match(after[0]!.observed.en, /may be a visitor's/);
  h.feed(button(at('15:30', 15), 'ok'));
  t.same(h.findings.filter((f) => f.type === 'unusualInactivity' && f.state === 'cleared').length, 1, 'cleared by her own OK');
});

t.test('unusual night activity: a restless night far beyond her usual toilet visit', async (t) => {
  const h = await learned();
  h.feed(...ordinaryDay(15).filter((x) => x.at < at('23:00', 15)));
  for (let m = 0; m < 180; m += 10) h.feed(motion(at('23:30', 15) + m * MIN, m % 20 ? 'motion-living' : 'motion-kitchen'));
  const night = h.findings.filter((f) => f.type === 'unusualNightActivity' && f.state === 'raised');
  t.equal(night.length, 1);
  t.equal(night[0]!.severity, 'warning');
  t.ok(explained(night[0]!));
  h.clock.advanceTo(at('05:00', 16));
  t.equal(h.findings.filter((f) => f.type === 'unusualNightActivity' && f.state === 'cleared').length, 1, 'cleared when the night is over');
});

t.test('slow trend: more night-time toilet visits over weeks is an observation for the caregiver, not an alarm', async (t) => {
  const h = await harness({ start: at('05:00', 0) });
  for (let d = 0; d < 56; d++) h.feed(...ordinaryDay(d, { toilets: d < 35 ? (d % 3 === 0 ? 1 : 0) : 3 }));
  h.clock.advanceTo(at('05:00', 56));
  const obs = h.findings.filter((f) => f.type === 'routineTrend' && f.state === 'raised');
  t.equal(obs.length, 1);
  t.equal(obs[0]!.audience, 'caregiver');
  t.equal(obs[0]!.severity, 'info');
  t.match(obs[0]!.message.en, /more night-time toilet visits/);
  t.match(obs[0]!.observed.ja, /緊急のお知らせではありません/);
  t.same(h.findings.filter((f) => f.state === 'raised' && f.severity !== 'info' && f.audience === 'family'), [], 'no family alarms on ordinary days');
});

t.test('one quiet spell, one alarm: after the learned warning the fixed net speaks only to escalate', async (t) => {
  const h = await learned();
  h.feed(...ordinaryDay(15).filter((x) => x.at <= at('10:00', 15)));
  h.clock.advanceTo(at('20:00', 15));
  const raised = h.findings.filter((f) => (f.type === 'unusualInactivity' || f.type === 'noSignOfLife') && f.state === 'raised').map((f) => `${f.type}:${f.severity}`);
  t.same(raised.filter((x) => x.endsWith(':warning')), ['unusualInactivity:warning'], 'one warning for the spell');
  t.ok(raised.filter((x) => x.endsWith(':critical')).length <= 1, `at most one critical (${raised.join(', ')})`);
});

t.test('default rules: a critical held open by a visit, then nothing moving for 3 h, is a new alarm (whichever silence rule holds the critical)', async (t) => {
  const h = await learned();
  h.feed(...ordinaryDay(15).filter((x) => x.at <= at('09:00', 15)));
  h.clock.advanceTo(at('15:00', 15));
  const before = h.findings.length;
  h.feed(door(at('15:10', 15), true), door(at('15:11', 15), false), motion(at('15:12', 15)));
  h.clock.advanceTo(at('18:11', 15));
  const quiet = h.findings.slice(before).filter((f) => f.state === 'raised' && f.audience === 'family' && f.severity === 'critical');
  t.same(quiet, [], 'not before 3 h of quiet');
  h.clock.advanceTo(at('18:13', 15));
  const again = h.findings.slice(before).filter((f) => f.state === 'raised' && f.audience === 'family' && f.severity === 'critical');
  t.equal(again.length, 1, 'one new alarm');
  t.equal(again[0]?.data?.again, true, 'marked again, so an acknowledged alert pages anew');
  t.match(again[0]?.message.en ?? '', /since someone came in through the front door/);
  t.equal(again[0]?.type, 'noSignOfLife', 'raised by the fixed net (the learned rule held the critical)');
  h.feed(motion(at('18:30', 15)));
  t.ok(h.findings.some((f) => f.type === 'noSignOfLife' && f.state === 'cleared' && f.at >= at('18:30', 15)), 'her next sign of life clears the new alarm');
  // The learned rule still holds its critical (until OK, away or the next day); 3 h of quiet again is
  // the fixed net's ordinary warning, not another critical for the same visit.
  h.clock.advanceTo(at('21:45', 15));
  const later = h.findings.filter((f) => f.state === 'raised' && f.audience === 'family' && f.at > at('18:30', 15));
  t.same(later.map((f) => `${f.type}:${f.severity}`), ['noSignOfLife:warning'], 'once per visit');
});

t.test('a quiet spell across the night the clocks go back is weighed hour by hour as she lives them, not shifted an hour', async (t) => {
  // New York, 2027: the clocks go back at 02:00 on Sunday 7 November. Day 0 is Saturday 23 October.
  const zone = new ZoneClock('America/New_York');
  const nyAt = (hhmm: string, d = 0): number => {
    const date = new Date(Date.UTC(2027, 9, 23 + d)).toISOString().slice(0, 10);
    const guess = Date.parse(`${date}T${hhmm}:00-04:00`);
    const [hh, mm] = hhmm.split(':').map(Number) as [number, number];
    return zone.msOfDay(guess) === (hh * 60 + mm) * MIN ? guess : Date.parse(`${date}T${hhmm}:00-05:00`);
  };
  // The learned rule alone: with the default set the fixed net warns first (3 h after 21:40) and the learned rule keeps quiet.
  const h = await harness({ start: nyAt('05:00', 0), rules: { timezone: 'America/New_York', rules: [{ type: 'unusualInactivity' }] } });
  for (let d = 0; d < 14; d++) h.feed(...ordinaryDay(d, { at: nyAt }));
  // Saturday 6 November: an ordinary day until 21:40 in the living room — then nothing: not to bed, no night toilet.
  h.feed(...ordinaryDay(14, { at: nyAt }).filter((r) => r.at <= nyAt('21:00', 14)), motion(nyAt('21:40', 14), 'motion-living'));
  h.clock.advanceTo(nyAt('06:00', 15));
  // Her usual 22:00–01:00 is quiet; read an hour early (as 21:00–00:00, the end of her busy evening and her night
  // toilet's hour) the spell looked improbable by the time the new day began at 04:00.
  t.same(h.findings.filter((f) => f.type === 'unusualInactivity'), [], 'no learned alarm in the night: the quiet so far is her usual night but for one toilet visit');
  h.clock.advanceTo(nyAt('10:00', 15));
  const ui = h.findings.filter((f) => f.type === 'unusualInactivity' && f.state === 'raised');
  t.equal(ui[0]?.severity, 'warning', 'she does not get up: warned in the morning');
  t.ok(ui[0]!.at > nyAt('06:00', 15) && ui[0]!.at <= nyAt('09:00', 15), `warned at ${new Date(ui[0]!.at).toISOString()}`);
});
