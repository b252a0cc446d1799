// The learned baseline: statistics, day-care vs other days, drift, persistence across a restart, rebuild from history.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { VirtualClock } from '../../core/clock.js';
import type { Reading } from '../../core/events.js';
import type { Finding } from '../../core/findings.js';
import { silentLogger } from '../../core/logger.js';
import { createSqliteStore } from '../../core/store.js';
import { createBaseline, isReady, observe, profileFor, restoreBaseline, rollTo, serializeBaseline } from '../../rules/baseline.js';
import { popcount, summarise } from '../../rules/baseline-stats.js';
import { bedMatOf, observeRules } from '../../rules/baseline-book.js';
import { emptyContext } from '../../rules/context.js';
import type { HomeRules } from '../../rules/home-state.js';
import { noSignOfLifeRule } from '../../rules/rule-config.js';
import { createRuleEngine } from '../../rules/engine.js';
import { quietLogChance } from '../../rules/rules/routine-inactivity.js';
import { ZoneClock } from '../../rules/rules/rule.js';
import { at, door, kettle, MIN, motion } from './helpers.js';

/** Day `d`: kettle at `kettleAt` (+ small jitter), movement every 30 min 07:00–21:00, bed at 21:30. DAY0 is a Saturday. */
function day(d: number, kettleAt = '07:30'): Reading[] {
  const jitter = ((d * 7) % 11) - 5;
  const out: Reading[] = [motion(at('06:55', d), 'motion-bedroom'), kettle(at(kettleAt, d) + jitter * MIN), kettle(at(kettleAt, d) + (jitter + 4) * MIN, 'off')];
  for (let m = 7 * 60; m <= 21 * 60; m += 30) out.push(motion(at('00:00', d) + m * MIN + 60_000, 'motion-living'));
  out.push(motion(at('21:30', d), 'motion-bedroom'));
  return out.sort((a, b) => a.at - b.at);
}

t.test('robust statistics: the median and MAD ignore one strange day', async (t) => {
  const s = summarise([200, 210, 205, 195, 600, 202, NaN], 10)!;
  t.equal(s.median, 203.5);
  t.ok(s.spread < 20, 'one outlier does not blow up the spread');
  t.equal(s.happened, 6 / 7);
  t.equal(popcount(0b1011), 3);
});

t.test('learns first kettle use and first activity in O(1) per reading; day-care days get their own profile', async (t) => {
  const zone = new ZoneClock('Asia/Tokyo');
  const b = createBaseline();
  // DAY0 (2026-11-21) is a Saturday; Tuesdays (2) are day-care days with an early kettle.
  const ctx = { ...emptyContext(), dayCareDays: [2] };
  for (let d = 0; d < 28; d++) {
    const tuesday = (6 + d) % 7 === 2;
    for (const r of day(d, tuesday ? '06:30' : '08:00')) observe(b, r, r.kind !== 'kettle' || r.state === 'on', { zone, context: ctx, frontDoor: 'front' });
  }
  rollTo(b, at('05:00', 28), ctx, zone);
  t.equal(b.days, 28);
  t.equal(b.profiles.dayCare.days, 4);
  t.equal(b.profiles.other.days, 24);
  const other = b.profiles.other.summary.firstKettle!, care = b.profiles.dayCare.summary.firstKettle!;
  t.ok(Math.abs(other.median - (8 * 60 - 240)) <= 5, `other days: about 08:00 (${other.median})`);
  t.ok(Math.abs(care.median - (6 * 60 + 30 - 240)) <= 5, `day-care days: about 06:30 (${care.median})`);
  t.ok(b.profiles.other.hourP[10 - 4]! > 0.9, 'busy at 10:00');
  t.ok(b.profiles.other.hourP[3 - 4 + 24]! < 0.1, 'quiet at 03:00');

  // Four weeks of weekly day-care: the learned rules speak on day-care days too. The day-care
  // profile stands in only once it is ready itself; before, with 4–6 day-care days it stood in
  // unready and the learned rules fell silent on every day-care day (messy corpus: a collapse at
  // 18:46 after day-care found after 9 h 13 min by the fixed net instead of 1 h 51 min).
  t.ok(isReady(b, 'other'), 'ready on other days');
  t.ok(isReady(b, 'dayCare'), 'ready on day-care days');
  t.equal(profileFor(b, 'dayCare'), b.profiles.other, 'day-care days speak from the other days until their own profile is ready');
  for (let d = 28; d < 49; d++) {
    const tuesday = (6 + d) % 7 === 2;
    for (const r of day(d, tuesday ? '06:30' : '08:00')) observe(b, r, r.kind !== 'kettle' || r.state === 'on', { zone, context: ctx, frontDoor: 'front' });
  }
  rollTo(b, at('05:00', 49), ctx, zone);
  t.equal(b.profiles.dayCare.days, 7);
  t.equal(profileFor(b, 'dayCare'), b.profiles.dayCare, 'seven day-care days: their own profile');
  t.ok(isReady(b, 'dayCare'));
});

