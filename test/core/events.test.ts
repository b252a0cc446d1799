import t from 'tap';
import { defaultEventTimeBounds, eventTimeProblem, parseDeviceEvent, parseHeartbeat, parseRecordedLine, toRecordedLine } from '../../core/events.js';
import { eventTopic, parseDeviceTopic, commandTopic } from '../../core/topics.js';

const ts = '2026-11-21T07:12:00+09:00';

t.test('every documented event shape is accepted', async (t) => {
  const shapes = [
    { kind: 'kettle', state: 'on', watts: 1200 },
    { kind: 'kettle', state: 'off' },
    { kind: 'water', flowing: true, rate: 6.5 },
    { kind: 'gas', flowing: false },
    { kind: 'power', watts: 230 },
    { kind: 'door', open: true, door: 'front' },
    { kind: 'motion', occupied: true, room: 'kitchen' },
    { kind: 'button', press: 'help' },
    { kind: 'button', press: 'ok' },
    { kind: 'climate', celsius: 31.5, humidity: 60 },
  ];
  for (const [i, shape] of shapes.entries()) {
    const r = parseDeviceEvent(JSON.stringify({ id: `e${i}`, ts, ...shape }));
    t.ok(r.ok, `${shape.kind} accepted`);
    if (r.ok) t.equal(r.value.kind, shape.kind);
  }
});

t.test('bad input is refused with a reason', async (t) => {
  const cases: Array<[string, string]> = [
    ['{not json', 'malformed_json'],
    ['[1,2]', 'not_an_object'],
    ['null', 'not_an_object'],
    [JSON.stringify({ id: 'x', ts, kind: 'toaster' }), 'unknown_kind'],
    [JSON.stringify({ id: 'x', ts, kind: 'kettle', state: 'boiling' }), 'invalid_fields'],
    [JSON.stringify({ id: 'x', ts: '2026-11-21 07:12', kind: 'power', watts: 1 }), 'invalid_fields'],
    [JSON.stringify({ id: 'x', ts: '2026-11-21T07:12:00', kind: 'power', watts: 1 }), 'invalid_fields'],
    [JSON.stringify({ ts, kind: 'power', watts: 1 }), 'invalid_fields'],
    [JSON.stringify({ id: 'x', ts, kind: 'climate', celsius: 400 }), 'invalid_fields'],
  ];
  for (const [payload, reason] of cases) {
    const r = parseDeviceEvent(payload);
    t.equal(r.ok, false, payload);
    if (!r.ok) {
      t.equal(r.reason, reason, payload);
      t.ok(r.detail.length > 0, 'has a human-readable detail');
    }
  }
  const hb = parseHeartbeat(JSON.stringify({ ts, battery: 140 }));
  t.equal(hb.ok, false, 'battery over 100% is refused');
});

t.test('recorded lines round-trip, heartbeats included', async (t) => {
  const line = JSON.stringify({ home: 'h1', device: 'kettle', id: 'e1', ts, kind: 'kettle', state: 'on' });
  const r = parseRecordedLine(line);
  t.ok(r.ok);
  if (r.ok) {
    t.equal(r.value.at, Date.parse(ts));
    t.same(JSON.parse(toRecordedLine(r.value)), JSON.parse(line));
  }
  const hb = parseRecordedLine(JSON.stringify({ home: 'h1', device: 'door', kind: 'heartbeat', ts: '2026-11-21T00:00:00.000Z', battery: 5 }));
  t.ok(hb.ok);
  if (hb.ok && hb.value.kind === 'heartbeat') t.equal(hb.value.battery, 5);
  const bad = parseRecordedLine(JSON.stringify({ home: 'H/1', device: 'x', id: 'e', ts, kind: 'power', watts: 1 }));
  t.equal(bad.ok, false, 'a home id with a slash is refused');
});

t.test('topics', async (t) => {
  t.same(parseDeviceTopic(eventTopic('h1', 'kettle-1')), { home: 'h1', device: 'kettle-1', channel: 'events' });
  t.same(parseDeviceTopic(commandTopic('h1', 'tablet')), { home: 'h1', device: 'tablet', channel: 'commands' });
  t.equal(parseDeviceTopic('mimamori/v1/homes/h1/devices/k/other'), undefined);
  t.equal(parseDeviceTopic('mimamori/v1/homes/+/devices/k/events'), undefined);
  t.equal(parseDeviceTopic('other/v1/homes/h1/devices/k/events'), undefined);
});

t.test('event time: 5 min ahead and 7 days behind are the edges; beyond them a reason and a readable detail', async (t) => {
  const now = Date.parse('2026-11-21T07:00:00+09:00');
  const min = 60_000, day = 24 * 3600_000;
  t.same(defaultEventTimeBounds, { maxFutureMs: 5 * min, maxAgeMs: 7 * day });
  t.equal(eventTimeProblem(now, now), undefined);
  t.equal(eventTimeProblem(now + 5 * min, now), undefined, 'drift up to 5 min is accepted');
  t.equal(eventTimeProblem(now - 7 * day, now), undefined, 'a queue up to 7 days old is accepted');
  t.match(eventTimeProblem(now + 5 * min + 1, now), { reason: 'ts_in_future', detail: /5 min ahead/ });
  t.match(eventTimeProblem(now - 7 * day - 1, now), { reason: 'ts_too_old', detail: /7 days behind/ });
  t.match(eventTimeProblem(Date.parse('2300-01-01T00:00:00Z'), now), { reason: 'ts_in_future', detail: /2300-01-01T00:00:00.000Z is \d+ days ahead/ });
  t.match(eventTimeProblem(now - 3 * 3600_000, now, { maxFutureMs: 0, maxAgeMs: 2 * 3600_000 }), { reason: 'ts_too_old', detail: /3 h behind.*older than 2 h/ });
});
