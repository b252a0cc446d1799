import t from 'tap';
import { at, button, harness, normalDay } from './helpers.js';

t.test('help → critical at once; repeats are not repeated; ok clears; re-arms', async (t) => {
  const h = await harness({ rules: [{ type: 'helpButton' }] });
  h.feed(button(at('10:00'), 'help'));
  t.same(h.of('helpButton'), ['raised:critical']);
  const f = h.findings[0]!;
  t.equal(f.at, at('10:00'));
  t.equal(f.device, 'button');
  t.match(f.message.en, /Help button pressed at 10:00/);
  t.match(f.message.ja, /10:00 に緊急ボタンが押されました/);
  t.match(f.observed.en, /device button/);
  h.feed(button(at('10:01'), 'help'));
  t.equal(h.findings.length, 1, 'edge-triggered');
  h.feed(button(at('10:05'), 'ok'));
  t.same(h.of('helpButton'), ['raised:critical', 'cleared:critical']);
  t.match(h.findings[1]!.message.ja, /大丈夫/);
  h.feed(button(at('10:06'), 'ok'));
  t.equal(h.findings.length, 2, 'ok with nothing raised does nothing');
  h.feed(button(at('15:00'), 'help'));
  t.same(h.of('helpButton'), ['raised:critical', 'cleared:critical', 'raised:critical']);
});

t.test('a normal day raises nothing', async (t) => {
  const h = await harness({ rules: [{ type: 'helpButton' }] });
  h.feed(...normalDay(0));
  t.same(h.findings, []);
});