t.test('adapts slowly to drift: a new habit takes over within the window, not overnight', async (t) => {
  const zone = new ZoneClock('Asia/Tokyo');
  const ctx = emptyContext();
  const b = createBaseline();
  const feed = (d: number, k: string) => { for (const r of day(d, k)) observe(b, r, true, { zone, context: ctx, frontDoor: 'front' }); };
  for (let d = 0; d < 28; d++) feed(d, '07:00');
  for (let d = 28; d < 31; d++) feed(d, '09:00');
  rollTo(b, at('05:00', 31), ctx, zone);
  t.ok(b.profiles.other.summary.firstKettle!.median < 3 * 60 + 10, 'three later days do not move the usual time');
  for (let d = 31; d < 50; d++) feed(d, '09:00');
  rollTo(b, at('05:00', 50), ctx, zone);
  t.ok(b.profiles.other.summary.firstKettle!.median > 4 * 60 + 50, 'three weeks later the new habit is the usual time');
});

t.test('a bed mat stirring is her in bed: not getting up, not up at night; a seat mat and a bedroom PIR are', async (t) => {
  const zone = new ZoneClock('Asia/Tokyo');
  const ctx = emptyContext();
  // The engine's own answer for a home whose noSignOfLife rule names no held devices: the id says mat and bed.
  const inBed = bedMatOf({ rules: [noSignOfLifeRule.parse({ type: 'noSignOfLife' })] } as unknown as HomeRules);
  t.ok(inBed('bed-mat') && inBed('mat-bed-links'), 'bed mats');
  t.notOk(inBed('seat-mat') || inBed('motion-bedroom') || inBed('bedroom-door'), 'a seat mat, a bedroom PIR, a bedroom door: not');
  t.notOk(bedMatOf({ rules: [] } as unknown as HomeRules)('bed-mat'), 'no noSignOfLife rule: no bed mat');
  const b = createBaseline();
  const o = { zone, context: ctx, frontDoor: 'front', inBed };
  // In bed all night, turning over every 20 min from 23:00 (day 0) to 08:40 (day 1); up at 09:00 (bedroom PIR).
  for (let m = 23 * 60; m < 32 * 60 + 40; m += 20) observe(b, motion(at('00:00') + m * MIN, 'bed-mat'), true, o);
  observe(b, motion(at('09:00', 1), 'motion-bedroom'), true, o);
  t.equal(b.today!.firstActivity, 5 * 60, 'day 1: up at 09:00, not 04:00 when the mat stirred');
  rollTo(b, at('05:00', 2), ctx, zone);
  const night = createBaseline();
  for (let m = 23 * 60; m < 27 * 60; m += 20) observe(night, motion(at('00:00') + m * MIN, 'bed-mat'), true, o);
  t.equal(popcount(night.today!.nightSlots), 0, 'a night of turning over is not time up at night');
  observe(night, motion(at('02:00', 1), 'seat-mat'), true, o);
  observe(night, motion(at('02:30', 1), 'motion-bath'), true, o);
  t.equal(popcount(night.today!.nightSlots), 2, 'in the chair at 02:00, in the bathroom at 02:30: up');
  const plain = createBaseline();
  observe(plain, motion(at('04:20'), 'bed-mat'), true, { zone, context: ctx, frontDoor: 'front' });
  t.equal(plain.today!.firstActivity, 20, 'without the engine\'s answer every sign counts, as before');
});

