import t from 'tap';
import type { Reading } from '../../core/events.js';
import { applyReading, createHomeState } from '../../rules/home-state.js';
import { parseRuleSet } from '../../rules/rule-config.js';
import { flowWithoutMotion } from '../../rules/rules/flow-without-motion.js';
import { ZoneClock, type RuleContext, type RuleDefinition } from '../../rules/rules/rule.js';
import { at, button, door, gas, harness, kettle, motion, normalDay, power, water } from './helpers.js';

const rules = [{ type: 'flowWithoutMotion' }];

t.test('water running 60 min with nobody moving → critical, explained', async (t) => {
  const h = await harness({ rules });
  h.feed(motion(at('19:50')), water(at('20:00'), true));
  h.clock.advanceTo(at('20:59'));
  t.same(h.of('flowWithoutMotion'), []);
  h.clock.advanceTo(at('21:00'));
  t.same(h.of('flowWithoutMotion'), ['raised:critical']);
  const f = h.findings[0]!;
  t.match(f.message.en, /Water has been running for 1 h 0 min and nobody has moved/);
  t.match(f.message.ja, /水道の水が1時間0分流れ続け、人の動きがありません/);
  t.match(f.observed.en, /running since 20:00; no movement anywhere since it started/);
  t.match(f.expected.ja, /60分以上/);
  h.clock.advanceTo(at('22:30'));
  t.equal(h.findings.length, 1, 'edge-triggered');
  h.feed(water(at('22:31'), false));
  t.same(h.of('flowWithoutMotion'), ['raised:critical'], 'the water stopping is not a sign of her: still open');
  h.feed(motion(at('22:40'), 'motion-bath'));
  t.same(h.of('flowWithoutMotion'), ['raised:critical', 'cleared:critical'], 'cleared by her movement');
  t.match(h.findings[1]!.observed.en, /^Movement at 22:40 \(motion-bath\)\.$/);
  t.match(h.findings[1]!.observed.ja, /22:40 に人の動きがありました（motion-bath）/);
});

t.test('motion clears, and the rule re-arms from the last motion', async (t) => {
  const h = await harness({ rules });
  h.feed(motion(at('11:00')), gas(at('12:00'), true));
  h.clock.advanceTo(at('13:00'));
  h.feed(motion(at('13:10')));
  h.clock.advanceTo(at('14:09'));
  t.same(h.of('flowWithoutMotion'), ['raised:critical', 'cleared:critical']);
  h.clock.advanceTo(at('14:10'));
  t.same(h.of('flowWithoutMotion'), ['raised:critical', 'cleared:critical', 'raised:critical']);
  t.match(h.findings[2]!.message.en, /^Gas has been running for 2 h 10 min/);
});

t.test('motion during the flow and a normal day raise nothing; unlisted signals are ignored', async (t) => {
  const h = await harness({ rules: [{ type: 'flowWithoutMotion', signals: ['water'] }] });
  h.feed(water(at('08:00'), true));
  for (let m = 20; m < 180; m += 20) h.feed(motion(at('08:00') + m * 60_000));
  h.feed(water(at('11:00'), false), gas(at('12:00'), true));
  h.clock.advanceTo(at('15:00'));
  h.feed(...normalDay(1));
  h.clock.advanceTo(at('00:00', 2));
  t.same(h.of('flowWithoutMotion'), []);
});

t.test('a critical flow finding clears only on a sign of her: the water stopping, then OK, says exactly what was seen', async (t) => {
  const h = await harness({ rules });
  h.feed(motion(at('19:50'), 'motion-bath'), water(at('20:00'), true));
  h.clock.advanceTo(at('21:00'));
  h.feed(water(at('21:05'), false), water(at('21:20'), true), water(at('21:25'), false));
  t.same(h.of('flowWithoutMotion'), ['raised:critical'], 'device state changes do not clear it');
  h.feed(button(at('21:30'), 'ok'));
  t.same(h.of('flowWithoutMotion'), ['raised:critical', 'cleared:critical']);
  t.equal(h.findings[1]!.observed.en, 'The resident pressed OK at 21:30.');
  t.equal(h.findings[1]!.message.ja, '人の動きがないままの使用は終わりました：21:30 にご本人が「OK」ボタンを押しました。');
});

