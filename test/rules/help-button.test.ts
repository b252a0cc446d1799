import t from 'tap';
import { at, button, harness, normalDay } from './helpers.js';

/** Findings that are not a repeat press on a raised alert (`data.again`). */
const fresh = (h: { findings: Array<{ data?: Record<string, unknown> }> }) => h.findings.filter((f) => f.data?.again !== true);

t.test('help → critical at once; a repeat is marked as one; ok clears; re-arms', async (t) => {
  const h = await harness({ rules: [{ type: 'helpButton' }] });
  h.feed(button(at('10:00'), 'help'));
  t.same(h.of('helpButton'), ['raised:critical']);
  const f = h.findings[0]!;
  t.equal(f.at, at('10:00'));
  t.equal(f.device, 'button');
  t.match(f.message.en, /Help button pressed at 10:00/);
  t.match(f.message.ja, /10:00 に緊急ボタンが押されました/);
  t.match(f.observed.en, /device button/);
  t.equal(f.data?.again, undefined, 'the first press is no repeat');
  h.feed(button(at('10:01'), 'help'));
  t.equal(h.findings.length, 2, 'a press while raised is raised again…');
  t.equal(h.findings[1]!.data?.again, true, '…marked as a repeat (the notifier counts it, or pages afresh after an acknowledgement)');
  t.equal(h.findings[1]!.at, at('10:01'));
  t.equal(fresh(h).length, 1, 'edge-triggered: no new raise of the condition');
  h.feed(button(at('10:05'), 'ok'));
  t.same(h.of('helpButton'), ['raised:critical', 'raised:critical', 'cleared:critical']);
  t.match(h.findings[2]!.message.ja, /大丈夫/);
  h.feed(button(at('10:06'), 'ok'));
  t.equal(h.findings.length, 3, 'ok with nothing raised does nothing');
  h.feed(button(at('15:00'), 'help'));
  t.same(h.of('helpButton'), ['raised:critical', 'raised:critical', 'cleared:critical', 'raised:critical']);
  t.equal(h.findings[3]!.data?.again, undefined, 'after "I\'m OK" a press is a new raise');
});

t.test('a normal day raises nothing', async (t) => {
  const h = await harness({ rules: [{ type: 'helpButton' }] });
  h.feed(...normalDay(0));
  t.same(h.findings, []);
});

t.test('once its alert is resolved, the next help press raises again without an "I\'m OK" in between', async (t) => {
  const h = await harness({ rules: [{ type: 'helpButton' }] });
  t.equal(h.engine.alertEnded('h1', 'help-button'), false, 'nothing to re-arm before any press');
  h.feed(button(at('10:00'), 'help'));
  h.feed(button(at('10:01'), 'help'));
  t.equal(fresh(h).length, 1, 'a repeat while the alert is open is no new raise (only marked `again`)');
  // A family member resolved the alert in the web app (the notifier reports it; cli/hub.ts wires it).
  t.equal(h.engine.alertEnded('h1', 'help-button'), true, 're-armed');
  t.same(h.of('helpButton'), ['raised:critical', 'raised:critical'], 're-arming says nothing: no cleared finding, no all-clear');
  t.equal(h.engine.alertEnded('h1', 'help-button'), false, 'a second report changes nothing');
  h.feed(button(at('10:30'), 'help'));
  t.equal(fresh(h).length, 2, 'the second cry for help is raised as new');
  h.feed(button(at('10:35'), 'ok'));
  t.same(h.of('helpButton'), ['raised:critical', 'raised:critical', 'raised:critical', 'cleared:critical'], 'and "I\'m OK" still clears it');
  t.equal(h.engine.alertEnded('h1', 'no-such-rule'), false);
  t.equal(h.engine.alertEnded('no-such-home', 'help-button'), false);
});

t.test('rules whose finding is a continuing condition are not re-armed by the end of their alert', async (t) => {
  const h = await harness({ rules: [{ type: 'noSignOfLife' }] });
  h.feed(button(at('08:00'), 'ok'));
  h.clock.advanceTo(at('11:00'));
  t.same(h.of('noSignOfLife'), ['raised:warning']);
  t.equal(h.engine.alertEnded('h1', 'no-sign-of-life'), false, 'still silent: re-raising now would page the family again');
  h.clock.advanceTo(at('13:00'));
  t.same(h.of('noSignOfLife'), ['raised:warning']);
});
