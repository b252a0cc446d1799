// noSignOfLife learns when and where her nights begin (issue 10): a quiet spell that began
// well before her usual bedtime, or away from where her nights begin, is not left for the morning.
import t from 'tap';
import type { Reading } from '../../core/events.js';
import { at, harness, HOUR, MIN, motion, water } from './helpers.js';

/** Ordóñez B's shape: waking hours to 01:30, every night begins on the bed mat around 01:00. */
const lateRules = [{ type: 'noSignOfLife', wakingHours: { from: '09:45', to: '01:30' } }];

/** A day of hers: up at 10:00, movement every 90 min until 23:30, into bed at 01:00 (`bedAt` next day), up at 09:50. */
function lateDay(day: number, bedAt = '01:00', lastDevice = 'bed-mat'): Reading[] {
  const out: Reading[] = [motion(at('09:40', day), 'bed-mat', 'h1', false), motion(at('09:50', day), 'pir-bedroom')];
  for (let t = at('10:00', day); t <= at('23:30', day); t += 90 * MIN) out.push(motion(t, 'pir-living'));
  out.push(motion(at(bedAt, day + 1), lastDevice));
  return out;
}

t.test('a collapse at 00:17 in the living room, where her nights never begin, is warned about at 03:17, not the next noon', async (t) => {
  const h = await harness({ start: at('09:00'), rules: lateRules });
  for (let d = 0; d < 6; d++) h.feed(...lateDay(d));
  h.clock.advanceTo(at('09:30', 6));
  t.same(h.of('noSignOfLife'), [], 'six ordinary nights in bed raise nothing');
  h.feed(...lateDay(6, '00:17', 'pir-living'));
  h.clock.advanceTo(at('03:16', 7));
  t.same(h.of('noSignOfLife'), [], 'nothing before 3 h');
  h.clock.advanceTo(at('03:17', 7));
  t.same(h.of('noSignOfLife'), ['raised:warning'], '3 h after the last sign, though 01:30–09:45 is outside waking hours');
  const w = h.findings[0]!;
  t.match(w.observed.en, /The night is not taken as sleep: 6 of her last 6 nights began at bed-mat, and this quiet began at pir-living\./);
  t.match(w.observed.ja, /睡眠とはみなしていません/);
  t.equal((w.data as { nightNotBegun?: boolean }).nightNotBegun, true);
  h.clock.advanceTo(at('06:17', 7));
  t.same(h.of('noSignOfLife'), ['raised:warning', 'raised:critical'], 'critical 6 h after it');
});

t.test('the same night begun on the bed mat is sleep, and so is anything before five nights are known', async (t) => {
  const h = await harness({ start: at('09:00'), rules: lateRules });
  for (let d = 0; d < 6; d++) h.feed(...lateDay(d));
  h.feed(...lateDay(6, '00:17'));
  h.clock.advanceTo(at('09:30', 7));
  t.same(h.of('noSignOfLife'), [], 'into bed at 00:17: a night like the others');
  h.feed(...lateDay(7, '00:17', 'pir-living').slice(0, -1), water(at('00:17', 8), true, 'toilet-flush'), water(at('00:18', 8), false, 'toilet-flush'));
  h.clock.advanceTo(at('09:30', 8));
  t.same(h.of('noSignOfLife'), [], 'a flush last (a meter says nothing of where she is): the night is sleep');

  const young = await harness({ start: at('09:00'), rules: lateRules });
  for (let d = 0; d < 4; d++) young.feed(...lateDay(d));
  young.feed(...lateDay(4, '00:17', 'pir-living'));
  young.clock.advanceTo(at('11:31', 5));
  t.same(young.of('noSignOfLife'), [], 'four nights known: the waking window alone decides (01:30–09:45 is sleep)');
  young.clock.advanceTo(at('11:32', 5));
  t.same(young.of('noSignOfLife'), ['raised:warning'], '1 h 13 min before 01:30 + 1 h 47 min from 09:45');
});

t.test('nights that begin at a different switch each time have no place: the waking window alone decides', async (t) => {
  const h = await harness({ start: at('06:00'), rules: [{ type: 'noSignOfLife' }] });
  // Her nights begin 23:30–00:30 at a different switch each time (the Tapia homes), up at 07:30.
  const last = ['lamp-living', 'fan-bathroom', 'drawer-bedroom', 'switch-hall', 'tap-bathroom', 'cabinet-kitchen'];
  for (let d = 0; d < 6; d++) {
    for (let t0 = at('07:30', d); t0 <= at('22:30', d); t0 += 2 * HOUR) h.feed(motion(t0, 'pir-kitchen'));
    h.feed(motion(at('23:30', d) + d * 10 * MIN, last[d]!));
  }
  for (let t0 = at('07:30', 6); t0 <= at('20:30', 6); t0 += HOUR) h.feed(motion(t0, 'pir-kitchen'));
  h.clock.advanceTo(at('08:29', 7));
  t.same(h.of('noSignOfLife'), [], '20:30–22:00, then the night is sleep');
  h.clock.advanceTo(at('08:30', 7));
  t.same(h.of('noSignOfLife'), ['raised:warning'], '1 h 30 min before 22:00 + 1 h 30 min from 07:00');
});

t.test('a quiet spell after the middle of the night is the night going on, and learnNights: false turns it all off', async (t) => {
  // Up at 06:00 (past the night's middle, 05:37) for the toilet, pir-living on the way, back to
  // bed without the mat noticing: the night goes on, it is not "not yet her night".
  const h = await harness({ start: at('09:00'), rules: lateRules });
  for (let d = 0; d < 7; d++) h.feed(...lateDay(d));
  h.feed(motion(at('06:00', 7), 'pir-living'));
  h.clock.advanceTo(at('10:44', 7));
  t.same(h.of('noSignOfLife'), [], 'counted from 09:45, as before');

  const off = await harness({ start: at('09:00'), rules: [{ ...lateRules[0], learnNights: false }] });
  for (let d = 0; d < 6; d++) off.feed(...lateDay(d));
  off.feed(...lateDay(6, '00:17', 'pir-living'));
  off.clock.advanceTo(at('11:31', 7));
  t.same(off.of('noSignOfLife'), [], 'the waking window alone: 1 h 13 min before 01:30 + 1 h 47 min from 09:45');
  off.clock.advanceTo(at('11:32', 7));
  t.same(off.of('noSignOfLife'), ['raised:warning']);
});