t.test('no motion sensor where the water is used: a warning after 3 h (as long as the no-sign-of-life warning), not a critical; it clears when the flow stops', async (t) => {
  // Motion only in the living room; the flush float is in the toilet.
  const h = await harness({ rules });
  h.feed(motion(at('19:50'), 'motion-living'), water(at('20:00'), true, 'toilet-flush'));
  h.clock.advanceTo(at('22:59'));
  t.same(h.of('flowWithoutMotion'), [], 'an unwatched flow waits 3 h: nobody seen near running water says no more than nobody seen (Tapia 2: a kitchen tap reed stuck "on" at 11:50, a cupboard at 11:56, warned at 13:56 under the old 2 h)');
  h.clock.advanceTo(at('23:00'));
  t.same(h.of('flowWithoutMotion'), ['raised:warning']);
  t.match(h.findings[0]!.observed.en, /No motion sensor watches where it is used/);
  t.match(h.findings[0]!.expected.en, /more than 180 minutes/);
  h.feed(water(at('23:10'), false, 'toilet-flush'));
  t.same(h.of('flowWithoutMotion'), ['raised:warning', 'cleared:warning']);
  // Set shorter at provisioning, it is never shorter than `minutes`.
  const short = await harness({ rules: [{ type: 'flowWithoutMotion', unwatchedMinutes: 30 }] });
  short.feed(motion(at('19:50'), 'motion-living'), water(at('20:00'), true, 'toilet-flush'));
  short.clock.advanceTo(at('20:59'));
  t.same(short.of('flowWithoutMotion'), []);
  short.clock.advanceTo(at('21:00'));
  t.same(short.of('flowWithoutMotion'), ['raised:warning']);

  // The same home with a toilet motion sensor, or the room set at provisioning: critical.
  const covered = await harness({ rules });
  covered.feed(motion(at('19:40'), 'motion-toilet'), motion(at('19:50'), 'motion-living'), water(at('20:00'), true, 'toilet-flush'));
  covered.clock.advanceTo(at('21:00'));
  t.same(covered.of('flowWithoutMotion'), ['raised:critical']);
  const mapped = await harness({ rules: [{ type: 'flowWithoutMotion', rooms: { 'float-1': 'toilet' } }] });
  mapped.feed(motion(at('19:40'), 'motion-x', 'h1', true), motion(at('19:50'), 'motion-living'), water(at('20:00'), true, 'float-1'));
  mapped.clock.advanceTo(at('21:00'));
  t.same(mapped.of('flowWithoutMotion'), [], 'mapped to the toilet, which no motion sensor covers: not yet');
  mapped.clock.advanceTo(at('22:59'));
  t.same(mapped.of('flowWithoutMotion'), [], 'mapped to the toilet, which no motion sensor covers: not yet');
  mapped.clock.advanceTo(at('23:00'));
  t.same(mapped.of('flowWithoutMotion'), ['raised:warning'], 'mapped to the toilet, which no motion sensor covers');
});

