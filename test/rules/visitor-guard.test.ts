// The visitor guard on the fixed rules (issue 7): after a critical alarm, a visitor's movement is not the resident's return.
import t from 'tap';
import { parseRuleSet } from '../../rules/rule-config.js';
import { at, button, door, harness, kettle, MIN, motion, water } from './helpers.js';

const fwm = [{ type: 'flowWithoutMotion' }];
const nsl = [{ type: 'noSignOfLife' }];

/** Bath water from 20:00 with nobody moving: critical at 21:00. */
async function bathAlarm(rules: unknown = fwm) {
  const h = await harness({ rules });
  h.feed(motion(at('19:50')), water(at('20:00'), true));
  h.clock.advanceTo(at('21:00'));
  return h;
}

t.test('flowWithoutMotion critical: a visitor coming in and moving does not clear it; her OK does', async (t) => {
  const h = await bathAlarm();
  t.same(h.of('flowWithoutMotion'), ['raised:critical']);
  h.feed(door(at('21:10'), true), door(at('21:11'), false), motion(at('21:12'), 'motion-hall'), motion(at('21:15'), 'motion-bath'));
  t.same(h.of('flowWithoutMotion'), ['raised:critical', 'raised:info'], 'a "someone came in" notice, not a clear');
  const notice = h.findings[1]!;
  t.match(notice.message.en, /Someone came in through the front door at 21:10 — possibly a visitor/);
  t.match(notice.message.ja, /21:10 に誰かが玄関から入りました — 訪問者の可能性があります/);
  t.match(notice.observed.en, /may be a visitor's/);
  t.equal(notice.audience, 'family');
  // The visitor stays an hour and keeps moving: still a visitor.
  for (let x = at('21:25'); x <= at('22:15'); x += 10 * MIN) h.feed(motion(x, 'motion-living'));
  h.feed(door(at('22:20'), true), door(at('22:21'), false), motion(at('22:22'), 'motion-hall'));
  t.same(h.of('flowWithoutMotion'), ['raised:critical', 'raised:info'], 'one notice per visit, never cleared by the visitor');
  h.feed(button(at('22:30'), 'ok'));
  t.same(h.of('flowWithoutMotion'), ['raised:critical', 'raised:info', 'cleared:critical'], 'cleared by her own OK');
  t.match(h.findings[2]!.observed.en, /The resident pressed OK at 22:30/);
  t.match(h.findings[2]!.observed.ja, /ご本人が「OK」ボタンを押しました/);
});

t.test('flowWithoutMotion critical: the flow stopping during a visit does not clear it (the helper turned it off)', async (t) => {
  const h = await bathAlarm();
  h.feed(door(at('21:10'), true), motion(at('21:12')), water(at('21:14'), false));
  t.same(h.of('flowWithoutMotion'), ['raised:critical', 'raised:info']);
  h.feed(button(at('21:20'), 'ok'));
  t.same(h.of('flowWithoutMotion'), ['raised:critical', 'raised:info', 'cleared:critical'], 'her OK clears it');
});

t.test('flowWithoutMotion critical: motion after the home was quiet for the whole window clears', async (t) => {
  const h = await bathAlarm();
  h.feed(door(at('21:10'), true), motion(at('21:12')));
  h.feed(motion(at('21:42')));
  t.same(h.of('flowWithoutMotion'), ['raised:critical', 'raised:info'], 'exactly 30 min after the last activity: still the visit');
  h.feed(motion(at('22:13')));
  t.same(h.of('flowWithoutMotion'), ['raised:critical', 'raised:info', 'cleared:critical'], '31 min of quiet, then movement: hers');
  // The visit is forgotten with the finding: the next alarm starts afresh.
  h.clock.advanceTo(at('23:13'));
  h.feed(door(at('23:20'), true), motion(at('23:21')));
  t.same(h.of('flowWithoutMotion'), ['raised:critical', 'raised:info', 'cleared:critical', 'raised:critical', 'raised:info']);
});

t.test('flowWithoutMotion critical: with no door opening, motion clears as before; other doors are not the front door', async (t) => {
  const h = await bathAlarm();
  h.feed(door(at('21:05'), true, 'door-back', 'h1', 'back'), motion(at('21:06')));
  t.same(h.of('flowWithoutMotion'), ['raised:critical', 'cleared:critical']);
  t.match(h.findings[1]!.observed.en, /Movement at 21:06/);
});

t.test('flowWithoutMotion: the window and the front door are rule parameters', async (t) => {
  const h = await bathAlarm([{ type: 'flowWithoutMotion', frontDoor: 'genkan', visitorWindowMinutes: 90, faultAfterMinutes: 600 }]);
  h.feed(door(at('21:10'), true, 'door-1', 'h1', 'genkan'), motion(at('21:12')), motion(at('22:40')));
  t.same(h.of('flowWithoutMotion'), ['raised:critical', 'raised:info'], '88 min of quiet is inside a 90 min window');
  h.feed(motion(at('24:11')));
  t.same(h.of('flowWithoutMotion'), ['raised:critical', 'raised:info', 'cleared:critical']);
});

t.test('flowWithoutMotion at warning level keeps today\'s behaviour: any movement clears, no notice', async (t) => {
  const h = await bathAlarm([{ type: 'flowWithoutMotion', severity: 'warning' }]);
  t.same(h.of('flowWithoutMotion'), ['raised:warning']);
  h.feed(door(at('21:10'), true), motion(at('21:12')));
  t.same(h.of('flowWithoutMotion'), ['raised:warning', 'cleared:warning']);
});

/** Last movement 08:00: warning at 11:00, critical at 14:00. */
async function silentDay(rules: unknown = nsl) {
  const h = await harness({ rules });
  h.feed(motion(at('08:00')));
  h.clock.advanceTo(at('14:00'));
  return h;
}

t.test('noSignOfLife critical: a visitor\'s door, movement and kettle do not clear it; her OK does', async (t) => {
  const h = await silentDay();
  t.same(h.of('noSignOfLife'), ['raised:warning', 'raised:critical']);
  h.feed(door(at('14:30'), true), door(at('14:31'), false), motion(at('14:32')), kettle(at('14:40')));
  t.same(h.of('noSignOfLife'), ['raised:warning', 'raised:critical', 'raised:info']);
  t.match(h.findings[2]!.message.en, /Someone came in through the front door at 14:30/);
  h.feed(button(at('14:50'), 'ok'));
  t.same(h.of('noSignOfLife'), ['raised:warning', 'raised:critical', 'raised:info', 'cleared:critical']);
  t.match(h.findings[3]!.message.en, /Sign of life again: a button press at 14:50/);
});

t.test('noSignOfLife critical: a sign of life after a quiet window, or with no door at all, clears as before', async (t) => {
  const h = await silentDay();
  h.feed(door(at('14:30'), true), motion(at('14:32')), motion(at('15:03')));
  t.same(h.of('noSignOfLife'), ['raised:warning', 'raised:critical', 'raised:info', 'cleared:critical']);
  t.match(h.findings[3]!.message.en, /Sign of life again: movement at 15:03/);

  const h2 = await silentDay();
  h2.feed(motion(at('14:30')));
  t.same(h2.of('noSignOfLife'), ['raised:warning', 'raised:critical', 'cleared:critical']);
});

t.test('noSignOfLife while she was out: the front door opening is her coming home, not a visitor', async (t) => {
  const h = await harness({ rules: nsl });
  h.feed(motion(at('07:55')), door(at('08:00'), true), door(at('08:01'), false));
  // Out for more than 12 h: one warning ("not back for longer than usual").
  h.clock.advanceTo(at('20:01'));
  t.same(h.of('noSignOfLife'), ['raised:warning']);
  h.feed(door(at('20:30'), true), motion(at('20:31')));
  t.same(h.of('noSignOfLife'), ['raised:warning', 'cleared:warning'], 'her coming home clears it, no visitor notice');
});

t.test('noSignOfLife at warning level keeps today\'s behaviour: the door clears it', async (t) => {
  const h = await harness({ rules: nsl });
  h.feed(motion(at('08:00')));
  h.clock.advanceTo(at('11:00'));
  h.feed(door(at('11:30'), true), motion(at('11:31')));
  t.same(h.of('noSignOfLife'), ['raised:warning', 'cleared:warning']);
});

t.test('visitorWindowMinutes is validated, with a default of 30', async (t) => {
  const ok = parseRuleSet([{ type: 'noSignOfLife' }, { type: 'flowWithoutMotion' }]);
  t.same(ok.errors, []);
  t.same(ok.rules.map((r) => 'visitorWindowMinutes' in r ? r.visitorWindowMinutes : undefined), [30, 30]);
  const bad = parseRuleSet([{ type: 'noSignOfLife', visitorWindowMinutes: 0 }, { type: 'flowWithoutMotion', visitorWindowMinutes: 2000 }, { type: 'flowWithoutMotion', id: 'f2', visitorWindowMinutes: 1.5 }]);
  t.same(bad.rules, []);
  t.same(bad.errors.map((e) => e.index), [0, 1, 2]);
  t.match(bad.errors[0]!.message, /visitorWindowMinutes/);
});

t.test('noSignOfLife critical held open by the front door: nothing moving for the warning limit after it is a new alarm', async (t) => {
  // van Kasteren B, 2009-08-12: a critical stood (he had left unseen); at 15:03 the front door
  // opened — he came home — and then nothing moved. The family may have acknowledged the
  // overnight critical; without a new alarm nobody would hear that he came home and stopped.
  const h = await silentDay();
  h.feed(door(at('15:03'), true), door(at('15:04'), false), motion(at('15:05'), 'motion-hall'));
  t.same(h.of('noSignOfLife'), ['raised:warning', 'raised:critical', 'raised:info']);
  h.clock.advanceTo(at('18:04'));
  t.same(h.of('noSignOfLife'), ['raised:warning', 'raised:critical', 'raised:info'], 'not yet: 2 h 59 min after the last movement');
  h.clock.advanceTo(at('18:05'));
  t.same(h.of('noSignOfLife'), ['raised:warning', 'raised:critical', 'raised:info', 'raised:critical'], 'a new alarm 3 h after the last movement');
  const again = h.findings[3]!;
  t.equal(again.data?.again, true, 'marked as a new occurrence, so an acknowledged alert pages again');
  t.equal(again.audience, 'family');
  t.match(again.message.en, /Nothing has moved for 3 h 0 min since someone came in through the front door/);
  t.match(again.message.ja, /玄関から誰かが入った後、3時間0分動きがありません/);
  t.match(again.observed.en, /15:03/);
  t.match(again.observed.ja, /15:03/);
  // Once per visit: time going on raises nothing more.
  h.clock.advanceTo(at('21:00'));
  t.equal(h.of('noSignOfLife').length, 4, 'one re-alert per visit');
  // Her OK clears it; the next visit during a new critical may re-alert again.
  h.feed(button(at('21:10'), 'ok'));
  t.same(h.of('noSignOfLife').at(-1), 'cleared:critical');
});

t.test('noSignOfLife critical held open by a visit: the visitor moving around, then leaving, re-alerts 3 h after the last activity', async (t) => {
  const h = await silentDay();
  h.feed(door(at('14:30'), true), door(at('14:31'), false));
  for (let x = at('14:35'); x <= at('15:35'); x += 10 * MIN) h.feed(motion(x, 'motion-living'));
  h.feed(door(at('15:40'), true), door(at('15:41'), false));
  h.clock.advanceTo(at('18:40'));
  t.equal(h.of('noSignOfLife').length, 3, 'the visit kept the clock from running');
  h.clock.advanceTo(at('18:41'));
  t.same(h.of('noSignOfLife').at(-1), 'raised:critical', '3 h after the visitor left by the front door');
  t.match(h.findings.at(-1)!.observed.en, /the last sign of life after it was at 15:41/);
});

t.test('noSignOfLife critical held open at night: the re-alert counts waking time only', async (t) => {
  const h = await silentDay();
  h.feed(door(at('20:30'), true), door(at('20:31'), false), motion(at('20:32')));
  // Waking hours end at 22:00 (default): 1 h 28 min that evening, the rest from 07:00.
  h.clock.advanceTo(at('24:00') + 8 * 60 * MIN);
  t.equal(h.of('noSignOfLife').length, 3, 'not at night');
  h.clock.advanceTo(at('24:00') + 8 * 60 * MIN + 33 * MIN);
  t.same(h.of('noSignOfLife').at(-1), 'raised:critical', '3 h of waking time after 20:32 is 08:32 the next day');
});
