import t from 'tap';
import { parseRecordedLine, toRecordedLine, type Reading } from '../../core/events.js';
import type { Finding } from '../../core/findings.js';
import { findingToNdjson, replayReadings } from '../../rules/replay.js';
import { at, button, heartbeat, motion, water } from './helpers.js';

async function collect(it: AsyncIterable<Finding>): Promise<Finding[]> {
  const out: Finding[] = [];
  for await (const f of it) out.push(f);
  return out;
}

t.test('replays recorded lines in virtual time; pending deadlines fire after the last reading', async (t) => {
  const recorded = [motion(at('08:00')), heartbeat(at('08:05'), 'motion-living', 90), button(at('09:00'), 'help'), button(at('09:02'), 'ok'), water(at('09:30'), true, 'water', 'h2')]
    .map((r) => toRecordedLine(r));
  const readings: Reading[] = recorded.map((line) => {
    const p = parseRecordedLine(line);
    if (!p.ok) throw new Error(p.detail);
    return p.value;
  });
  const started = Date.now();
  const findings = await collect(replayReadings(readings, { rulesFor: () => [{ type: 'noSignOfLife' }, { type: 'helpButton' }, { type: 'flowWithoutMotion' }] }));
  t.ok(Date.now() - started < 5000, 'a simulated day replays in well under real time');
  t.same(findings.map((f) => `${f.home}:${f.type}:${f.state}:${f.severity}@${new Date(f.at).toISOString()}`), [
    `h1:helpButton:raised:critical@${new Date(at('09:00')).toISOString()}`,
    `h1:helpButton:cleared:critical@${new Date(at('09:02')).toISOString()}`,
    // h2 has no motion sensor at all: its unwatched flow is the same silence as noSignOfLife's
    // warning at the same minute, told once (issue 10); 4 h of flow is a device fault.
    `h1:noSignOfLife:raised:warning@${new Date(at('12:02')).toISOString()}`,
    `h2:noSignOfLife:raised:warning@${new Date(at('12:30')).toISOString()}`,
    `h2:flowWithoutMotion:raised:warning@${new Date(at('13:30')).toISOString()}`,
    `h1:noSignOfLife:raised:critical@${new Date(at('15:02')).toISOString()}`,
    `h2:noSignOfLife:raised:critical@${new Date(at('15:30')).toISOString()}`,
  ]);
});

t.test('until bounds the run; async iterables work; nothing in, nothing out', async (t) => {
  async function* gen() { yield motion(at('08:00')); }
  const findings = await collect(replayReadings(gen(), { until: at('11:30'), rulesFor: () => [{ type: 'noSignOfLife' }] }));
  t.same(findings.map((f) => f.severity), ['warning']);
  t.same(await collect(replayReadings([])), []);
});

t.test('findingToNdjson writes one JSON line with both languages and RFC 3339 time', async (t) => {
  const [f] = await collect(replayReadings([button(at('09:00'), 'help')], { rulesFor: () => [{ type: 'helpButton' }] }));
  const line = findingToNdjson(f!);
  t.notMatch(line, /\n/);
  const o = JSON.parse(line) as Record<string, unknown>;
  t.match(o, {
    ts: '2026-11-21T00:00:00.000Z', home: 'h1', rule: 'help-button', type: 'helpButton', state: 'raised', severity: 'critical', audience: 'family',
    message: 'Help button pressed at 09:00', message_ja: '09:00 に緊急ボタンが押されました', device: 'button',
  });
  t.type(o.expected, 'string');
  t.type(o.observed, 'string');
  t.type(o.expected_ja, 'string');
  t.type(o.observed_ja, 'string');
  t.equal(JSON.parse(findingToNdjson(f!, 'Asia/Tokyo')).ts, '2026-11-21T09:00:00+09:00', 'local offset when a zone is given');
});