t.test('a pressure mat covers no room: in a home whose only "motion" devices are mats, a long flow on the water meter is an unwatched warning after 3 h, not a critical after 1 h (messy-02, object-only)', async (t) => {
  const h = await harness({ rules });
  // She got out of bed at 06:10 (the bed mat let go), pressed the seat mat at 06:15 and got up again.
  h.feed(motion(at('06:10'), 'bed-mat', 'h1', false), motion(at('06:15'), 'seat-mat'), motion(at('06:20'), 'seat-mat', 'h1', false), water(at('06:23'), true, 'water-meter'));
  h.clock.advanceTo(at('09:22'));
  t.same(h.of('flowWithoutMotion'), [], 'no sensor watches where the water is used: not at 07:23');
  h.clock.advanceTo(at('09:23'));
  t.same(h.of('flowWithoutMotion'), ['raised:warning']);
  t.match(h.findings[0]!.observed.en, /No motion sensor watches where it is used/);
  // Named at provisioning, a mat with any id is a mat.
  const named = await harness({ rules: [{ type: 'flowWithoutMotion', heldDevices: ['pad-3'] }] });
  named.feed(motion(at('06:15'), 'pad-3'), water(at('06:23'), true, 'water-meter'));
  named.clock.advanceTo(at('07:23'));
  t.same(named.of('flowWithoutMotion'), [], 'pad-3 is a mat: it covers no room');
  // A motion sensor anywhere still covers a whole-home meter.
  const pir = await harness({ rules });
  pir.feed(motion(at('06:15'), 'motion-living'), water(at('06:23'), true, 'water-meter'));
  pir.clock.advanceTo(at('07:23'));
  t.same(pir.of('flowWithoutMotion'), ['raised:critical']);
});

t.test('unwatched, her other signs count: a tap reed stuck at 15:40, the gas cooker at 18:01 — no "nobody has moved" at 18:40; told from her last sign, with it named (messy-02, object-only)', async (t) => {
  const h = await harness({ rules });
  h.feed(motion(at('15:30'), 'seat-mat', 'h1', false), water(at('15:40'), true, 'water-meter'), gas(at('18:01'), true), gas(at('18:09'), false));
  h.clock.advanceTo(at('19:39'));
  t.same(h.of('flowWithoutMotion'), [], 'nothing at 18:40 (3 h of water): she cooked at 18:01');
  h.clock.advanceTo(at('21:01'));
  t.same(h.findings.map((f) => `${f.audience}:${f.state}:${f.severity}`), ['operator:raised:warning'], 'the reed stuck 4 h is the operator\'s at 19:40; nothing for the family');
  // With a longer fault limit set, the warning comes 3 h after her last sign, named.
  const long = await harness({ rules: [{ type: 'flowWithoutMotion', faultAfterMinutes: 600 }] });
  long.feed(motion(at('15:30'), 'seat-mat', 'h1', false), water(at('15:40'), true, 'water-meter'), gas(at('18:01'), true), gas(at('18:09'), false));
  long.clock.advanceTo(at('21:00'));
  t.same(long.of('flowWithoutMotion'), []);
  long.clock.advanceTo(at('21:01'));
  t.same(long.of('flowWithoutMotion'), ['raised:warning'], '3 h after her last sign, the cooker at 18:01');
  const f = long.findings[0]!;
  t.match(f.observed.en, /Water running since 15:40; no movement and no other sign of her since gas use at 18:01/);
  t.match(f.observed.ja, /18:01 のガスの使用以降、人の動きもほかの生活反応もありません/);
  // The flowing signal's own reports are not her: a meter repeating "flowing" keeps the old clock.
  const chatty = await harness({ rules });
  chatty.feed(water(at('15:40'), true, 'water-meter'), water(at('16:40'), true, 'water-meter'), water(at('17:40'), true, 'water-meter'));
  chatty.clock.advanceTo(at('18:40'));
  t.same(chatty.of('flowWithoutMotion'), ['raised:warning'], 'the meter repeating itself: warned 3 h after the flow began');
  // Watched (a motion sensor in the toilet): only movement counts, the kettle elsewhere does not.
  const watchedHome = await harness({ rules });
  watchedHome.feed(motion(at('19:40'), 'motion-toilet'), water(at('20:00'), true, 'toilet-flush'), power(at('20:10'), 1200));
  watchedHome.clock.advanceTo(at('21:00'));
  t.same(watchedHome.of('flowWithoutMotion'), ['raised:critical'], 'a critical 1 h after the water began, as before');
});