t.test('a trip to the toilet before her waking hours, then back to bed: getting up is her first sign after a whole empty hour (CASAS AL)', async (t) => {
  const zone = new ZoneClock('Asia/Tokyo');
  const ctx = emptyContext();
  const rules = (wakingHours?: { from: string; to: string }) => ({ rules: [noSignOfLifeRule.parse({ type: 'noSignOfLife', ...(wakingHours ? { wakingHours } : {}) })] } as unknown as HomeRules);
  const from = observeRules(rules({ from: '08:15', to: '23:00' }));
  t.equal(from.wakeFrom, 4 * 60 + 15, 'her waking hours begin 4 h 15 after the day\'s start (04:00)');
  t.equal(observeRules(rules()).wakeFrom, 3 * 60, 'the default waking hours: 07:00');
  t.equal(observeRules({ rules: [] } as unknown as HomeRules).wakeFrom, undefined, 'no noSignOfLife rule: not known');
  const o = { zone, context: ctx, frontDoor: 'front', inBed: from.inBed, wakeFrom: from.wakeFrom };
  const feed = (b: ReturnType<typeof createBaseline>, times: string[], device = 'motion-bath', d = 1) => { for (const hhmm of times) observe(b, motion(at(hhmm, d), device), true, o); };

  const trips = createBaseline();
  feed(trips, ['04:20', '04:24']);
  feed(trips, ['04:26'], 'motion-bedroom');
  t.equal(trips.today!.firstActivity, 20, 'up at 04:20 as far as anyone knows yet');
  feed(trips, ['05:40', '05:43']);
  t.equal(trips.today!.firstActivity, 20, '05:40, the hour after: still the 04:20 trip');
  feed(trips, ['08:05'], 'motion-kitchen');
  t.equal(trips.today!.firstActivity, 4 * 60 + 5, 'nothing from 06:00 to 08:00: the trips were her night; she got up at 08:05');
  feed(trips, ['08:30', '10:40'], 'motion-kitchen');
  t.equal(trips.today!.firstActivity, 4 * 60 + 5, 'after her waking hours began, an empty hour is her sitting still, not going back to bed');

  const early = createBaseline();
  for (let m = 4 * 60 + 20; m <= 9 * 60; m += 20) observe(early, motion(at('00:00', 1) + m * MIN, 'motion-kitchen'), true, o);
  t.equal(early.today!.firstActivity, 20, 'up at 04:20 and busy every hour after: she got up at 04:20');

  const nap = createBaseline();
  feed(nap, ['04:20', '04:25'], 'motion-kitchen');
  observe(nap, motion(at('06:00', 1), 'bed-mat'), true, o);
  feed(nap, ['08:00'], 'motion-kitchen');
  t.equal(nap.today!.firstActivity, 4 * 60, 'back in bed (the mat pressed at 06:00), nothing 07:00–08:00: up at 08:00');

  const plain = createBaseline();
  for (const hhmm of ['04:20', '08:05']) observe(plain, motion(at(hhmm, 1), 'motion-bath'), true, { zone, context: ctx, frontDoor: 'front' });
  t.equal(plain.today!.firstActivity, 20, 'without waking hours every first sign counts, as before');
});

t.test('outings are counted from the front door and the first movement after', async (t) => {
  const zone = new ZoneClock('Asia/Tokyo');
  const ctx = emptyContext();
  const b = createBaseline();
  const o = { zone, context: ctx, frontDoor: 'front' };
  for (const r of [motion(at('09:00')), door(at('10:00'), true), door(at('10:01'), false), motion(at('12:00')), door(at('13:00'), true), door(at('13:01'), false), motion(at('13:02'))]) observe(b, r, true, o);
  t.equal(b.today!.outings, 1, 'out 10:01–12:00 is an outing; a quick door at 13:00 is not');
  t.ok((b.today!.outHours >>> (10 - 4)) & 1, 'hours out are not held against the hourly profile');
});

