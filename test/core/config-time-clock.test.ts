import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../core/config.js';
import { MimamoriError } from '../../core/errors.js';
import { localTime, toLocalIso, parseClockTime, inWindow, formatClockTime, monthDayClock, offsetMinutes } from '../../core/time.js';
import { VirtualClock, ScaledClock, scheduleAt } from '../../core/clock.js';
import { newId, newSecret } from '../../core/ids.js';
import { tempDir } from '../support/wait.js';

t.test('config: defaults, file, environment, validation', async (t) => {
  const c = loadConfig({});
  t.equal(c.broker.tcpPort, 1883);
  t.equal(c.influx.database, 'mimamori');
  t.ok(c.dataDir.startsWith('/'), 'data dir is absolute');
  const file = join(tempDir(t), 'c.json');
  writeFileSync(file, JSON.stringify({ broker: { tcpPort: 1999 }, demo: { homes: 2 } }));
  const f = loadConfig({ MIMAMORI_CONFIG: file, MIMAMORI_DEMO_HOMES: '3' });
  t.equal(f.broker.tcpPort, 1999, 'file value');
  t.equal(f.broker.tlsPort, 8883, 'defaults kept beside file values');
  t.equal(f.demo.homes, 3, 'environment beats file');
  t.throws(() => loadConfig({ MIMAMORI_MQTT_PORT: 'abc' }), { code: 'MIMAMORI_ERR_CONFIG' });
  t.throws(() => loadConfig({ MIMAMORI_MQTT_PORT: '70000' }), /broker.tcpPort/);
  t.throws(() => loadConfig({ MIMAMORI_CONFIG: '/nonexistent.json' }), /cannot read/);
  const err = new MimamoriError('MIMAMORI_ERR_NOT_FOUND', 'alert x');
  t.equal(err.status, 404);
  t.match(err.message, /Not found: alert x/);
});

t.test('time in the home zone', async (t) => {
  const at = Date.parse('2026-11-20T22:30:00Z'); // 07:30 next day in Tokyo
  const l = localTime(at, 'Asia/Tokyo');
  t.equal(l.date, '2026-11-21');
  t.equal(l.minuteOfDay, 7 * 60 + 30);
  t.equal(l.weekday, 6, 'Saturday');
  t.equal(offsetMinutes(at, 'Asia/Tokyo'), 540);
  t.equal(toLocalIso(at, 'Asia/Tokyo'), '2026-11-21T07:30:00+09:00');
  t.equal(toLocalIso(at + 5, 'America/New_York'), '2026-11-20T17:30:00.005-05:00');
  t.equal(Date.parse(toLocalIso(at, 'Asia/Tokyo')), at, 'round trip');
  t.equal(parseClockTime('23:05'), 1385);
  t.throws(() => parseClockTime('24:00'));
  t.ok(inWindow(30, 1380, 300), 'window across midnight');
  t.notOk(inWindow(600, 1380, 300));
  t.ok(inWindow(600, 420, 1320));
  t.equal(formatClockTime(-5), '23:55');
  t.equal(monthDayClock(Date.parse('2026-12-06T09:05:00+09:00'), 'Asia/Tokyo'), '12/6 09:05', 'M/D HH:MM, no leading zero on the date');
  t.equal(monthDayClock(Date.parse('2026-12-31T15:30:00Z'), 'Asia/Tokyo'), '1/1 00:30', 'the local date, after midnight in Tokyo');
  t.equal(monthDayClock(Date.parse('2026-12-31T15:30:00Z'), 'America/New_York'), '12/31 10:30');
});

t.test('virtual clock runs due timers in order, scheduleAt chains long delays', async (t) => {
  const clock = new VirtualClock(1_000);
  const fired: number[] = [];
  clock.schedule(() => fired.push(clock.now()), 500);
  clock.schedule(() => fired.push(clock.now()), 100);
  const cancel = scheduleAt(clock, 1_000 + 40 * 24 * 3600_000, () => fired.push(clock.now()));
  clock.advanceBy(200);
  t.same(fired, [1_100]);
  t.equal(clock.now(), 1_200);
  clock.advanceTo(100); // never backwards
  t.equal(clock.now(), 1_200);
  clock.advanceBy(41 * 24 * 3600_000);
  t.same(fired, [1_100, 1_500, 1_000 + 40 * 24 * 3600_000], 'a 40-day timer fires on time');
  cancel();
  const c2 = new VirtualClock(0);
  let ran = false;
  const stop = scheduleAt(c2, 10, () => { ran = true; });
  stop();
  c2.advanceBy(20);
  t.notOk(ran, 'cancelled');
});

t.test('scaled clock speeds time up', async (t) => {
  const clock = new ScaledClock(0, 1000);
  const start = clock.now();
  await new Promise<void>((resolve) => clock.schedule(() => resolve(), 50_000)); // 50 s simulated = 50 ms real
  t.ok(clock.now() - start >= 45_000, 'simulated time advanced ~1000x');
});

t.test('ids', async (t) => {
  const a = newId(1000), b = newId(2000);
  t.equal(a.length, 26);
  t.ok(a < b, 'ids sort by time');
  const sameMs = Array.from({ length: 100 }, () => newId(5000));
  t.same([...sameMs].sort(), sameMs, 'ids of one millisecond sort in the order they were made (the store breaks ties by id)');
  t.not(newSecret(), newSecret());
});

t.test('logs redact personal data but keep the logger name', async (t) => {
  const { createLogger } = await import('../../core/logger.js');
  const lines: string[] = [];
  const logger = createLogger({ name: 'hub', destination: { write: (s: string) => { lines.push(s); } } });
  logger.info({ phone: '+819012345678', contact: { name: '山田 太郎', email: 'a@b.jp' }, address: '東京都', residentName: '花子', home: 'h1' }, 'sent');
  const line = lines.join('');
  t.notMatch(line, /819012345678|山田|a@b\.jp|東京都|花子/, 'no phone, name, e-mail or address in the log');
  t.match(line, /"name":"hub"/, "pino's own name field is kept");
  t.match(line, /"home":"h1"/, 'ids are kept');
});

t.test('scheduleEvery: months of virtual periods, then a clean stop', async (t) => {
  const { scheduleEvery } = await import('../../core/clock.js');
  const clock = new VirtualClock(0);
  let runs = 0;
  const stop = scheduleEvery(clock, 60_000, () => { runs++; });
  clock.advanceBy(90 * 24 * 3600_000); // 129,600 periods
  t.equal(runs, 129_600, 'every period ran once');
  t.doesNotThrow(() => stop(), 'stopping does not overflow the stack');
  clock.advanceBy(3600_000);
  t.equal(runs, 129_600, 'nothing runs after stop');
});
