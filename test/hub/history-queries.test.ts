/**
 * Reading history back out of a real InfluxDB: the web app's activity chart,
 * the daily digest's facts, and recorded readings for rebuilding a routine.
 */
import t from 'tap';
import { createSqliteStore } from '../../core/store.js';
import { toLocalIso } from '../../core/time.js';
import type { Reading } from '../../core/events.js';
import { createDaySummarizer, createInfluxHistoryQuery, createRoutineHistory } from '../../history/history-queries.js';
import { dayBounds } from '../../core/time.js';
import { tempDir } from './helpers.js';
import { realHistory } from '../support/real-history.js';

const tz = 'Asia/Tokyo';
const at = (hhmm: string, date = '2026-11-20') => Date.parse(`${date}T${hhmm}:00+09:00`);
const base = (device: string, id: string, when: number) => ({ home: 'h1', device, id, ts: toLocalIso(when, tz), at: when });

t.test('history queries over a real InfluxDB', async (t) => {
  const dir = tempDir(t);
  const { influx, writer } = await realHistory(t, dir);
  const store = createSqliteStore(':memory:');
  t.teardown(() => store.close());
  await store.createHome({ id: 'h1', name: 'x', timezone: tz });

  const readings: Reading[] = [
    { ...base('motion-bedroom', 'm1', at('06:50')), kind: 'motion', occupied: true, room: 'bedroom' },
    { ...base('kettle', 'k1', at('07:12')), kind: 'kettle', state: 'on', watts: 1200 },
    { ...base('kettle', 'k2', at('07:16')), kind: 'kettle', state: 'off' },
    { ...base('front-door', 'd1', at('09:30')), kind: 'door', open: true, door: 'front' },
    { ...base('front-door', 'd2', at('15:10')), kind: 'door', open: true, door: 'front' },
    { ...base('motion-living', 'm2', at('15:12')), kind: 'motion', occupied: true, room: 'living' },
    { ...base('kettle', 'k3', at('15:30')), kind: 'kettle', state: 'on' },
    { home: 'h1', device: 'kettle', kind: 'heartbeat', battery: 80, at: at('16:00') },
    { ...base('kettle', 'k9', at('07:00', '2026-11-21')), kind: 'kettle', state: 'on' },
  ];
  for (const r of readings) writer.writeReading(r);
  await writer.flush();
  await store.setAttendance({ homeId: 'h1', date: '2026-11-20', status: 'absent', markedBy: 'staff', at: at('09:00') });

  const [from, to] = dayBounds('2026-11-20', tz);
  t.equal(from, at('00:00'), 'the local day starts at local midnight');
  const activity = await createInfluxHistoryQuery(influx).activity('h1', from, to);
  t.same(activity.map((a) => a.kind), ['motion', 'kettle', 'kettle', 'door', 'door', 'motion', 'kettle'], 'events of that day, oldest first, no heartbeats');
  t.same(activity.map((a) => a.active), [true, true, false, true, true, true, true], 'each says whether the sensor went active (the kettle switched off did not)');

  const day = await createDaySummarizer({ influx, store, database: 'mimamori' })('h1', '2026-11-20');
  t.equal(day.firstKettleAt, at('07:12'), 'first kettle use');
  t.same(day.outings, [{ from: at('09:30'), to: at('15:10') }], 'out from the door at 9:30 until it opened again at 15:10');
  t.equal(day.dayCare, 'absent');
  t.same(day.noticed, [], 'all normal');

  const recorded = await createRoutineHistory({ influx, now: () => at('12:00', '2026-11-21') })('h1');
  const ids = (rs: Reading[]) => rs.map((r) => (r.kind === 'heartbeat' ? '' : r.id));
  const events = readings.filter((r) => r.kind !== 'heartbeat');
  t.same(ids(recorded), ids(events), 'every event comes back, validated, in order');
  // InfluxDB keeps the instant, not the device's offset: the same time comes back in UTC.
  t.same({ ...recorded[1], ts: undefined }, { ...events[1], ts: undefined }, 'with all its fields');
  t.equal(Date.parse((recorded[1] as { ts: string }).ts), events[1]!.at, 'at the same instant');
  await t.rejects(createInfluxHistoryQuery(influx).activity("h1' OR 1=1", from, to), /not an id/, 'ids are checked before they reach a query');
});