t.test('unwatched, one silence is one alarm: no "water running" beside noSignOfLife\'s warning at the same minute, nor after it (messy-06, 5 Jan 10:56)', async (t) => {
  const both = [{ type: 'noSignOfLife' }, ...rules];
  const h = await harness({ rules: both });
  h.feed(motion(at('07:30'), 'bed-mat', 'h1', false), water(at('07:56'), true, 'water-meter'));
  h.clock.advanceTo(at('10:56'));
  t.same(h.findings.filter((f) => f.audience === 'family').map((f) => `${f.type}:${f.state}:${f.severity}`), ['noSignOfLife:raised:warning'], 'one warning, the silence rule\'s');
  h.clock.advanceTo(at('13:56'));
  t.same(h.findings.filter((f) => f.audience === 'family').map((f) => `${f.type}:${f.state}:${f.severity}`), ['noSignOfLife:raised:warning', 'noSignOfLife:raised:critical'], 'the fixed net escalates; the flow adds nothing (its stuck-meter finding goes to the operator)');
  t.ok(h.findings.some((f) => f.type === 'flowWithoutMotion' && f.audience === 'operator'), 'the 4-hour flow is a device finding for the operator');
  // The other way round (rules listed with the flow first): the flow's warning stands for the
  // silence, and noSignOfLife does not repeat it; its critical escalates.
  const flowFirst = await harness({ rules: [...rules, { type: 'noSignOfLife' }] });
  flowFirst.feed(motion(at('07:30'), 'bed-mat', 'h1', false), water(at('07:56'), true, 'water-meter'));
  flowFirst.clock.advanceTo(at('13:56'));
  t.same(flowFirst.findings.filter((f) => f.audience === 'family').map((f) => `${f.type}:${f.state}:${f.severity}`), ['flowWithoutMotion:raised:warning', 'noSignOfLife:raised:critical'], 'one warning, then the critical');
  // A watched flow is no silence: its critical and noSignOfLife's warning are two findings.
  const watchedHome = await harness({ rules: both });
  watchedHome.feed(motion(at('07:50'), 'motion-bath'), water(at('07:56'), true, 'bath-tap'));
  watchedHome.clock.advanceTo(at('10:56'));
  t.same(watchedHome.findings.filter((f) => f.audience === 'family' && f.state === 'raised').map((f) => `${f.type}:${f.severity}`), ['flowWithoutMotion:critical', 'noSignOfLife:warning']);
});

t.test('unwatched, the flow waits as long as her own quiet spells: a home whose afternoons of 3 h 10 are learned is not told "water running" at 3 h (messy-02, 17 Jan 09:23)', async (t) => {
  const both = [{ type: 'noSignOfLife' }, ...rules];
  const h = await harness({ rules: both });
  // Three afternoons: the kettle at 12:00, nothing for 3 h 10, the kettle again (the first two a warning before it was learned).
  for (let d = 0; d < 3; d++) h.feed(...['07:05', '09:30', '12:00', '15:10', '18:00', '21:50'].map((hhmm) => kettle(at(hhmm, d))));
  const n = h.findings.length;
  t.equal(h.findings.filter((f) => f.type === 'noSignOfLife' && f.state === 'raised').length, 2, 'two afternoons told before they were learned');
  // Day 3: the kettle at 12:00, a tap reed stuck at 12:05, nothing till 15:50.
  h.feed(kettle(at('07:05', 3)), kettle(at('09:30', 3)), kettle(at('12:00', 3)), water(at('12:05', 3), true, 'water-meter'));
  h.clock.advanceTo(at('15:49', 3));
  t.same(h.findings.slice(n).filter((f) => f.audience === 'family'), [], 'nothing at 3 h: her limit is 4 h (1.25 × 3 h 10)');
  h.feed(kettle(at('15:50', 3)));
  h.clock.advanceTo(at('16:04', 3));
  t.same(h.findings.slice(n).filter((f) => f.audience === 'family'), [], 'nothing: she made tea at 15:50; the reed is the operator\'s (stuck 4 h at 16:05)');
});

