import t from 'tap';
import { at, door, harness, motion, normalDay } from './helpers.js';

const rules = [{ type: 'nightDoor' }];

t.test('front door opened at night, nobody back within 15 min → warning, explained', async (t) => {
  const h = await harness({ rules });
  h.feed(motion(at('01:55', 1)), door(at('02:00', 1), true), door(at('02:01', 1), false));
  h.clock.advanceTo(at('02:14', 1));
  t.same(h.of('nightDoor'), []);
  h.clock.advanceTo(at('02:15', 1));
  t.same(h.of('nightDoor'), ['raised:warning']);
  const f = h.findings[0]!;
  t.equal(f.at, at('02:15', 1));
  t.match(f.message.en, /Front door opened at 02:00 at night and nobody came back in for 15 minutes/);
  t.match(f.message.ja, /夜間 02:00 に玄関が開き、15分以上戻っていません/);
  t.match(f.expected.en, /At night \(23:00–05:00\)/);
  t.match(f.observed.ja, /02:00 に玄関が開き/);
  h.clock.advanceTo(at('04:00', 1));
  t.equal(h.findings.length, 1, 'edge-triggered: not repeated');
  h.feed(door(at('04:10', 1), true), door(at('04:11', 1), false));
  t.equal(h.findings.length, 1, 'a door alone is not a return');
  h.feed(motion(at('04:12', 1), 'motion-hall'));
  t.same(h.of('nightDoor'), ['raised:warning', 'cleared:warning'], 'cleared on return');
  t.match(h.findings[1]!.message.en, /Movement inside again at 04:12/);
});

t.test('an opening within an absence she entered (the tablet) is the outing she told of; after it ends, watched again', async (t) => {
  const h = await harness({ rules });
  h.feed(motion(at('04:15', 1)));
  h.clock.advanceTo(at('04:20', 1));
  h.engine.setAway('h1', at('08:20', 1));
  h.feed(door(at('04:27', 1), true), door(at('04:28', 1), false));
  h.clock.advanceTo(at('05:00', 1));
  t.same(h.of('nightDoor'), [], 'she said she was going out: no night-door warning');
  // The next night, no absence entered: the same opening is watched.
  h.feed(motion(at('23:50', 1)), door(at('23:55', 1), true), door(at('23:56', 1), false));
  h.clock.advanceTo(at('00:10', 2));
  t.same(h.of('nightDoor'), ['raised:warning']);
});

t.test('re-arms for the next night exit; configured severity and door name', async (t) => {
  const h = await harness({ rules: [{ type: 'nightDoor', door: 'back', severity: 'critical', returnWithinMinutes: 10 }] });
  h.feed(door(at('23:30'), true, 'door-front', 'h1', 'front'));
  h.clock.advanceTo(at('23:59'));
  t.same(h.of('nightDoor'), [], 'another door is not watched');
  h.feed(door(at('00:00', 1), true, 'door-back', 'h1', 'back'));
  h.clock.advanceTo(at('00:10', 1));
  h.feed(motion(at('00:20', 1)));
  h.feed(door(at('03:00', 1), true, 'door-back', 'h1', 'back'));
  h.clock.advanceTo(at('03:10', 1));
  t.same(h.of('nightDoor'), ['raised:critical', 'cleared:critical', 'raised:critical']);
});

t.test('a quick return, a daytime exit and a normal day raise nothing', async (t) => {
  const h = await harness({ rules });
  h.feed(door(at('23:40'), true), door(at('23:41'), false), motion(at('23:45')));
  h.feed(door(at('10:00', 1), true), door(at('10:01', 1), false));
  h.clock.advanceTo(at('12:00', 1));
  h.feed(...normalDay(2));
  h.clock.advanceTo(at('12:00', 3));
  t.same(h.of('nightDoor'), []);
});

t.test('once its alert is resolved, the next night opening is a new occurrence; the old one says nothing more', async (t) => {
  const h = await harness({ start: at('22:00'), rules: [{ type: 'nightDoor' }] });
  h.feed(door(at('23:30'), true), door(at('23:31'), false));
  h.clock.advanceTo(at('23:46'));
  t.same(h.of('nightDoor'), ['raised:warning']);
  // Today a second opening while the first is unanswered is ignored.
  t.equal(h.engine.alertEnded('h1', 'night-door'), true, 're-armed when the alert is resolved');
  h.feed(door(at('02:10', 1), true), door(at('02:11', 1), false));
  h.clock.advanceTo(at('02:25', 1));
  t.same(h.of('nightDoor'), ['raised:warning', 'raised:warning'], 'the new opening raises on its own deadline');
  t.match(h.findings[1]!.message.en, /02:10/);
  h.feed(motion(at('02:40', 1)));
  t.same(h.of('nightDoor'), ['raised:warning', 'raised:warning', 'cleared:warning'], 'the new one clears on movement inside');
});

