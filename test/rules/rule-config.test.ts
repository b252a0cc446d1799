import t from 'tap';
import { defaultRules, parseRuleSet, ruleTypes } from '../../rules/rule-config.js';
import { at, button, harness, motion } from './helpers.js';

t.test('defaults: one of each rule with the documented parameters', async (t) => {
  const rules = defaultRules();
  t.same(rules.map((r) => r.type), ruleTypes);
  const nsl = rules.find((r) => r.type === 'noSignOfLife');
  t.match(nsl, { id: 'no-sign-of-life', enabled: true, wakingHours: { from: '07:00', to: '22:00' }, warningAfterMinutes: 180, criticalAfterMinutes: 360 });
  t.match(rules.find((r) => r.type === 'nightDoor'), { door: 'front', night: { from: '23:00', to: '05:00' }, returnWithinMinutes: 15, severity: 'warning' });
  t.match(rules.find((r) => r.type === 'flowWithoutMotion'), { signals: ['water', 'gas'], minutes: 60, severity: 'critical' });
  t.match(rules.find((r) => r.type === 'deviceSilent'), { afterMinutes: 120 });
  t.match(rules.find((r) => r.type === 'batteryLow'), { belowPercent: 15 });
  t.same(parseRuleSet(undefined), { rules: defaultRules(), errors: [] });
});

t.test('each bad rule gets a readable message and is skipped; the others are kept', async (t) => {
  const r = parseRuleSet([
    { type: 'noSignOfLife', warningAfterMinutes: 120 },
    { type: 'teleport', id: 'beam-me-up' },
    { type: 'nightDoor', night: { from: '25:00', to: '05:00' } },
    { type: 'noSignOfLife', warningAfterMinutes: 400, criticalAfterMinutes: 300, id: 'second' },
    { type: 'helpButton', colour: 'red' },
    'help',
    { type: 'noSignOfLife' },
    { type: 'batteryLow', belowPercent: 10 },
  ]);
  t.same(r.rules.map((x) => `${x.type}/${x.id}`), ['noSignOfLife/no-sign-of-life', 'batteryLow/battery-low']);
  t.same(r.errors.map((e) => e.index), [1, 2, 3, 4, 5, 6]);
  t.match(r.errors[0], { id: 'beam-me-up', message: /unknown rule type "teleport"; expected one of noSignOfLife, nightDoor/ });
  t.match(r.errors[1]!.message, /night\.from: expected a time of day as "HH:MM"/);
  t.match(r.errors[2], { id: 'second', message: /criticalAfterMinutes must be greater than warningAfterMinutes/ });
  t.match(r.errors[3]!.message, /colour/);
  t.match(r.errors[4]!.message, /a rule must be an object/);
  t.match(r.errors[5]!.message, /duplicate rule id "no-sign-of-life"/);
});

t.test('object form with a time zone; bad time zone and bad shapes are reported', async (t) => {
  const ok = parseRuleSet({ timezone: 'Europe/Berlin', rules: [{ type: 'helpButton' }] });
  t.equal(ok.timezone, 'Europe/Berlin');
  t.equal(ok.rules.length, 1);
  const defaultsWithZone = parseRuleSet({ timezone: 'Asia/Tokyo' });
  t.equal(defaultsWithZone.rules.length, ruleTypes.length);
  const badZone = parseRuleSet({ timezone: 'Mars/Olympus', rules: [] });
  t.match(badZone.errors[0]!.message, /not an IANA time zone/);
  t.equal(badZone.timezone, undefined);
  t.match(parseRuleSet(42).errors[0]!.message, /a rule set is an array of rules/);
  t.match(parseRuleSet({ rules: 'nope' }).errors[0]!.message, /a rule set is an array/);
});

t.test('the engine runs the good rules of a set with a bad one, and setRules reports errors', async (t) => {
  const h = await harness({ rules: [{ type: 'noSignOfLife', warningAfterMinutes: 'soon' }, { type: 'helpButton' }] });
  h.feed(motion(at('08:00')));
  h.clock.advanceTo(at('20:00'));
  t.same(h.findings, [], 'the broken noSignOfLife does not run');
  h.feed(button(at('20:01'), 'help'));
  t.same(h.of('helpButton'), ['raised:critical'], 'the good rule still runs');
  const { errors } = h.engine.setRules('h1', [{ type: 'noSignOfLife', warningAfterMinutes: 60, criticalAfterMinutes: 120 }, { type: 'bogus' }]);
  t.equal(errors.length, 1);
  t.match(errors[0]!.message, /unknown rule type "bogus"/);
  t.same(h.of('helpButton'), ['raised:critical', 'cleared:critical'], 'findings of a removed rule are cleared');
  t.match(h.findings[1]!.message.en, /Rule help-button was removed or disabled/);
  h.clock.advanceTo(at('12:00', 1));
  t.same(h.findings.filter((f) => f.type === 'noSignOfLife').map((f) => `${f.severity}@${f.at}`), [`warning@${at('21:01')}`, `critical@${at('07:01', 1)}`],
    'the new rule applies at once, counting from the help press at 20:01 (1 h 59 min before 22:00, 1 min after 07:00)');
});

t.test('disabled rules do not run; async rulesFor applies when it resolves', async (t) => {
  const h = await harness({ rulesFor: async () => [{ type: 'helpButton', enabled: false }] });
  h.feed(button(at('08:00'), 'help'));
  t.same(h.of('helpButton'), ['raised:critical'], 'defaults until the home\'s rules are read');
  h.feed(button(at('08:01'), 'ok'));
  await new Promise((r) => setImmediate(r));
  h.feed(button(at('08:05'), 'help'));
  t.same(h.of('helpButton'), ['raised:critical', 'cleared:critical'], 'disabled once the rule set arrived');
});
