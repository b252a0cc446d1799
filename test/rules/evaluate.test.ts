// Evaluation: scoring against labelled truth, the truth format, a small end-to-end run, and the CLI command.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { toRecordedLine } from '../../core/events.js';
import { evaluateCommand } from '../../cli/evaluate.js';
import { simulate } from '../../edge/simulator.js';
import { buildCorpus } from '../../rules/evaluate-corpus.js';
import { checkTargets, evaluateReadings, formatReport, parseTruth, scoreFindings, type ScoredFinding } from '../../rules/evaluate.js';

const h = 3_600_000;
const T0 = Date.parse('2026-01-10T00:00:00+09:00');
const f = (at: number, type: string, state: 'raised' | 'cleared' = 'raised', severity: ScoredFinding['severity'] = 'warning', audience: ScoredFinding['audience'] = 'family'): ScoredFinding =>
  ({ home: 'a', rule: type, type, state, severity, audience, at });

t.test('scoring: recall, time to detect, false-alarm episodes per home-month, notices apart', async (t) => {
  const truth = parseTruth({ incidents: [
    { home: 'a', type: 'no-sign-of-life', start: '2026-01-10T09:00:00+09:00', end: '2026-01-11T04:00:00+09:00', severity: 'critical' },
    { home: 'a', type: 'help-button', start: '2026-01-20T10:00:00+09:00', severity: 'critical' },
  ] });
  const findings = [
    f(T0 + 11 * h, 'noSignOfLife'), f(T0 + 14 * h, 'noSignOfLife', 'raised', 'critical'), f(T0 + 20 * h, 'noSignOfLife', 'cleared'),
    f(T0 + 5 * 24 * h, 'nightDoor'), f(T0 + 5 * 24 * h + h, 'nightDoor', 'raised', 'critical'), // one episode, escalated
    f(T0 + 6 * 24 * h, 'routineMissed', 'raised', 'info'),
    f(T0 + 7 * 24 * h, 'routineTrend', 'raised', 'info', 'caregiver'),
  ];
  const s = scoreFindings('learned', findings, truth, new Map([['a', { first: T0, last: T0 + 30.44 * 24 * h }]]));
  t.equal(s.homeMonths.toFixed(2), '1.00');
  const nsl = s.byType.find((x) => x.type === 'no-sign-of-life')!;
  t.equal(nsl.detected, 1);
  t.equal(nsl.medianMinutes, 120, 'detected 2 h after it began');
  t.equal(s.noSignWakingMedianMinutes, 120);
  t.same(s.byType.find((x) => x.type === 'help-button')!.missed, ['a 2026-01-20T10:00:00+09:00'], 'a missed incident is named');
  t.equal(s.criticalDetected, 1);
  t.equal(s.falseAlarms, 1, 'warning → critical of one rule is one false alarm');
  t.equal(s.falseAlarmsPerHomeMonth, 1);
  t.equal(s.observations, 1);
  t.ok(s.noticesPerHomeMonth > 0.9 && s.noticesPerHomeMonth < 1.1);
  const checks = checkTargets(s, { ...s, falseAlarms: 3 });
  t.same(checks.map((c) => c.met), [false, true, true, true]);
  t.match(formatReport([s]).join('\n'), /\[FAIL\] every critical incident detected: 1\/2/);
});

t.test('truth format: a bare incident list (mimamori simulate --truth) or the full object; bad input explained', async (t) => {
  t.equal(parseTruth([{ home: 'a', type: 'help-button', start: '2026-01-20T10:00:00+09:00' }]).incidents[0]!.severity, 'critical');
  const full = parseTruth({ format: 'mimamori-truth/1', homes: [{ home: 'a', dayCareDays: [2] }], incidents: [], away: [{ home: 'a', from: '2026-01-01T10:00:00+09:00', to: '2026-01-03T10:00:00+09:00', reason: 'hospital' }] });
  t.equal(full.homes[0]!.timezone, 'Asia/Tokyo');
  t.throws(() => parseTruth({ incidents: [{ home: 'a', type: 'x', start: 'yesterday' }] }), /start/);
});