t.test('seen moving away from the water after it began: a tap left running or a stuck meter while she rests elsewhere — a warning after 3 h, not a bath-fall critical (messy-04, -08)', async (t) => {
  // A home whose PIRs watch the bath and the kitchen, with a whole-home water meter and a seat mat.
  const home = (h: Awaited<ReturnType<typeof harness>>) => h.feed(motion(at('06:30'), 'motion-kitchen'), motion(at('06:45'), 'motion-living'));
  // 23:58 the toilet; 00:00 the flush (the meter then sticks "on"); 00:02 back to bed; nothing moves.
  const bed = await harness({ rules });
  home(bed);
  bed.feed(motion(at('23:58'), 'motion-bath'), water(at('00:00', 1), true), motion(at('00:02', 1), 'motion-bedroom'));
  bed.clock.advanceTo(at('03:01', 1));
  t.same(bed.of('flowWithoutMotion'), [], 'no critical at 01:02 (before: "water running 1 h, nobody moved" at night, her in bed)');
  bed.clock.advanceTo(at('03:02', 1));
  t.same(bed.of('flowWithoutMotion'), ['raised:warning'], 'a warning 3 h after her last movement, as for water nobody watches');
  const w = bed.findings.find((f) => f.type === 'flowWithoutMotion')!;
  t.match(w.observed.en, /no movement since 00:02\. She was last seen moving away from where water is used/);
  t.match(w.observed.ja, /最後に動きがあったのは水を使う場所以外で/);
  t.equal(w.data?.awayFromWater, true);
  // Sitting down on the seat mat after turning the tap on is away from it too.
  const seat = await harness({ rules });
  home(seat);
  seat.feed(motion(at('10:00'), 'motion-kitchen'), water(at('10:01'), true), motion(at('10:05'), 'seat-mat'));
  seat.clock.advanceTo(at('11:06'));
  t.same(seat.of('flowWithoutMotion'), [], 'on the seat mat in the living room: no critical at 1 h');

  // She fills the bath, fetches her things from the bedroom, goes back to the bath and falls there.
  const bath = await harness({ rules });
  home(bath);
  bath.feed(motion(at('20:00'), 'motion-bath'), water(at('20:01'), true), motion(at('20:05'), 'motion-bedroom'), motion(at('20:20'), 'motion-bath'));
  bath.clock.advanceTo(at('21:19'));
  t.same(bath.of('flowWithoutMotion'), []);
  bath.clock.advanceTo(at('21:20'));
  t.same(bath.of('flowWithoutMotion'), ['raised:critical'], 'back at the water: the critical 1 h after her last movement there, re-planned when she went back');
  // No movement at all since the flush: turning it on was her at the water, the critical stands.
  const flush = await harness({ rules });
  home(flush);
  flush.feed(motion(at('19:50'), 'motion-living'), water(at('20:00'), true));
  flush.clock.advanceTo(at('21:00'));
  t.same(flush.of('flowWithoutMotion'), ['raised:critical'], 'nobody seen since the water started: still a possible fall at the water');
  // Gas is not judged so: a burner left on is a danger wherever she is.
  const burner = await harness({ rules: [{ type: 'flowWithoutMotion', signals: ['gas'] }] });
  home(burner);
  burner.feed(motion(at('17:58'), 'motion-kitchen'), gas(at('18:00'), true), motion(at('18:10'), 'motion-living'));
  burner.clock.advanceTo(at('19:10'));
  t.same(burner.of('flowWithoutMotion'), ['raised:critical'], 'gas on, she dozes off in the living room: critical at 1 h, as before');
});