t.test('serialised baseline round-trips; garbage is refused with a reason', async (t) => {
  const zone = new ZoneClock('Asia/Tokyo');
  const b = createBaseline();
  for (let d = 0; d < 3; d++) for (const r of day(d)) observe(b, r, true, { zone, context: emptyContext(), frontDoor: 'front' });
  const copy = restoreBaseline(JSON.parse(JSON.stringify(serializeBaseline(b))));
  t.not(typeof copy, 'string');
  if (typeof copy !== 'string') {
    t.equal(copy.days, b.days);
    t.same(copy.profiles.other.series.firstKettle, b.profiles.other.series.firstKettle);
    t.same(copy.profiles.other.summary.firstKettle, b.profiles.other.summary.firstKettle);
  }
  t.type(restoreBaseline({ v: 9 }), 'string');
});

t.test('persists across a restart: learned days, context and a due routine check survive (virtual time, SQLite)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mimamori-baseline-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'hub.sqlite');
  const open = async (start: number) => {
    const store = createSqliteStore(file);
    const clock = new VirtualClock(start);
    // Saved every 6 h of virtual time: RxJS virtual actions chain each reschedule, so a minute-by-minute timer over weeks would nest deeply.
    const engine = await createRuleEngine({ clock, logger: silentLogger(), store, persistEveryMs: 6 * 3_600_000 });
    const findings: Finding[] = [];
    engine.findings.subscribe((f) => findings.push(f));
    return { store, clock, engine, findings, feed: (rs: Reading[]) => { for (const r of rs) { clock.advanceTo(r.at); engine.ingest(r); } }, async stop() { await engine.close(); await store.close(); } };
  };
  const a = await open(at('05:00', 0));
  for (let d = 0; d < 15; d++) a.feed(day(d));
  a.engine.setContext('h1', { dayCareDays: [3], away: [{ from: '2026-12-20T10:00:00+09:00', to: '2026-12-22T10:00:00+09:00', reason: 'trip' }] });
  a.feed(day(15).filter((r) => r.at < at('07:00', 15) && r.kind !== 'kettle'));
  const learnedDays = a.engine.routineOf('h1').learning.days;
  await a.stop();

  const b = await open(at('07:05', 15));
  const report = b.engine.routineOf('h1');
  t.equal(report.learning.days, learnedDays, 'learned days restored');
  t.equal(report.learning.ready, true);
  t.same(report.dayCareDays, [3], 'context restored');
  t.equal(report.away.length, 1);
  b.clock.advanceTo(at('09:00', 15));
  t.same(b.findings.filter((f) => f.type === 'routineMissed').map((f) => `${f.state}:${f.severity}`), ['raised:info'], 'the kettle check still fires after the restart');
  await b.stop();
});

t.test('rebuilt from recorded history when no saved routine exists', async (t) => {
  const clock = new VirtualClock(at('05:00', 20));
  const history = Array.from({ length: 20 }, (_, d) => day(d)).flat();
  const engine = await createRuleEngine({ clock, logger: silentLogger(), routineHistory: (home) => (home === 'h1' ? history : undefined) });
  engine.ingest(motion(at('05:00', 20), 'motion-bedroom'));
  // The rebuild is asynchronous (history comes from InfluxDB); wait for it through the engine's own promise chain.
  for (let i = 0; i < 50 && !engine.routineOf('h1').learning.ready; i++) await new Promise((r) => setImmediate(r));
  const r = engine.routineOf('h1');
  t.equal(r.learning.ready, true, 'ready without waiting 14 more days');
  t.ok(r.learning.days >= 19);
  t.equal(await engine.rebuildRoutine('h2', history.map((x) => ({ ...x, home: 'h2' }))), 19, 'rebuildRoutine reports the days learned (the last, unfinished day is still open)');
  await engine.close();
});