t.test('a home without motion sensors: a cupboard or the kettle after the passage is her back inside, so the next night is watched again', async (t) => {
  const h = await harness({ rules });
  h.feed(door(at('23:30'), true), door(at('23:31'), false));
  h.clock.advanceTo(at('23:45'));
  t.same(h.of('nightDoor'), ['raised:warning']);
  h.feed(door(at('23:30') + 60_000, true, 'cupboard', 'h1', 'cupboard'));
  t.same(h.of('nightDoor'), ['raised:warning'], 'a cupboard within the passage (2 min) is not a return');
  h.feed(door(at('00:20', 1), false, 'cupboard', 'h1', 'cupboard'));
  t.same(h.of('nightDoor'), ['raised:warning'], 'a contact falling back to rest is not her');
  h.feed(door(at('00:40', 1), true, 'hall-bathroom-door', 'h1', 'hall-bathroom-door'));
  t.same(h.of('nightDoor'), ['raised:warning', 'cleared:warning']);
  t.match(h.findings[1]!.observed.en, /a door inside at 00:40 \(hall-bathroom-door\)/);
  // Before: the opening stayed marked forever in such a home, and the next night exit went unseen.
  h.feed(door(at('02:16', 1), true), door(at('02:17', 1), false));
  h.clock.advanceTo(at('02:31', 1));
  t.same(h.of('nightDoor'), ['raised:warning', 'cleared:warning', 'raised:warning'], 'the next night exit is seen');
});

t.test('her coming home at night is not a night outing: an opening after she was seen leaving is not watched; a visitor leaving alone is no departure of hers', async (t) => {
  const both = [{ type: 'noSignOfLife' }, { type: 'nightDoor' }];
  // van Kasteren A: out 18:25, home 23:39, sat where no sensor sees her: "nobody came back in" at 23:54.
  const h = await harness({ rules: both });
  h.feed(motion(at('18:20')), door(at('18:25'), true), door(at('18:26'), false));
  // Her reed bounced as she came in: 23:39:18 open, :19 closed, :24 open, :30 closed — one passage.
  const s = 1000;
  h.feed(door(at('23:39') + 18 * s, true), door(at('23:39') + 19 * s, false), door(at('23:39') + 24 * s, true), door(at('23:39') + 30 * s, false));
  h.clock.advanceTo(at('00:30', 1));
  t.same(h.of('nightDoor'), [], 'before: raised at 23:54');
  // Home again (the door closed behind her): the next opening at night is watched as before.
  h.feed(motion(at('00:35', 1)), door(at('02:00', 1), true), door(at('02:01', 1), false));
  h.clock.advanceTo(at('02:15', 1));
  t.same(h.of('nightDoor'), ['raised:warning'], 'she was home: going out at 02:00 is a night outing');

  // Someone came in at 21:00 and the door closed at 22:00 with nothing after: perhaps the visitor
  // alone. The door opening at 23:30 may be her going out: watched.
  const v = await harness({ rules: both });
  v.feed(motion(at('20:50')), door(at('21:00'), true), door(at('21:01'), false), motion(at('21:03')), motion(at('21:40')));
  v.feed(door(at('22:00'), true), door(at('22:01'), false));
  v.feed(door(at('23:30'), true));
  v.clock.advanceTo(at('23:45'));
  t.same(v.of('nightDoor'), ['raised:warning']);

  // Going out at night with a bounce: the kitchen PIR sees her at the door (04:28:03) between two
  // openings 9 s apart (van Kasteren B, 6 August). The second opening is the same passage out: watched.
  const b = await harness({ rules: both });
  b.feed(motion(at('04:20', 1), 'motion-bedroom'), door(at('04:27', 1) + 57 * s, true), door(at('04:28', 1) + 2 * s, false), motion(at('04:28', 1) + 3 * s, 'motion-kitchen'));
  b.feed(door(at('04:28', 1) + 6 * s, true), door(at('04:28', 1) + 7 * s, false));
  b.clock.advanceTo(at('04:44', 1));
  t.same(b.of('nightDoor'), ['raised:warning'], 'she left at 04:28 and is not back');
});