t.test('unwatched at night: a tap reed stuck at 21:43 while she sleeps is the operator\'s stuck meter, not a family warning at 00:50 — the wait runs in her waking hours (messy-08, 3 February)', async (t) => {
  const both = [{ type: 'noSignOfLife' }, ...rules];
  const h = await harness({ rules: both, start: at('21:00') });
  h.feed(motion(at('21:39'), 'motion-bath'), water(at('21:43'), true, 'water-meter'), motion(at('21:50'), 'motion-bedroom'));
  h.clock.advanceTo(at('06:59', 1));
  t.same(h.findings.filter((f) => f.audience === 'family'), [], 'nothing for the family overnight');
  t.same(h.findings.filter((f) => f.type === 'flowWithoutMotion').map((f) => `${f.audience}:${f.severity}@${new Date(f.at).toISOString().slice(11, 16)}`), ['operator:warning@16:43'], 'the stuck meter for the operator at 01:43 (Tokyo; UTC shown)');
  // In the day the same quiet is told 3 h after she was last seen, once (the silence rule's warning).
  const day = await harness({ rules: both });
  day.feed(motion(at('09:39'), 'motion-bath'), water(at('09:43'), true, 'water-meter'), motion(at('09:50'), 'motion-bedroom'), motion(at('10:00'), 'motion-living'));
  day.clock.advanceTo(at('12:59'));
  t.same(day.findings.filter((f) => f.audience === 'family'), []);
  day.clock.advanceTo(at('13:00'));
  t.same(day.findings.filter((f) => f.audience === 'family').map((f) => `${f.type}:${f.severity}`), ['noSignOfLife:warning'], 'told at 13:00, once');
  // Without a noSignOfLife rule the flow's wait is clock time, as before.
  const alone = await harness({ rules, start: at('21:00') });
  alone.feed(motion(at('21:39'), 'motion-bath'), water(at('21:43'), true, 'water-meter'), motion(at('21:50'), 'motion-bedroom'));
  alone.clock.advanceTo(at('00:50', 1));
  t.same(alone.of('flowWithoutMotion'), ['raised:warning'], 'no waking hours to keep: 3 h of clock time');
});

t.test('latched flow sensor, sticking again and again → 1 operator finding until a week of ordinary flows, 0 family findings', async (t) => {
  // The float sticks "on" at 14:00 and frees itself at 02:00; she lives her day and sleeps from 21:30.
  const h = await harness({ rules });
  const stuck = [water(at('14:00'), true, 'toilet-float'), water(at('02:00', 1), false, 'toilet-float')];
  h.feed(...[...normalDay(0).filter((r) => r.kind !== 'water' && r.kind !== 'heartbeat'), motion(at('13:30'), 'motion-toilet'), ...stuck].sort((a, b) => a.at - b.at));
  h.clock.advanceTo(at('12:00', 1));
  h.feed(water(at('12:10', 1), true, 'toilet-float'), water(at('12:12', 1), false, 'toilet-float'));
  // It sticks again the next afternoon (as the Kasteren floats did, daily): the same finding, not a new one.
  h.feed(water(at('14:00', 2), true, 'toilet-float'), water(at('23:00', 2), false, 'toilet-float'), water(at('08:00', 3), true, 'toilet-float'), water(at('08:02', 3), false, 'toilet-float'));
  h.clock.advanceTo(at('08:01', 10));
  let fwm = h.findings.filter((f) => f.type === 'flowWithoutMotion');
  t.same(fwm.filter((f) => f.audience === 'family'), [], 'nothing for the family');
  t.same(fwm.map((f) => `${f.audience}:${f.state}:${f.severity}`), ['operator:raised:warning'], 'one device-health finding while it keeps sticking, open for a week of ordinary flows');
  h.clock.advanceTo(at('08:02', 10));
  fwm = h.findings.filter((f) => f.type === 'flowWithoutMotion');
  t.same(fwm.map((f) => `${f.audience}:${f.state}:${f.severity}`), ['operator:raised:warning', 'operator:cleared:warning'], 'cleared 7 days after the last ordinary flush that followed a stuck one');
  t.match(fwm[1]!.observed.en, /Only flows of ordinary length since 08:02/);
  t.match(fwm[1]!.message.ja, /正常に戻りました/);
  t.equal(fwm[0]!.at, at('18:00'), 'after 4 h of "flowing"');
  t.match(fwm[0]!.message.en, /stuck sensor\? \(device health\)/);
  t.match(fwm[0]!.message.ja, /センサーの故障/);
});

