/**
 * Event time inside the rules: nothing moves past the hub's clock (and saved
 * state that did is repaired), and the per-home watermark holds time-based
 * rules while a home's data is behind, telling the operator once.
 */
import t from 'tap';
import { VirtualClock } from '../../core/clock.js';
import type { Reading } from '../../core/events.js';
import type { Finding } from '../../core/findings.js';
import { silentLogger } from '../../core/logger.js';
import { createSqliteStore } from '../../core/store.js';
import { createRuleEngine } from '../../rules/engine.js';
import { readSavedHomeStates } from '../../rules/home-state-codec.js';
import { at, climate, door, harness, heartbeat, MIN, motion } from './helpers.js';

const year2300 = Date.parse('2300-01-01T00:00:00Z');
const nsl = [{ type: 'noSignOfLife' }];
const summary = (fs: Finding[]) => fs.map((f) => `${f.type}:${f.state}:${f.audience}`);

t.test('a reading stamped in the future counts as now: it never switches the home off', async (t) => {
  const h = await harness({ rules: nsl, start: at('08:00') });
  h.engine.ingest(motion(year2300));
  t.equal(h.engine.lastSignOfLife('h1'), at('08:00'), 'last sign of life is the hub clock, not 2300');
  h.clock.advanceTo(at('10:59'));
  t.same(h.of('noSignOfLife'), []);
  h.clock.advanceTo(at('11:00'));
  t.same(h.of('noSignOfLife'), ['raised:warning'], 'no-sign-of-life still fires 3 h later');
  h.feed(motion(at('11:30')));
  t.same(h.of('noSignOfLife'), ['raised:warning', 'cleared:warning']);
});

t.test('saved state pinned in the future (before ingest bounded ts) is repaired on load', async (t) => {
  const store = createSqliteStore(':memory:');
  t.teardown(() => store.close());
  const clock = new VirtualClock(at('08:00'));
  const a = await createRuleEngine({ clock, logger: silentLogger(), store, rulesFor: () => nsl, watermark: false });
  a.ingest(motion(at('08:00')));
  await a.close();
  // What the old code saved after `ts: 2300-01-01` (its whole-state row, in a store of that time).
  const saved = (await readSavedHomeStates(store)).states.get('h1') as Record<string, unknown> & { devices: Record<string, number[]> };
  const old = createSqliteStore(':memory:');
  t.teardown(() => old.close());
  await old.saveHomeStates([{ homeId: 'h1', state: { ...saved, lastSignOfLife: year2300, lastMotion: year2300, devices: { 'motion-living': [year2300, -1, -1] } } }], at('08:00'));

  const b = await createRuleEngine({ clock, logger: silentLogger(), store: old, rulesFor: () => nsl, watermark: false });
  const found: Finding[] = [];
  b.findings.subscribe((f) => found.push(f));
  t.equal(b.lastSignOfLife('h1'), at('08:00'), 'pulled back to the clock at load');
  clock.advanceTo(at('11:00'));
  t.same(found.map((f) => `${f.type}:${f.severity}`), ['noSignOfLife:warning'], 'the home is watched again');
  await b.close();
  const repaired = (await readSavedHomeStates(old)).states.get('h1') as { lastSignOfLife: number; devices: Record<string, number[]> };
  t.equal(repaired.lastSignOfLife, at('08:00'), 'and the repair is saved');
  t.equal(repaired.devices['motion-living']![0], at('08:00'));
});

/** A home whose devices heartbeat every 30 minutes, with movement every 20 minutes until `until`. */
function liveUntil(from: number, until: number): Reading[] {
  const out: Reading[] = [];
  for (let x = from; x <= until; x += 10 * MIN) out.push(x % (30 * MIN) === 0 ? heartbeat(x, 'motion-living') : motion(x));
  return out;
}