t.test('a small labelled run: every incident found, the learned mode no worse than fixed rules alone', async (t) => {
  const sim = simulate({ seed: 5, homes: 2, start: '2026-01-05T00:00:00+09:00', days: 12, incidents: [
    { home: 'home-01', type: 'no-sign-of-life', at: '2026-01-14T10:30:00+09:00' },
    { home: 'home-02', type: 'help-button', at: '2026-01-13T11:00:00+09:00' },
  ] });
  const truth = parseTruth(sim.incidents);
  const scores = await evaluateReadings(sim.readings, truth, { routineSettings: { learningDays: 6 } });
  t.same(scores.map((s) => s.mode), ['fixed', 'fixed+context', 'learned']);
  const learned = scores.find((s) => s.mode === 'learned')!, fixed = scores.find((s) => s.mode === 'fixed')!;
  t.equal(learned.criticalDetected, 2);
  t.ok(learned.noSignWakingMedianMinutes <= fixed.noSignWakingMedianMinutes, `learned ${learned.noSignWakingMedianMinutes} min vs fixed ${fixed.noSignWakingMedianMinutes} min`);
  t.ok(learned.falseAlarms <= fixed.falseAlarms);
});

t.test('the corpus is deterministic and large enough', async (t) => {
  const a = buildCorpus({ seed: 1 }), b = buildCorpus({ seed: 1 });
  t.same(a.map((g) => g.truth), b.map((g) => g.truth), 'same seed, same labels');
  const residentMonths = a.reduce((sum, g) => sum + (g.sim.homes as unknown[]).length * g.sim.days, 0) / 30.44;
  t.ok(residentMonths >= 50, `${residentMonths.toFixed(1)} resident-months`);
  const truth = a.flatMap((g) => g.truth.incidents);
  for (const type of ['fall-in-bath', 'no-sign-of-life', 'night-wandering', 'help-button']) t.ok(truth.some((i) => i.type === type), `has ${type}`);
  t.ok(a.some((g) => g.truth.away.some((p) => p.reason === 'hospital')), 'hospital stays');
  t.ok(a.some((g) => g.truth.unannounced.length > 0), 'unannounced nights away');
  t.ok(a.some((g) => (g.sim.visits ?? []).length > 0), 'visitors after alarms');
  t.not(JSON.stringify(buildCorpus({ seed: 2 })[0]!.truth), JSON.stringify(a[0]!.truth), 'another seed, another corpus');
});

t.test('mimamori evaluate FILE --truth: prints the report per mode; bad arguments are refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mimamori-eval-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const sim = simulate({ seed: 9, homes: 1, start: '2026-01-05T00:00:00+09:00', days: 4, incidents: [{ home: 'home-01', type: 'help-button', at: '2026-01-07T11:00:00+09:00' }] });
  writeFileSync(join(dir, 'r.ndjson'), `${sim.readings.map(toRecordedLine).join('\n')}\n{"broken":\n`);
  writeFileSync(join(dir, 't.json'), JSON.stringify(sim.incidents));
  const out: string[] = [], err: string[] = [];
  const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
  t.equal(await evaluateCommand([join(dir, 'r.ndjson'), '--truth', join(dir, 't.json'), '--months'], io), 0);
  const text = out.join('\n');
  t.match(text, /== fixed rules alone ==/);
  t.match(text, /help-button\s+1\/1\s+100%/);
  t.match(text, /\[PASS\] every critical incident detected/);
  t.match(err.join('\n'), /1 line\(s\) skipped/);
  t.equal(await evaluateCommand([join(dir, 'r.ndjson')], io), 2, '--truth is required');
  t.equal(await evaluateCommand(['--nope'], io), 2);
  writeFileSync(join(dir, 'bad.json'), '{"incidents": 3}');
  t.equal(await evaluateCommand([join(dir, 'r.ndjson'), '--truth', join(dir, 'bad.json')], io), 1);
  t.ok(readFileSync(join(dir, 't.json'), 'utf8').length > 0);
});