t.test('nobody home: a flow while she is out raises nothing for the family', async (t) => {
  // "Out" is kept by noSignOfLife (front door closed, nothing inside since): the default set has both.
  const h = await harness({ rules: [{ type: 'noSignOfLife', outOfHomeMaxMinutes: 24 * 60 }, ...rules] });
  h.feed(motion(at('08:50'), 'motion-bath'), door(at('09:00'), true), door(at('09:01'), false), water(at('09:30'), true));
  h.clock.advanceTo(at('12:00'));
  t.same(h.of('flowWithoutMotion'), [], 'out');
  h.feed(door(at('12:10'), true), door(at('12:11'), false));
  h.clock.advanceTo(at('13:11'));
  t.same(h.of('flowWithoutMotion'), ['raised:critical'], 'back home and still nobody moving with the water on: raised at 13:11');
  t.equal(h.findings.find((f) => f.type === 'flowWithoutMotion')!.at, at('13:11'));
});

t.test('a sensor found stuck is not trusted for the family for a day: it toggles and sticks again → no family finding', async (t) => {
  const h = await harness({ rules });
  h.feed(motion(at('07:00'), 'motion-bath'), water(at('08:00'), true, 'bath-float'));
  h.clock.advanceTo(at('12:00'));
  h.feed(water(at('12:30'), false, 'bath-float'), water(at('12:31'), true, 'bath-float'), motion(at('12:35'), 'motion-bath'));
  h.clock.advanceTo(at('17:00'));
  const fwm = h.findings.filter((f) => f.type === 'flowWithoutMotion' && f.state === 'raised');
  t.same(fwm.map((f) => `${f.audience}:${f.severity}`), ['family:critical', 'operator:warning'], 'the first flow (before anything was known) and one fault finding, kept open; nothing for the family after 12:00');
  t.equal(fwm[1]!.at, at('12:00'));
});

t.test('a flow stopping asks the engine to re-plan only when it may bring a deadline earlier (an open stuck-sensor finding)', async (t) => {
  // The engine re-plans a home after a reading only when a rule says a deadline may have moved
  // earlier: a flow stopping moves this rule's deadlines later, so on every "not flowing"
  // report (most water and gas reports) it must not ask — that re-plan cost a fifth of the readings.
  const [rule] = parseRuleSet([{ type: 'flowWithoutMotion' }]).rules.filter((r) => r.type === 'flowWithoutMotion');
  if (rule?.type !== 'flowWithoutMotion') throw new Error('no flowWithoutMotion rule');
  const home = createHomeState('h1', { timezone: 'Asia/Tokyo', zone: new ZoneClock('Asia/Tokyo'), rules: [rule], defs: [flowWithoutMotion as RuleDefinition], powerChangeWatts: 30 }, at('06:00'));
  const ctx: RuleContext = { now: at('06:00'), sign: false, out: [] };
  const step = (r: Reading): boolean => { applyReading(home, r); ctx.now = r.at; return flowWithoutMotion.onReading(rule, home, r, ctx); };
  t.equal(step(water(at('06:00'), false)), false, 'nothing was flowing');
  t.equal(step(water(at('07:00'), true)), true, 'a new flow plans its deadline');
  t.equal(step(water(at('07:05'), false)), false, 'the flow stopped: deadlines only move later');
  t.equal(step(gas(at('07:06'), false)), false);
  // A stuck-sensor finding is open: the first ordinary flow starts its "behaving since" clock, a deadline.
  home.active = new Map([[`${rule.id}/fault/water`, 'warning']]);
  t.equal(step(water(at('08:00'), true)), true);
  t.equal(step(water(at('08:05'), false)), true, 'behaving since 08:05: the fault clears a week later');
  t.equal(step(water(at('09:00'), true)), true);
  t.equal(step(water(at('09:05'), false)), false, 'already behaving: nothing earlier');
  t.same(ctx.out, [], 'no finding from any of these');
});
