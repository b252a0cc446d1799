import t from 'tap';
import { at, gas, harness, motion, normalDay, water } from './helpers.js';

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
  t.same(h.of('flowWithoutMotion'), ['raised:critical', 'cleared:critical'], 'cleared when the flow stops');
  t.match(h.findings[1]!.observed.en, /Water stopped at 22:31/);
});

t.test('motion clears, and the rule re-arms from the last motion', async (t) => {
  const h = await harness({ rules });
  h.feed(gas(at('12:00'), true));
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