t.test('a resident day runs from 04:00 to the next 04:00 on the home\'s clock, also on the nights the clocks change', async (t) => {
  for (const [tz, from] of [['Europe/Amsterdam', '2008-10-24T10:00:00Z'], ['Europe/Amsterdam', '2008-03-28T10:00:00Z'], ['America/New_York', '2003-04-04T15:00:00Z'], ['America/New_York', '2003-10-24T15:00:00Z']] as const) {
    const zone = new ZoneClock(tz);
    const b = createBaseline();
    const days: Array<{ start: number; end: number }> = [];
    // Movement every 10 minutes for four days, across the clock change.
    for (let at = Date.parse(from); at < Date.parse(from) + 4 * 86_400_000; at += 10 * MIN) {
      observe(b, motion(at), true, { zone, context: emptyContext(), frontDoor: 'door-front' });
      const today = b.today!;
      if (days.at(-1)?.start !== today.start) days.push({ start: today.start, end: today.end });
      if (!(today.start <= at && at < today.end)) { t.fail(`${tz}: ${new Date(at).toISOString()} outside its day ${new Date(today.start).toISOString()}–${new Date(today.end).toISOString()}`); break; }
    }
    t.equal(days.length, 5, `${tz} from ${from}: five resident days, none repeated or doubled`);
    for (const [i, d] of days.entries()) {
      t.equal(zone.msOfDay(d.start), 4 * 3_600_000, `${tz}: day ${i} starts at 04:00 local`);
      t.equal(zone.msOfDay(d.end), 4 * 3_600_000, `${tz}: day ${i} ends at 04:00 local`);
      if (i > 0) t.equal(d.start, days[i - 1]!.end, `${tz}: day ${i} starts where day ${i - 1} ended`);
    }
    t.ok(days.some((d) => d.end - d.start !== 86_400_000), `${tz}: one day of 23 or 25 hours`);
  }
});

t.test('the learned-quiet rule reads each instant\'s profile hour as the baseline wrote it, whatever day it was planned from — across clock changes too', async (t) => {
  // Each hour of the profile gets its own chance, so a quiet minute's log-chance names the hour read.
  const p = createBaseline().profiles.other;
  p.hourP = p.hourP.map((_, i) => (i + 1) / 100);
  const hourRead = (zone: ZoneClock, from: number) => Math.round(100 * (1 - Math.exp(60 * quietLogChance(p, 0.99, zone, from, from + MIN)))) - 1;
  for (const [tz, from] of [['Europe/Amsterdam', '2008-10-24T10:00:00Z'], ['Europe/Amsterdam', '2008-03-28T10:00:00Z'], ['America/New_York', '2003-04-04T15:00:00Z'], ['America/New_York', '2003-10-24T15:00:00Z'], ['Asia/Tokyo', '2026-11-20T15:00:00Z']] as const) {
    const zone = new ZoneClock(tz);
    let wrong = 0;
    for (let at = Date.parse(from); at < Date.parse(from) + 4 * 86_400_000; at += 10 * MIN) {
      const b = createBaseline();
      observe(b, motion(at), true, { zone, context: emptyContext(), frontDoor: 'door-front' });
      const written = Math.log2(b.today!.activeHours);
      if (hourRead(zone, at) !== written && wrong++ < 3) t.fail(`${tz} ${new Date(at).toISOString()}: the baseline wrote hour ${written}, the rule read ${hourRead(zone, at)}`);
    }
    t.equal(wrong, 0, `${tz} from ${from}: every 10-minute instant over four days read from the hour it was learned in`);
  }
  // A quiet spell across the night the clocks go back (Amsterdam, 26 Oct 2008: 25-hour day) is counted hour by hour
  // of the days it spans: 21:00–22:00 Saturday is that day's hour 17, and 09:00–10:00 Sunday is Sunday's hour 5.
  const zone = new ZoneClock('Europe/Amsterdam');
  const sat21 = Date.parse('2008-10-25T21:00:00+02:00');
  const sun09 = Date.parse('2008-10-26T09:00:00+01:00');
  t.equal(hourRead(zone, sat21), 17);
  t.equal(hourRead(zone, sun09), 5);
  const spell = quietLogChance(p, 0.99, zone, sat21, sun09 + 3_600_000);
  let expected = 0;
  for (const i of [17, 18, 19, 20, 21, 22, 23, 0, 1, 2, 3, 4, 5]) expected += (i === 23 ? 2 : 1) * Math.log(1 - (i + 1) / 100);
  t.ok(Math.abs(spell - expected) < 1e-9, `21:00 Saturday → 10:00 Sunday: hours 17–23 (the last one two hours long) and 0–5 (${spell} vs ${expected})`);
});