t.test('an edge offline for 6 h then flushing its queue: one operator "data late", no family alarm, nothing lost', async (t) => {
  const h = await harness({ rules: [...nsl, { type: 'flowWithoutMotion' }, { type: 'deviceSilent' }], start: at('07:00'), watermark: {} });
  h.feed(...liveUntil(at('07:00'), at('09:00')));
  // 09:00–15:00 the edge is offline: she carries on (it is all in the edge's queue), the hub hears nothing.
  h.clock.advanceTo(at('10:14'));
  t.same(summary(h.findings), [], 'nothing before 75 min of total silence');
  h.clock.advanceTo(at('10:15'));
  t.same(summary(h.findings), ['dataLate:raised:operator'], 'the operator is told the data is late');
  t.same(h.engine.watermarkOf('h1'), { newestAt: at('09:00'), lateSince: at('10:15') });
  h.clock.advanceTo(at('15:00'));
  t.match(h.findings[0]!.message, { en: /late/, ja: /遅れ/ });
  t.match(h.findings[0]!.expected, { en: /as this home sends heartbeats, something at least every 75 min/, ja: /死活通知のあるこの家からは少なくとも75分ごと/ }, 'the limit this home has');
  t.match(h.findings[0]!.observed, { en: /not even a heartbeat, since 09:00/, ja: /死活通知も含めて/ });
  t.same(summary(h.findings), ['dataLate:raised:operator'], '6 h of silence: no "no sign of life" to the family, no device-silent storm');
  // Reconnected: the queue flushes in a burst at 15:00, then live data goes on.
  const queued = liveUntil(at('09:10'), at('15:00'));
  for (const r of queued) h.engine.ingest(r);
  t.equal(h.engine.lastSignOfLife('h1'), at('14:50'), 'every queued sign of life applied');
  h.clock.advanceTo(at('15:09'));
  t.same(summary(h.findings), ['dataLate:raised:operator'], 'still settling: the flush arrived less than 10 min ago');
  h.feed(...liveUntil(at('15:10'), at('16:00')));
  t.same(summary(h.findings), ['dataLate:raised:operator', 'dataLate:cleared:operator'], 'caught up once nothing late arrived for 10 min');
  t.match(h.findings[1]!.message, { en: /caught up/, ja: /追いつきました/ });
  t.same(h.engine.watermarkOf('h1'), { newestAt: at('16:00') });
  // Watched again: real silence (heartbeats go on, no movement) still raises on time.
  for (let x = at('16:30'); x <= at('18:30'); x += 30 * MIN) h.feed(heartbeat(x, 'motion-living'));
  h.clock.advanceTo(at('18:49'));
  t.same(h.of('noSignOfLife'), []);
  h.clock.advanceTo(at('18:50'));
  t.same(h.of('noSignOfLife'), ['raised:warning'], 'no sign of life since 15:50 raises at 18:50');
  t.equal(h.findings.filter((f) => f.type === 'dataLate' && f.state === 'raised').length, 1);
});

t.test('late data from a home without heartbeats holds its rules; they decide on the complete data after', async (t) => {
  const h = await harness({ rules: nsl, start: at('08:00'), watermark: {} });
  h.feed(motion(at('08:00')));
  h.clock.advanceTo(at('10:55'));
  // The hub lags: readings arrive 30 min after they happened; the 11:00 deadline passes meanwhile.
  for (let x = at('10:25'); x <= at('11:10'); x += 5 * MIN) { h.clock.advanceTo(x + 30 * MIN); h.engine.ingest(climate(x)); }
  t.same(summary(h.findings), ['dataLate:raised:operator'], 'no family warning while data is 30 min behind');
  t.match(h.findings[0]!.expected, { en: /^Readings arrive within \d+ min of happening\. Until then/, ja: /^データは発生から\d+分以内に届くこと。それまでは/ }, 'no silence limit is promised for a home that only reports changes');
  // What had been delayed shows she was up at 10:40.
  h.engine.ingest(motion(at('10:40')));
  h.clock.advanceTo(at('11:49'));
  t.same(summary(h.findings), ['dataLate:raised:operator']);
  h.clock.advanceTo(at('11:50'));
  t.same(summary(h.findings), ['dataLate:raised:operator', 'dataLate:cleared:operator'], 'settled: 10 min with no late reading');
  h.clock.advanceTo(at('13:39'));
  t.same(h.of('noSignOfLife'), [], 'no all-clear, and no alarm for the hours whose data was merely late');
  h.clock.advanceTo(at('13:40'));
  t.same(h.of('noSignOfLife'), ['raised:warning'], '3 h after the real last sign of life (10:40)');
});

