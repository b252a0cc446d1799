/**
 * The family page's charts inside the real hub (issue 14): a home with a few
 * days of sensor events, written to the hub's own InfluxDB through the
 * reading path, gives a non-zero day rhythm and week trend in rhythm.json —
 * also for a busy home (a motion sensor in every room reports thousands of
 * events a day: Kasteren house C has up to 5,709), whose week once lost its
 * latest days to a cap on raw rows.
 */
import t from 'tap';
import { systemClock, VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { toLocalIso } from '../../core/time.js';
import type { Reading } from '../../core/events.js';
import { hashPassword } from '../../dashboards/passwords.js';
import { startHub } from '../../cli/hub.js';
import { testConfig, tempDir } from './helpers.js';
import { password, signIn } from '../dashboards/helpers.js';

const tz = 'Asia/Tokyo';
const local = (iso: string) => Date.parse(`${iso}+09:00`);

t.test('rhythm.json over the hub\'s InfluxDB: a home with data has non-zero charts', async (t) => {
  const clock = new VirtualClock(local('2026-11-21T12:00:00'));
  const hub = await startHub({ config: testConfig(tempDir(t), { flows: { enabled: false } }), logger: silentLogger(), clock });
  t.teardown(() => hub.close());
  const { store } = hub;
  await store.createHome({ id: 'h1', name: '山田家', timezone: tz });
  const family = await store.createAccount({ login: 'family1', name: 'Family', role: 'family', language: 'en', passwordHash: await hashPassword(password), createdAt: clock.now() });
  await store.linkAccount({ accountId: family.id, kind: 'home', targetId: 'h1' });
  await store.setConsent({ homeId: 'h1', viewerId: family.id, level: 'detailed', photos: false, updatedAt: clock.now(), updatedBy: family.id });

  // A busy week before: 3,500 motion events in the 13:00 hour of each of six days (21,000 in all) ...
  const busyDays = ['2026-11-15', '2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20'];
  for (const date of busyDays) {
    for (let i = 0; i < 3500; i++) {
      const at = local(`${date}T13:00:00`) + i * 1000;
      hub.history.writeReading({ home: 'h1', device: 'motion-hall', id: `b${date}-${i}`, ts: toLocalIso(at, tz), at, kind: 'motion', occupied: true, room: 'hall' });
    }
  }
  // ... and three days of a morning kettle and motion, as devices report them.
  const times = ['2026-11-19T07:10:00', '2026-11-19T07:40:00', '2026-11-20T07:05:00', '2026-11-21T07:12:00', '2026-11-21T07:30:00', '2026-11-21T10:15:00'];
  times.forEach((iso, i) => {
    const at = local(iso);
    const r: Reading = i % 2 === 0
      ? { home: 'h1', device: 'kettle', id: `k${i}`, ts: toLocalIso(at, tz), at, kind: 'kettle', state: 'on' }
      : { home: 'h1', device: 'motion-living', id: `m${i}`, ts: toLocalIso(at, tz), at, kind: 'motion', occupied: true, room: 'living' };
    hub.acceptReading(r);
  });
  await hub.history.flush();

  const session = await signIn({ web: hub.webApp!, totp: {}, clock: systemClock }, 'family1');
  const get = async (range: string) => {
    const res = await hub.webApp!.app.inject({ method: 'GET', url: `/homes/h1/rhythm.json?range=${range}`, headers: { cookie: session.cookie } });
    t.equal(res.statusCode, 200, res.body);
    return res.json() as { labels: string[]; values: number[]; summary: string };
  };
  const day = await get('day');
  t.same(day.values.map((v, h) => [h, v]).filter(([, v]) => (v ?? 0) > 0), [[7, 2], [10, 1], [13, 3500]], 'the last 24 hours: two events at 7, one at 10 and yesterday\'s busy 13:00 hour');
  t.equal(day.summary, '3503 events in the last 24 hours; the busiest hour was 13:00 (3500).');
  const week = await get('week');
  t.same(week.labels, ['11-15', '11-16', '11-17', '11-18', '11-19', '11-20', '11-21']);
  t.same(week.values, [3500, 3500, 3500, 3500, 3502, 3501, 3], 'the week: every event counted, today\'s three too');
});