/** A day of a home with a thermometer reporting hourly (at :05) and movement every 2 h in the day, from day 0 06:05 to day 1 `until`. */
function thermometerHome(until: number): Reading[] {
  const out: Reading[] = [];
  for (let x = at('06:05'); x <= until; x += 60 * MIN) out.push(climate(x));
  for (const hhmm of ['07:00', '09:00', '11:00', '13:00', '15:00', '17:00', '19:00', '21:00']) out.push(motion(at(hhmm)));
  out.push(motion(at('07:00', 1)), motion(at('09:00', 1)));
  return out.filter((r) => r.at <= until).sort((a, b) => a.at - b.at);
}

/** The thermometer home up to `until`, with her movements of day 1 from 09:00 at `moves` (HH:MM). */
function thermometerMorning(moves: string[], until: number): Reading[] {
  return [...thermometerHome(until).filter((r) => r.kind === 'climate' || r.at < at('09:00', 1)), ...moves.map((hhmm) => motion(at(hhmm, 1)))]
    .filter((r) => r.at <= until).sort((a, b) => a.at - b.at);
}

t.test('a gap in the data of a home without heartbeats, told by its thermometer, is not an emergency and not an all-clear: the hours without data are not counted', async (t) => {
  const h = await harness({ rules: nsl, start: at('06:00'), watermark: {} });
  h.feed(...thermometerHome(at('09:05', 1)));
  // 09:05 on day 1: the power goes out. Nothing at all arrives, the thermometer included.
  h.clock.advanceTo(at('11:34', 1));
  t.same(summary(h.findings), [], 'a thermometer reading or two missing is not a gap yet (2 × 75 min)');
  h.clock.advanceTo(at('11:35', 1));
  t.same(summary(h.findings), ['dataLate:raised:operator'], 'the operator is told the home is silent');
  t.match(h.findings[0]!.expected, { en: /as this home's thermometer reports regularly, something at least every 150 min/, ja: /室温が定期的に届くこの家からは少なくとも150分ごと/ }, 'before: "from a home with heartbeats, at least every 75 min"');
  t.match(h.findings[0]!.observed, { en: /not even the thermometer's regular reading, since 09:05/, ja: /定期的に届く室温も含めて/ });
  h.clock.advanceTo(at('15:29', 1));
  t.same(h.of('noSignOfLife'), [], 'no "no sign of life" made of missing data (before: a warning at 12:00)');
  // 15:30: data again, on time; the queued hours are lost. She does not move.
  h.feed(climate(at('15:30', 1)));
  t.same(summary(h.findings), ['dataLate:raised:operator', 'dataLate:cleared:operator']);
  h.feed(climate(at('16:30', 1)), climate(at('17:30', 1)));
  h.clock.advanceTo(at('18:24', 1));
  t.same(h.of('noSignOfLife'), [], '5 min before the gap and 2 h 54 after it');
  h.clock.advanceTo(at('18:25', 1));
  t.same(h.of('noSignOfLife'), ['raised:warning'], '3 h of quiet counted: 09:00–09:05 and 15:30–18:25');
  const w = h.findings.find((f) => f.type === 'noSignOfLife')!;
  t.match(w.observed.en, /No data reached the hub from 09:05 to 15:30: that time is not counted/);
  t.match(w.observed.ja, /09:05 から 15:30 まで、この家のデータが届いていません/);
  t.equal(w.data?.wakingMinutes, 180);
});

t.test('a bed mat pressed before a gap in the data is not "someone there" after it: the warning says its state is not known (messy-05, 15 January)', async (t) => {
  const h = await harness({ rules: nsl, start: at('06:00'), watermark: {} });
  // Two days with an hourly thermometer and her moving every 2 h; to bed at 22:43 on day 1 (the
  // mat's last word); the power goes out after the thermometer's 23:05 reading.
  const days: Reading[] = [];
  for (let x = at('06:05'); x <= at('23:05', 1); x += 60 * MIN) days.push(climate(x));
  for (const d of [0, 1]) for (const hhmm of ['07:00', '09:00', '11:00', '13:00', '15:00', '17:00', '19:00', '21:00']) days.push(motion(at(hhmm, d)));
  days.push(motion(at('22:43', 1), 'bed-mat'));
  h.feed(...days.sort((a, b) => a.at - b.at));
  h.clock.advanceTo(at('10:06', 2));
  // Data again at 10:07: only the thermometer, hourly. She does not move (or went out in the lost hours).
  for (const hhmm of ['10:07', '11:07', '12:07', '13:07']) h.feed(climate(at(hhmm, 2)));
  h.clock.advanceTo(at('13:07', 2));
  const w = h.findings.filter((f) => f.type === 'noSignOfLife' && f.state === 'raised' && f.at > at('23:00', 1));
  t.same(w.map((f) => [f.severity, f.at]), [['warning', at('13:07', 2)]], 'told 3 h after the data came back, as before');
  t.match(w[0]!.observed.en, /bed-mat was last reported pressed at 22:43, before no data reached the hub from 23:05 to 10:07; whether she is still there is not known/);
  t.notMatch(w[0]!.observed.en, /someone there, but still/, 'before: "bed-mat pressed since 22:43 (someone there, but still)", 14 hours on');
  t.match(w[0]!.observed.ja, /bed-mat は 22:43 に押されたと報告されたのが最後で、その後 23:05 から 10:07 までこの家のデータが届いていません/);
});

t.test('a deadline that falls once the home\'s regular messages are overdue waits for the watermark\'s word: an outage is not an alarm, a dropped reading only a delay', async (t) => {
  // A home with an hourly thermometer (at :05); she moves until 09:50; the warning is due 2 h later, at 11:50.
  const rules = [{ type: 'noSignOfLife', warningAfterMinutes: 120 }];
  const morning = (until: number) => thermometerMorning(['09:00', '09:30', '09:50'], until);
  // Day 0's 2-hourly movement is warned about with this limit: only what follows day 1's 09:50 counts here.
  const since = (h: { findings: Finding[] }) => h.findings.filter((f) => f.at > at('09:50', 1));
  const nsl = (h: { findings: Finding[] }) => since(h).filter((f) => f.type === 'noSignOfLife').map((f) => `${f.state}:${f.severity}`);

  // The power goes out after the 10:05 reading: from 11:20 (75 min with nothing at all) the data is in doubt.
  const outage = await harness({ rules, start: at('06:00'), watermark: {} });
  outage.feed(...morning(at('10:05', 1)));
  outage.clock.advanceTo(at('12:34', 1));
  t.same(summary(since(outage)), [], 'nothing at 11:50: the thermometer was overdue and nothing at all had come (before: a family warning made of missing data)');
  outage.clock.advanceTo(at('12:35', 1));
  t.same(summary(since(outage)), ['dataLate:raised:operator'], 'at 12:35 (150 min) the operator is told; the family is not');
  outage.feed(climate(at('15:00', 1)), climate(at('16:00', 1)));
  outage.clock.advanceTo(at('16:44', 1));
  t.same(nsl(outage), [], 'data again at 15:00: 09:50–10:05 and 15:00–16:44 counted, not yet 2 h');
  outage.clock.advanceTo(at('16:45', 1));
  t.same(nsl(outage), ['raised:warning'], 'she does not move: warned at 16:45, the gap not counted');

  // The thermometer drops its 11:05 reading; the 12:05 one comes: the warning is late, never lost.
  const dropped = await harness({ rules, start: at('06:00'), watermark: {} });
  dropped.feed(...morning(at('10:05', 1)));
  dropped.clock.advanceTo(at('12:04', 1));
  t.same(nsl(dropped), [], 'held while in doubt');
  dropped.feed(climate(at('12:05', 1)));
  dropped.clock.advanceTo(at('12:06', 1));
  t.same(nsl(dropped), ['raised:warning'], 'the next reading ends the doubt: warned at once, at 12:05');
  t.equal(since(dropped).find((f) => f.type === 'noSignOfLife')!.at, at('12:05', 1));
  t.notOk(dropped.findings.some((f) => f.type === 'dataLate'), 'no "data late" for one dropped reading');

  // A collapse stops neither the thermometer nor the rule: on time, at 11:50.
  const collapse = await harness({ rules, start: at('06:00'), watermark: {} });
  collapse.feed(...morning(at('11:05', 1)));
  collapse.clock.advanceTo(at('11:50', 1));
  t.same(nsl(collapse), ['raised:warning'], 'the thermometer reported at 11:05: no doubt, the warning at 11:50');
});

t.test('in doubt once the thermometer itself is overdue, though she moved after its last reading: an outage 35 min after her last movement is not a warning (messy-04, 1 March 16:56)', async (t) => {
  // The thermometer at :05 every hour; she moves at 09:00, 09:30 and 10:40 on day 1; a 60 min
  // warning is due at 11:40. The newest reading (10:40) puts the old doubt at 11:55, after it.
  // Fixed numbers: her 2-hourly spells would otherwise teach a longer wait.
  const rules = [{ type: 'noSignOfLife', warningAfterMinutes: 60, learnLimits: false }];
  const day = (until: number) => thermometerMorning(['09:00', '09:30', '10:40'], until);
  const since = (h: { findings: Finding[] }) => h.findings.filter((f) => f.at > at('10:40', 1));
  // The power goes out after 10:40: the thermometer's 11:05 reading never comes.
  const outage = await harness({ rules, start: at('06:00'), watermark: {} });
  outage.feed(...day(at('10:40', 1)));
  outage.clock.advanceTo(at('13:09', 1));
  t.same(summary(since(outage)), [], 'nothing at 11:40: the thermometer was overdue since 11:20 (before: a family warning made of missing data)');
  outage.clock.advanceTo(at('13:10', 1));
  t.same(summary(since(outage)), ['dataLate:raised:operator'], '150 min after the newest reading the operator is told');
  // A collapse at 10:40: the thermometer goes on, the warning is on time.
  const collapse = await harness({ rules, start: at('06:00'), watermark: {} });
  collapse.feed(...day(at('11:05', 1)));
  collapse.clock.advanceTo(at('11:40', 1));
  t.same(since(collapse).filter((f) => f.type === 'noSignOfLife').map((f) => [f.severity, f.at]), [['warning', at('11:40', 1)]], 'warned at 11:40');
});

t.test('an outing across a gap in the data: her return may lie in the lost hours, so they are not counted — no "not back" the minute the data comes back', async (t) => {
  /** Day 1: the thermometer home, up and about until 09:50, out by the front door at 10:01; data until 14:05, then nothing until 04:00 on day 2. */
  const outThenGap = async () => {
    const h = await harness({ rules: nsl, start: at('06:00'), watermark: {} });
    h.feed(...thermometerHome(at('09:05', 1)), motion(at('09:50', 1)), door(at('10:00', 1), true), door(at('10:01', 1), false));
    for (let x = at('10:05', 1); x <= at('14:05', 1); x += 60 * MIN) h.feed(climate(x));
    h.clock.advanceTo(at('04:00', 2));
    t.same(summary(h.findings), ['dataLate:raised:operator'], 'the operator is told of the silence; the 12 h out-of-home limit (22:01) fell inside it and waits');
    h.feed(climate(at('04:00', 2)));
    h.clock.advanceTo(at('04:01', 2));
    t.same(h.of('noSignOfLife'), [], 'data again at 04:00: no "went out and has not come back for 18 h" (before: raised at 04:00)');
    return h;
  };
  const back = await outThenGap();
  back.feed(motion(at('04:30', 2), 'motion-bedroom'));
  back.clock.advanceTo(at('18:00', 2));
  t.same(back.of('noSignOfLife'), [], 'she is home (she came back in the lost hours): nothing about the outing, ever');

  const away = await outThenGap();
  for (let x = at('05:00', 2); x <= at('11:00', 2); x += 60 * MIN) away.feed(climate(x));
  away.clock.advanceTo(at('11:55', 2));
  t.same(away.of('noSignOfLife'), [], '4 h 04 counted before the gap, 7 h 55 after it: not yet 12 h');
  away.clock.advanceTo(at('11:56', 2));
  t.same(away.of('noSignOfLife'), ['raised:warning'], 'not back 12 h of counted time after leaving (10:01–14:05 and 04:00–11:56): warned, not silenced');
  const w = away.findings.find((f) => f.type === 'noSignOfLife')!;
  t.match(w.message.en, /Went out and has not come back/);
  t.match(w.observed.en, /The front door closed at 10:01 .* No data reached the hub from 14:05 to 04:00: that time is not counted/);
  t.match(w.observed.ja, /14:05 から 04:00 まで、この家のデータが届いていません/);
});

t.test('a restart keeps what the thermometer taught: a gap right after it is still a gap, not hours she lay still', async (t) => {
  const store = createSqliteStore(':memory:');
  t.teardown(() => store.close());
  const a = await harness({ rules: nsl, start: at('06:00'), watermark: {}, store });
  a.feed(...thermometerHome(at('09:05', 1)));
  await a.engine.flushState();
  const saved = (await readSavedHomeStates(store)).states.get('h1') as { marks: Record<string, number> };
  t.equal(saved.marks['data/periodic-at'], at('09:05', 1), 'the regular thermometer is saved with the home');
  await a.engine.close();
  // 09:06: the hub restarts; at the same moment the power in her home goes out (nothing arrives).
  const b = await harness({ rules: nsl, start: at('09:06', 1), watermark: {}, store });
  b.clock.advanceTo(at('11:35', 1));
  t.same(summary(b.findings), ['dataLate:raised:operator'], 'silent after 2 × 75 min, as before the restart (before: never, and a family warning at 12:00)');
  b.feed(climate(at('15:30', 1)), climate(at('16:30', 1)), climate(at('17:30', 1)));
  b.clock.advanceTo(at('18:24', 1));
  t.same(b.of('noSignOfLife'), [], 'the gap not counted');
  b.clock.advanceTo(at('18:25', 1));
  t.same(b.of('noSignOfLife'), ['raised:warning'], '3 h counted: 09:00–09:05 and 15:30–18:25');
  // Its first reading after the restart (15:30) carried its run on: a second gap is one too.
  b.feed(climate(at('18:30', 1)));
  b.clock.advanceTo(at('20:59', 1));
  t.equal(summary(b.findings).filter((x) => x === 'dataLate:raised:operator').length, 1);
  b.clock.advanceTo(at('21:00', 1));
  t.equal(summary(b.findings).filter((x) => x === 'dataLate:raised:operator').length, 2, 'silent again from 18:30: told again at 21:00');
  await b.engine.close();
});

t.test('an edge that sends something fresh before flushing its queue: the gap is not lost after all, and the rules decide on the complete data', async (t) => {
  const h = await harness({ rules: nsl, start: at('07:00'), watermark: {} });
  h.feed(...liveUntil(at('07:00'), at('09:00')));
  h.clock.advanceTo(at('15:00'));
  // Back at 15:00: first a heartbeat of now (read as the end of a gap whose data was lost)…
  h.feed(heartbeat(at('15:00'), 'motion-living'));
  // …then the queue: she was up until 12:00, then nothing.
  for (const r of liveUntil(at('09:10'), at('12:00'))) h.engine.ingest(r);
  t.equal(h.engine.lastSignOfLife('h1'), at('11:50'));
  h.clock.advanceTo(at('15:09'));
  t.same(h.of('noSignOfLife'), [], 'settling: the flush arrived less than 10 min ago');
  h.clock.advanceTo(at('15:10'));
  t.same(h.of('noSignOfLife'), ['raised:warning'], 'caught up: 3 h since 11:50 had passed, told at once (not 3 h after 15:00)');
  t.notMatch(h.findings.find((f) => f.type === 'noSignOfLife')!.observed.en, /No data reached the hub/);
});

t.test('a thermometer that stopped while she lived on says nothing about later silence; one it drops is not a gap', async (t) => {
  // It stops at 07:05 on day 1; she moves at 09:00 (overdue it was, and she was seen: it is the
  // thermometer that stopped), then nothing: an ordinary quiet home, warned at 12:00. (Had it stopped
  // within 75 min of her last movement, the hub could not tell that from a gap: docs/rules.md.)
  const dead = await harness({ rules: nsl, start: at('06:00'), watermark: {} });
  dead.feed(...thermometerHome(at('09:00', 1)).filter((r) => r.kind !== 'climate' || r.at <= at('07:05', 1)));
  dead.clock.advanceTo(at('12:00', 1));
  t.same(summary(dead.findings), ['noSignOfLife:raised:family'], 'no gap read, the warning on time');
  // One reading lost (10:05): 2 h without anything is not a gap.
  const lossy = await harness({ rules: nsl, start: at('06:00'), watermark: {} });
  lossy.feed(...thermometerHome(at('09:05', 1)), climate(at('11:05', 1)));
  lossy.clock.advanceTo(at('12:00', 1));
  t.same(summary(lossy.findings), ['noSignOfLife:raised:family']);
  // A home whose only regular device is her own (a PIR every 10 min for a day) has no thermometer to tell a gap by.
  const pir = await harness({ rules: nsl, start: at('06:00'), watermark: {} });
  for (let x = at('07:00'); x <= at('09:00', 1); x += 10 * MIN) if ((x - at('07:00')) % (24 * 60 * MIN) < 15 * 60 * MIN) pir.feed(motion(x));
  pir.clock.advanceTo(at('12:00', 1));
  t.same(summary(pir.findings), ['noSignOfLife:raised:family'], 'silence after her movement is hers: told at 12:00');
});

t.test('hysteresis: a steady trickle of late readings is one episode, not a flap per reading', async (t) => {
  const h = await harness({ rules: nsl, start: at('08:00'), watermark: {} });
  for (let x = at('08:00'); x <= at('12:00'); x += 3 * MIN) { h.clock.advanceTo(x); h.engine.ingest(motion(x - (x % (6 * MIN) === 0 ? 20 * MIN : 0))); }
  t.same(summary(h.findings), ['dataLate:raised:operator'], 'alternating late and on-time readings: raised once, never cleared');
  h.clock.advanceTo(at('12:11'));
  t.same(summary(h.findings), ['dataLate:raised:operator', 'dataLate:cleared:operator']);
});

t.test('watermark settings are validated', async (t) => {
  await t.rejects(createRuleEngine({ clock: new VirtualClock(0), logger: silentLogger(), watermark: { lateAfterMs: 0 } }), { code: 'MIMAMORI_ERR_CONFIG', message: /lateAfterMs/ });
  await t.rejects(createRuleEngine({ clock: new VirtualClock(0), logger: silentLogger(), watermark: { silentAfterMs: Number.NaN } }), { code: 'MIMAMORI_ERR_CONFIG', message: /silentAfterMs/ });
});
